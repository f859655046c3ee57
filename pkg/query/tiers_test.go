package query_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/hot"
	"github.com/silt-io/silt/pkg/query"
	"github.com/silt-io/silt/pkg/record"
	"github.com/silt-io/silt/pkg/tiered"
)

var quietLog = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// tiers is a real hot store with a real history store over it.
type tiers struct {
	hot  *hot.Store
	hist *tiered.Store
}

func openTiers(t testing.TB) *tiers { return openTiersWith(t, 500) }

// openTiersB opens tiers with the segment writer's default row groups.
func openTiersB(b *testing.B) *tiers { return openTiersWith(b, 0) }

// openTiersWith opens tiers whose segments have rowGroupRows rows per
// row group (0: the writer's default).
func openTiersWith(t testing.TB, rowGroupRows int) *tiers {
	t.Helper()
	return openTiersIn(t, t.TempDir(), rowGroupRows)
}

// openTiersIn opens tiers in dir.
func openTiersIn(t testing.TB, dir string, rowGroupRows int) *tiers {
	t.Helper()
	hopts := hot.DefaultOptions(filepath.Join(dir, "hot"))
	hopts.Sync = false
	hopts.Logger = quietLog
	if os.Getenv("SILT_BENCH_QUERY_HOT_CACHE") == "off" {
		hopts.QueryCacheBytes = -1 // every query decompresses the blocks it reads
	}
	h, err := hot.Open(hopts)
	if err != nil {
		t.Fatal(err)
	}
	opts := tiered.Options{Root: filepath.Join(dir, "segments"), Hot: h, CheckEvery: -1, Logger: quietLog}
	opts.Writer.RowGroupRows = rowGroupRows
	hist, err := tiered.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = hist.Close(context.Background())
		_ = h.Close(context.Background())
	})
	return &tiers{hot: h, hist: hist}
}

// base is the end of the generated events' 30 days of event time.
var base = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

var (
	types   = []string{"page.view", "click", "signup", "purchase", "error"}
	plans   = []string{"free", "pro", "team"}
	statusV = []string{"200", "404", "500"}
)

