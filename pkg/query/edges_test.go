package query_test

// Probes written in review that PASS: regression coverage for paths the
// review suspected (recreated streams, retention inside a segment, DST
// calendar buckets, far time bounds in a filter).

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/hot"
	"github.com/silt-io/silt/pkg/query"
	"github.com/silt-io/silt/pkg/record"
)

// extent returns a stream's extent from a hot snapshot.
func extent(t *testing.T, tr *tiers, stream string) hot.Extent {
	t.Helper()
	var x hot.Extent
	err := tr.hot.View(context.Background(), func(sn *hot.Snapshot) error {
		var err error
		x, err = sn.Stream(project, stream)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// A stream deleted and created again must not see its old incarnation's
// segments, through every read path (whole segment, row scan, seeks,
// one-stream listings).
func TestQuery_RecreatedStreamAcrossPaths(t *testing.T) {
	t.Parallel()
	tr := openTiers(t)
	ctx := context.Background()
	for i := range 24 {
		appendN(t, tr, fmt.Sprintf("s-%02d", i), 200, "old")
	}
	if _, err := tr.hist.Rotate(ctx, project); err != nil {
		t.Fatal(err)
	}
	if err := tr.hot.DeleteStream(ctx, project, "s-07"); err != nil {
		t.Fatal(err)
	}
	appendN(t, tr, "s-07", 30, "new")
	if _, err := tr.hist.Rotate(ctx, project); err != nil {
		t.Fatal(err)
	}
	appendN(t, tr, "s-07", 5, "new")
	eng := query.New(tr.hist, query.Options{})
	if n := countOf(t, eng, query.Request{Streams: []string{"s-07"}}); n != 35 {
		t.Errorf("count of s-07: %d, want 35", n)
	}
	if n := countOf(t, eng, query.Request{}); n != 23*200+35 {
		t.Errorf("count of all: %d, want %d", n, 23*200+35)
	}
	for _, order := range []query.Order{query.OrderSeqAsc, query.OrderSeqDesc, query.OrderTimeAsc} {
		res, err := eng.Query(ctx, query.Request{Project: project, Streams: []string{"s-07"}, Order: order, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Events) != 35 {
			t.Errorf("order %d: %d events, want 35", order, len(res.Events))
		}
		for _, e := range res.Events {
			if e.Type != "new" {
				t.Fatalf("order %d: event %d of the old incarnation", order, e.Seq)
			}
		}
	}
}

// Retention moves a stream's first seq into a segment: the expired events
// are not counted by any path.
func TestQuery_RetentionFirstSeqInsideSegment(t *testing.T) {
	t.Parallel()
	tr := openTiers(t)
	ctx := context.Background()
	for i := range 24 {
		appendN(t, tr, fmt.Sprintf("s-%02d", i), 200, "x")
	}
	if _, err := tr.hist.Rotate(ctx, project); err != nil {
		t.Fatal(err)
	}
	appendN(t, tr, "s-07", 20, "x")
	x := extent(t, tr, "s-07")
	if err := tr.hot.Retain(ctx, []hot.Retain{{Project: project, Stream: "s-07", ID: x.ID, FirstSeq: 151}}); err != nil {
		t.Fatal(err)
	}
	eng := query.New(tr.hist, query.Options{})
	if n := countOf(t, eng, query.Request{Streams: []string{"s-07"}}); n != 70 {
		t.Errorf("count of s-07: %d, want 70", n)
	}
	if n := countOf(t, eng, query.Request{}); n != 23*200+70 {
		t.Errorf("count of all: %d, want %d", n, 23*200+70)
	}
	for _, order := range []query.Order{query.OrderSeqAsc, query.OrderSeqDesc} {
		var got []uint64
		tok := ""
		for range 100 {
			res, err := eng.Query(ctx, query.Request{Project: project, Streams: []string{"s-07"}, Order: order, Limit: 16, PageToken: tok})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range res.Events {
				got = append(got, e.Seq)
			}
			if tok = res.NextPageToken; tok == "" {
				break
			}
		}
		if len(got) != 70 {
			t.Errorf("order %d: %d events over all pages, want 70: %v", order, len(got), got)
		}
	}
}

// Calendar days in a zone with DST: bucket keys are local midnights and a
// rate divides by the day's real length (23 h on the spring-forward day).
func TestQuery_CalendarDayAcrossDST(t *testing.T) {
	t.Parallel()
	tr := openTiers(t)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	var evs []event.Event
	// One event per hour from 2026-03-07 00:00 to 2026-03-10 00:00 local.
	for u := time.Date(2026, 3, 7, 0, 0, 0, 0, ny); u.Before(time.Date(2026, 3, 10, 0, 0, 0, 0, ny)); u = u.Add(time.Hour) {
		evs = append(evs, event.Event{Type: "x", Time: u, Data: []byte(`{}`)})
	}
	if _, err := tr.hot.Append(context.Background(), event.AppendRequest{Project: project, Stream: "a", Events: record.Pack(evs...), AutoCreate: true}); err != nil {
		t.Fatal(err)
	}
	eng := query.New(tr.hist, query.Options{})
	res, err := eng.Query(context.Background(), query.Request{Project: project,
		GroupBy:    []query.GroupKey{{Field: query.Field{Kind: query.FieldTime}, Bucket: &query.Bucket{Unit: query.CalendarDay, Zone: ny}}},
		Aggregates: []query.Aggregate{{Func: query.AggCount}, {Func: query.AggRate}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		day   int
		count int64
	}{{7, 24}, {8, 23}, {9, 24}}
	if len(res.Rows) != len(want) {
		t.Fatalf("%d rows, want %d: %v", len(res.Rows), len(want), res.Rows)
	}
	for i, w := range want {
		r := res.Rows[i]
		start := time.Date(2026, 3, w.day, 0, 0, 0, 0, ny)
		if !r[0].Time.Equal(start) || r[1].Int != w.count || r[2].F != float64(w.count)/float64(w.count*3600) {
			t.Errorf("row %d: %v %v %v, want %v %d %v", i, r[0].Time.In(ny), r[1].Int, r[2].F, start, w.count, 1/3600.0)
		}
	}
}

// The same far bounds as a filter on time: time < 3000-01-01 holds for
// every event with a time.
func TestQuery_TimeFilterBeyondNanosecondRange(t *testing.T) {
	t.Parallel()
	tr := openTiers(t)
	appendN(t, tr, "a", 10, "x")
	eng := query.New(tr.hist, query.Options{})
	far := query.TimeValue(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC))
	n := countOf(t, eng, query.Request{Filter: &query.Filter{Op: query.OpCompare, Field: query.Field{Kind: query.FieldTime}, Cmp: query.Lt, Value: far}})
	if n != 10 {
		t.Errorf("time < 3000-01-01: count %d, want 10", n)
	}
}
