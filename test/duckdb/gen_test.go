package duckcheck

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/manifest"
	"github.com/silt-io/silt/pkg/segment"
)

// The test history: analytics events of two projects ("7002" looks like a
// number to DuckDB's hive type guessing), several streams of skewed sizes
// and three days, every kind of value a segment holds.

var (
	genProjects = []string{"acme-web", "7002"}
	genDay0     = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	genDays     = 3
	// genStreams: name, events per day (0: none that day).
	genStreams = []struct {
		name   string
		perDay [3]int
	}{
		{"web/pageviews", [3]int{300, 420, 260}},
		{"web/clicks", [3]int{150, 0, 180}},
		{"mobile:ios", [3]int{90, 120, 70}},
		{"api.calls", [3]int{40, 60, 55}},
		{"billing_events", [3]int{0, 0, 12}},
	}
	genTypes     = []string{"page.view", "button.click", "search.query", "signup.completed", "checkout.completed", "cart.add", "achat.terminé", "購入.完了"}
	genSources   = []string{"web", "ios", "android", "api", "señal-bot"}
	genSubjects  = []string{"u_%d", "u_%d", "u_%d", "Zoë-%d", "用户-%d", "🙂-%d"}
	genPaths     = []string{"/", "/pricing", "/dashboard", "/docs/getting-started", "/search?q=caf%C3%A9", "/über-uns", "/商品/42"}
	genCountries = []string{"DE", "US", "FR", "JP", "BR", "IN"}
	genBrowsers  = []string{"firefox", "chrome", "safari", "edge"}
	genTitles    = []string{"Home", "Preise & Pläne", "Tableau de bord", "ダッシュボード", "Search \"quotes\" and \\slashes\\", "Emoji 🚀✨"}
	genCampaigns = []string{"spring-sale", "Frühling 🌸", "line\nbreak", "tab\there", "nul\x00byte"}
)

// payload is the JSON data of generated events (~200 bytes).
type payload struct {
	User     string  `json:"user"`
	Session  string  `json:"session"`
	Path     string  `json:"path"`
	Title    string  `json:"title"`
	Country  string  `json:"country"`
	Browser  string  `json:"browser"`
	Referrer string  `json:"referrer,omitempty"`
	MS       float64 `json:"ms"`
	Items    int     `json:"items"`
	OK       bool    `json:"ok"`
}

// genHistory returns the test history in (project, stream, seq) order.
func genHistory(seed uint64) []event.Event {
	r := rand.New(rand.NewPCG(seed, 7))
	var out []event.Event
	for _, p := range genProjects {
		for _, s := range genStreams {
			var seq uint64
			for d := range genDays {
				n := s.perDay[d]
				day := genDay0.AddDate(0, 0, d)
				for i := range n {
					seq++
					// Spread over the day with nanosecond digits; the first
					// and last events of a day sit on its boundaries.
					off := time.Duration(int64(i) * int64(24*time.Hour) / int64(n))
					off += time.Duration(r.Int64N(int64(24*time.Hour) / int64(n)))
					switch {
					case i == 0:
						off = 1
					case i == n-1:
						off = 24*time.Hour - 1
					}
					out = append(out, genEvent(r, p, s.name, seq, day.Add(off)))
				}
			}
		}
	}
	addOddities(out)
	return out
}

// genEvent makes one realistic analytics event.
func genEvent(r *rand.Rand, project, stream string, seq uint64, ingest time.Time) event.Event {
	user := r.IntN(5000)
	e := event.Event{
		Project:     project,
		Stream:      stream,
		Seq:         seq,
		ID:          ulid(ingest, r),
		Type:        genTypes[min(int(r.ExpFloat64()*2), len(genTypes)-1)],
		Source:      genSources[r.IntN(len(genSources))],
		Subject:     fmt.Sprintf(genSubjects[user%len(genSubjects)], user),
		IngestTime:  ingest,
		ContentType: event.ContentTypeJSON,
	}
	switch k := r.IntN(20); {
	case k == 0: // no time
	case k < 10: // client clock in milliseconds
		e.Time = ingest.Add(-time.Duration(r.IntN(3000)) * time.Millisecond).Truncate(time.Millisecond)
	default: // client clock in nanoseconds
		e.Time = ingest.Add(-time.Duration(r.Int64N(int64(3 * time.Second))))
	}
	if r.IntN(20) != 0 {
		e.Attributes = map[string]string{
			"org":  "org_" + strconv.Itoa(100+user%97),
			"plan": []string{"free", "pro", "team", "enterprise"}[user%4],
		}
		if r.IntN(4) == 0 {
			e.Attributes["utm_campaign"] = genCampaigns[r.IntN(len(genCampaigns))]
		}
		if r.IntN(10) == 0 {
			e.Attributes["ключ"] = "значение"
		}
	}
	ms := float64(r.IntN(40000)) / 4 // quarter milliseconds: sums are exact
	items := r.IntN(8)
	if r.IntN(20) != 0 {
		e.Metrics = map[string]float64{"duration_ms": ms, "items": float64(items)}
	}
	switch k := r.IntN(100); {
	case k < 2:
		e.ContentType = "application/octet-stream"
		e.Data = randomBytes(r, 64+r.IntN(192))
		return e
	case k < 3:
		e.ContentType = "application/x-protobuf"
		e.Data = randomBytes(r, 20+r.IntN(40))
		return e
	case k < 4:
		e.ContentType = "text/plain; charset=utf-8"
		e.Data = []byte("Grüße aus Köln — ログ行 " + strconv.Itoa(user))
		return e
	}
	p := payload{
		User:    "u_" + strconv.Itoa(user),
		Session: "s_" + strconv.FormatUint(r.Uint64()>>16, 36),
		Path:    genPaths[r.IntN(len(genPaths))],
		Title:   genTitles[r.IntN(len(genTitles))],
		Country: genCountries[user%len(genCountries)],
		Browser: genBrowsers[user%len(genBrowsers)],
		MS:      ms,
		Items:   items,
		OK:      r.IntN(20) != 0,
	}
	if r.IntN(3) == 0 {
		p.Referrer = "https://news.example.com/article/" + strconv.Itoa(r.IntN(1e6))
	}
	e.Data, _ = json.Marshal(p)
	return e
}

