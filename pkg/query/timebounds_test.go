package query_test

import (
	"context"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/query"
	"github.com/silt-io/silt/pkg/record"
)

// appendN appends n events to stream with event times base+i minutes.
func appendN(t *testing.T, tr *tiers, stream string, n int, typ string) {
	t.Helper()
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = event.Event{Type: typ, Time: base.Add(time.Duration(i) * time.Minute), Data: []byte(`{"i":1}`),
			Attributes: map[string]string{"k": "v"}}
	}
	if _, err := tr.hot.Append(context.Background(), event.AppendRequest{Project: project, Stream: stream, Events: record.Pack(evs...), AutoCreate: true}); err != nil {
		t.Fatal(err)
	}
}

func countOf(t *testing.T, eng *query.Engine, req query.Request) int64 {
	t.Helper()
	req.Project = project
	req.Aggregates = []query.Aggregate{{Func: query.AggCount}}
	res, err := eng.Query(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return res.Rows[0][0].Int
}

// A time range may end far in the future (or start far in the past):
// every event with a time is in [1000-01-01, 3000-01-01).
func TestQuery_TimeRangeBeyondNanosecondRange(t *testing.T) {
	t.Parallel()
	tr := openTiers(t)
	appendN(t, tr, "a", 100, "x")
	if _, err := tr.hist.Rotate(context.Background(), project); err != nil {
		t.Fatal(err)
	}
	appendN(t, tr, "a", 10, "x")
	eng := query.New(tr.hist, query.Options{})
	for _, r := range []struct {
		name     string
		from, to time.Time
	}{
		{"end in 3000", time.Time{}, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"start in 1000", time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}},
		{"both", time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if n := countOf(t, eng, query.Request{From: r.from, To: r.to}); n != 110 {
			t.Errorf("%s: count %d, want 110", r.name, n)
		}
	}
}
