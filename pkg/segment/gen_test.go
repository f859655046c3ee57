package segment

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/silt-io/silt/pkg/event"
)

// The realistic event generator: analytics events of one project, ~200
// bytes each (a ~150-byte JSON payload, ~20 types, ~100 orgs, 10k users, a
// duration metric, server-made ULID ids), spread over streams of skewed sizes.

var (
	genTypes = []string{
		"page.view", "button.click", "search.query", "search.result", "signup.started", "signup.completed",
		"login", "logout", "checkout.started", "checkout.completed", "cart.add", "cart.remove",
		"invite.sent", "invite.accepted", "file.upload", "file.download", "api.call", "error.client",
		"feature.toggled", "settings.changed",
	}
	genSources   = []string{"web", "ios", "android", "api"}
	genPaths     = []string{"/", "/pricing", "/dashboard", "/dashboard/settings", "/docs/getting-started", "/billing", "/search", "/projects/new"}
	genPlans     = []string{"free", "pro", "team", "enterprise"}
	genCountries = []string{"DE", "US", "FR", "GB", "BR", "JP", "IN", "NL"}
	genBrowsers  = []string{"firefox", "chrome", "safari", "edge"}
)

// genT0 is when generated events start.
var genT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// generator makes events of streams named "stream-000" … in (stream, seq) order.
type generator struct {
	r       *rand.Rand
	counts  []int
	stream  int
	seq     uint64
	ingest  int64
	step    int64
	names   []string
	scratch []byte
}

// newGenerator spreads n events over streams of skewed sizes (stream i
// gets a share proportional to 1/(i+1)), each stream's ingest times
// spanning the same hour.
func newGenerator(seed uint64, n, streams int) *generator {
	g := &generator{r: rand.New(rand.NewPCG(seed, 42))}
	var sum float64
	for i := range streams {
		sum += 1 / float64(i+1)
	}
	left := n
	for i := range streams {
		c := int(float64(n) / float64(i+1) / sum)
		if i == streams-1 || c > left {
			c = left
		}
		c = max(c, min(1, left))
		g.counts = append(g.counts, c)
		g.names = append(g.names, fmt.Sprintf("stream-%03d", i))
		left -= c
	}
	g.start(0)
	return g
}

// start begins stream i.
func (g *generator) start(i int) {
	g.stream, g.seq = i, 0
	g.ingest = genT0.UnixNano()
	if i < len(g.counts) && g.counts[i] > 0 {
		g.step = int64(time.Hour) / int64(g.counts[i])
	}
}

// next fills e with the next event and reports false when all were made.
// e's maps are replaced, never reused.
func (g *generator) next(e *event.Event) bool {
	for g.stream < len(g.counts) && int(g.seq) >= g.counts[g.stream] {
		g.start(g.stream + 1)
	}
	if g.stream >= len(g.counts) {
		return false
	}
	g.seq++
	r := g.r
	// Group commits: about one in eight events starts a new commit time.
	if g.seq == 1 || r.IntN(8) == 0 {
		g.ingest += r.Int64N(2*g.step*8 + 1)
	}
	ingest := time.Unix(0, g.ingest).UTC()
	user := r.IntN(10_000)
	org := user % 97
	typ := genTypes[min(int(r.ExpFloat64()*4), len(genTypes)-1)]
	ms := math.Round(r.ExpFloat64()*800) / 10
	*e = event.Event{
		Stream:      g.names[g.stream],
		Seq:         g.seq,
		ID:          ulid(ingest, r),
		Type:        typ,
		Source:      genSources[r.IntN(len(genSources))],
		Subject:     "u_" + strconv.Itoa(100000+user),
		IngestTime:  ingest,
		ContentType: event.ContentTypeJSON,
		Attributes: map[string]string{
			"org":  "org_" + strconv.Itoa(100+org),
			"user": "u_" + strconv.Itoa(100000+user),
			"plan": genPlans[org%len(genPlans)],
		},
		Metrics: map[string]float64{"duration_ms": ms},
	}
	if r.IntN(20) != 0 {
		e.Time = ingest.Add(-time.Duration(r.IntN(3000)) * time.Millisecond).Truncate(time.Millisecond)
	}
	if r.IntN(100) == 0 {
		e.ContentType = "application/octet-stream"
		e.Data = make([]byte, 64+r.IntN(64))
		for i := range e.Data {
			e.Data[i] = byte(r.Uint32())
		}
		return true
	}
	b := g.scratch[:0]
	b = append(b, `{"user":"u_`...)
	b = strconv.AppendInt(b, int64(100000+user), 10)
	b = append(b, `","session":"s_`...)
	b = strconv.AppendUint(b, uint64(r.Uint32()>>8), 16)
	b = append(b, `","path":"`...)
	b = append(b, genPaths[r.IntN(len(genPaths))]...)
	b = append(b, `","country":"`...)
	b = append(b, genCountries[(user/7)%len(genCountries)]...)
	b = append(b, `","browser":"`...)
	b = append(b, genBrowsers[(user/3)%len(genBrowsers)]...)
	b = append(b, `","ms":`...)
	b = strconv.AppendFloat(b, ms, 'f', -1, 64)
	b = append(b, `,"items":`...)
	b = strconv.AppendInt(b, int64(r.IntN(8)), 10)
	b = append(b, `,"ok":`...)
	b = strconv.AppendBool(b, r.IntN(20) != 0)
	b = append(b, '}')
	g.scratch = b
	e.Data = append([]byte(nil), b...)
	return true
}

// genEvents returns n generated events over the given number of streams.
func genEvents(seed uint64, n, streams int) []event.Event {
	g := newGenerator(seed, n, streams)
	out := make([]event.Event, 0, n)
	var e event.Event
	for g.next(&e) {
		out = append(out, e)
	}
	return out
}

// ulid makes a ULID-shaped id: 48 bits of milliseconds and 80 random bits
// in Crockford base32.
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