// addOddities turns a few events into edge cases a reader gets wrong most
// easily; events keep their position, so the history stays sorted.
func addOddities(events []event.Event) {
	pick := func(i int) *event.Event { return &events[i*len(events)/10] }
	// JSON content type, data not UTF-8: the segment holds it in data_binary.
	pick(1).Data = []byte{'{', 0xff, 0xfe, '}'}
	pick(1).ContentType = event.ContentTypeJSON
	// Empty payloads, JSON and binary.
	pick(2).ContentType, pick(2).Data, pick(2).Present = event.ContentTypeJSON, nil, event.PartPayload
	pick(3).ContentType, pick(3).Data, pick(3).Present = "application/octet-stream", []byte{}, event.PartPayload
	// Doubles that survive only bit for bit.
	pick(4).Metrics = map[string]float64{
		"neg_zero": math.Copysign(0, -1), "nan": math.NaN(), "inf": math.Inf(1), "-inf": math.Inf(-1),
		"max": math.MaxFloat64, "tiny": math.SmallestNonzeroFloat64, "third": 1.0 / 3,
	}
	// Times at the edges of what a segment holds.
	pick(5).Time = time.Date(1969, 7, 20, 20, 17, 40, 123456789, time.UTC)
	pick(6).Time = time.Date(2262, 1, 1, 0, 0, 0, 999, time.UTC)
	pick(7).Time = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	// Empty maps (not nil), long strings.
	pick(8).Attributes, pick(8).Metrics = map[string]string{}, map[string]float64{}
	pick(9).Subject = string(slices.Repeat([]byte("subject-ü-"), 300))
	pick(9).Attributes = map[string]string{"": "empty key", "long": string(slices.Repeat([]byte("x"), 5000))}
	// No source (null), an empty one; no subject, an empty one; no payload.
	for i, e := range events {
		switch i % 37 {
		case 3:
			e.Source = ""
		case 5:
			e.Source, e.Present = "", e.Present|event.PartSource
		case 7:
			e.Subject = ""
		case 11:
			e.Subject, e.Present = "", e.Present|event.PartSubject
		case 13:
			e.ContentType, e.Data = "", nil
		default:
			continue
		}
		events[i] = e
	}
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// ulid makes a ULID-shaped id: 48 bits of milliseconds, 80 random bits.
func ulid(t time.Time, r *rand.Rand) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var b [26]byte
	ms := uint64(t.UnixMilli())
	for i := 9; i >= 0; i-- {
		b[i] = alphabet[ms&31]
		ms >>= 5
	}
	hi, lo := r.Uint64()&(1<<16-1), r.Uint64()
	for i := 25; i >= 10; i-- {
		b[i] = alphabet[lo&31]
		lo = lo>>5 | (hi&31)<<59
		hi >>= 5
	}
	return string(b[:])
}

// segmentRowGroupRows is small so every segment has several row groups.
const segmentRowGroupRows = 64

// writeHistory writes events as one segment per (project, ingest day) at
// the manifest.Path layout under root, and returns the segments' Info by path.
func writeHistory(t *testing.T, root string, events []event.Event) map[string]segment.Info {
	t.Helper()
	type key struct {
		project string
		day     time.Time
	}
	groups := map[key][]event.Event{}
	for _, e := range events {
		k := key{e.Project, e.IngestTime.UTC().Truncate(24 * time.Hour)}
		groups[k] = append(groups[k], e)
	}
	keys := slices.SortedFunc(maps.Keys(groups), func(a, b key) int {
		return cmp.Or(cmp.Compare(a.project, b.project), a.day.Compare(b.day))
	})
	r := rand.New(rand.NewPCG(1, 2))
	infos := map[string]segment.Info{}
	for _, k := range keys {
		evs := groups[k]
		slices.SortFunc(evs, func(a, b event.Event) int {
			return cmp.Or(cmp.Compare(a.Stream, b.Stream), cmp.Compare(a.Seq, b.Seq))
		})
		id := ulid(k.day, r)
		path := filepath.Join(root, manifest.Path(k.project, k.day, id))
		infos[path] = writeSegment(t, path, evs, segment.WriterOptions{Project: k.project, RowGroupRows: segmentRowGroupRows})
	}
	return infos
}

// writeSegment writes events, sorted by (stream, seq), as one segment at
// path the way the rotator does (NewWriter, Append, Close) and returns its
// Info.
func writeSegment(t *testing.T, path string, events []event.Event, opts segment.WriterOptions) segment.Info {
	t.Helper()
	w, err := segment.NewWriter(path, opts)
	if err != nil {
		t.Fatalf("write segment %s: %v", path, err)
	}
	for i := range events {
		if err := w.Append(&events[i]); err != nil {
			_ = w.Abort()
			t.Fatalf("write segment %s: %v", path, err)
		}
	}
	info, err := w.Close(t.Context())
	if err != nil {
		t.Fatalf("write segment %s: %v", path, err)
	}
	return info
}