// genEvent makes the i-th generated event of a data set: times spread over
// 30 days (some missing), attributes (some missing), metrics, JSON data
// (some binary).
func genEvent(r *rand.Rand, i int) event.Event {
	e := event.Event{
		ID:      fmt.Sprintf("e-%d", i),
		Type:    types[r.IntN(len(types))],
		Source:  fmt.Sprintf("svc-%d", r.IntN(3)),
		Subject: fmt.Sprintf("user-%d", r.IntN(200)),
		Attributes: map[string]string{
			"org":    fmt.Sprintf("org-%d", r.IntN(7)),
			"status": statusV[r.IntN(len(statusV))],
		},
		Metrics: map[string]float64{"duration": float64(r.IntN(100000)) / 100},
	}
	if r.IntN(10) != 0 {
		e.Time = base.Add(-time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
	}
	// Some without a source (null), some with an empty subject.
	switch i % 17 {
	case 5:
		e.Source = ""
	case 11:
		e.Subject, e.Present = "", event.PartSubject
	}
	if r.IntN(4) == 0 {
		e.Attributes["beta"] = "yes"
	}
	if r.IntN(5) == 0 {
		e.Metrics["bytes"] = float64(r.IntN(5000))
	}
	if r.IntN(20) == 0 {
		e.ContentType = "application/octet-stream"
		e.Data = []byte{0, 1, 2, byte(i)}
		return e
	}
	note := []string{"all good", "Needle in a haystack", "nothing here", "NEEDLE again"}[r.IntN(4)]
	e.Data = fmt.Appendf(nil, `{"user":{"id":%d,"plan":%q},"n":%d,"note":%q,"tags":["a","b%d"]}`,
		r.IntN(300), plans[r.IntN(len(plans))], i, note, r.IntN(3))
	return e
}

// dataset appends n generated events over streams in batches, rotating
// after each third of them so that the first two thirds are in segments
// and the rest stays hot. It returns the events as stored.
func dataset(t testing.TB, tr *tiers, project string, streams []string, n int) []event.Event {
	t.Helper()
	r := rand.New(rand.NewPCG(1, uint64(n)))
	ctx := context.Background()
	var out []event.Event
	for part := range 3 {
		for i := part * n / 3; i < (part+1)*n/3; {
			stream := streams[r.IntN(len(streams))]
			k := min(1+r.IntN(200), (part+1)*n/3-i)
			evs := make([]event.Event, k)
			for j := range evs {
				evs[j] = genEvent(r, i+j)
			}
			res, err := tr.hot.Append(ctx, event.AppendRequest{Project: project, Stream: stream, Events: record.Pack(evs...), AutoCreate: true})
			if err != nil {
				t.Fatal(err)
			}
			for j := range evs {
				e := evs[j]
				e.Project, e.Stream, e.Seq, e.IngestTime = project, stream, res.FirstSeq+uint64(j), res.IngestTime
				if e.ContentType == "" {
					e.ContentType = event.ContentTypeJSON
				}
				if e.Time.IsZero() { // stored without a time: read with its ingest time
					e.Time = e.IngestTime
				}
				out = append(out, e)
			}
			i += k
		}
		if part < 2 {
			if _, err := tr.hist.Rotate(ctx, project); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

// ref is an independent, row-by-row evaluation of query semantics over
// events, to check the engine against.

// refValue is the value of field f in e, and whether e has it.
func refValue(e *event.Event, f query.Field) (query.Value, bool) {
	switch f.Kind {
	case query.FieldStream:
		return query.String(e.Stream), true
	case query.FieldSeq:
		return query.Int(int64(e.Seq)), true
	case query.FieldID:
		return query.String(e.ID), true
	case query.FieldType:
		return query.String(e.Type), true
	case query.FieldSource:
		return query.String(e.Source), e.HasSource()
	case query.FieldSubject:
		return query.String(e.Subject), e.HasSubject()
	case query.FieldTime:
		if e.Time.IsZero() { // no time: the ingest time
			return query.TimeValue(e.IngestTime), true
		}
		return query.TimeValue(e.Time), true
	case query.FieldIngestTime:
		return query.TimeValue(e.IngestTime), true
	case query.FieldContentType:
		return query.String(e.ContentType), true
	case query.FieldAttribute:
		v, ok := e.Attributes[f.Key]
		return query.String(v), ok
	case query.FieldMetric:
		v, ok := e.Metrics[f.Key]
		return query.Float(v), ok
	case query.FieldData:
		if !e.IsJSON() {
			return query.Value{}, false
		}
		return query.String(string(e.Data)), true
	case query.FieldDataPath:
		return refPath(e, f.Key)
	}
	panic(fmt.Sprintf("field kind %d", f.Kind))
}

// refPath walks a simple $.a.b path with encoding/json (no brackets: the
// tests use none).
func refPath(e *event.Event, path string) (query.Value, bool) {
	if !e.IsJSON() {
		return query.Value{}, false
	}
	var v any
	if err := json.Unmarshal(e.Data, &v); err != nil {
		panic(err)
	}
	for _, step := range strings.Split(strings.TrimPrefix(path, "$."), ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return query.Value{}, false
		}
		if v, ok = m[step]; !ok {
			return query.Value{}, false
		}
	}
	switch x := v.(type) {
	case string:
		return query.String(x), true
	case float64:
		return query.Float(x), true
	case bool:
		return query.Bool(x), true
	}
	return query.Value{}, false
}

// refNumber is a field's value as a number, for numeric aggregates.
func refNumber(e *event.Event, f query.Field) (float64, bool) {
	v, ok := refValue(e, f)
	switch {
	case !ok:
		return 0, false
	case v.Type == query.TypeFloat:
		return v.F, true
	case v.Type == query.TypeInt:
		return float64(v.Int), true
	}
	return 0, false
}

// refKey is a canonical text of a value, for grouping and distinct counts.
func refKey(v query.Value, ok bool) string {
	if !ok {
		return "null"
	}
	switch v.Type {
	case query.TypeString:
		return "s" + v.Str
	case query.TypeFloat:
		return "f" + strconv.FormatFloat(v.F, 'g', -1, 64)
	case query.TypeInt:
		return "i" + strconv.FormatInt(v.Int, 10)
	case query.TypeTime:
		return "t" + strconv.FormatInt(v.Time.UnixNano(), 10)
	case query.TypeBool:
		return "b" + strconv.FormatBool(v.Bool)
	}
	return "?"
}
