package tiered

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/hot"
)

// settableClock is a history clock the test moves.
type settableClock struct{ ns atomic.Int64 }

func (c *settableClock) Now() time.Time  { return time.Unix(0, c.ns.Load()) }
func (c *settableClock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }
func (c *settableClock) Use(o *Options)  { c.Set(time.Now()); o.Now = c.Now }
func extentOf(t *testing.T, tr *tiers, project, stream string) hot.Extent {
	t.Helper()
	var x hot.Extent
	if err := tr.hot.View(context.Background(), func(sn *hot.Snapshot) (err error) {
		x, err = sn.Stream(project, stream)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return x
}

// requireOutOfRange fails unless reading from seq is OutOfRange naming first.
func requireOutOfRange(t *testing.T, s *Store, project, stream string, from, first uint64) {
	t.Helper()
	_, err := s.Read(context.Background(), event.ReadRequest{Project: project, Stream: stream, FromSeq: from, Limit: 10})
	var ce *event.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, event.ErrOutOfRange) || ce.Expected != first {
		t.Fatalf("read from %d: %v, want out of range naming first seq %d", from, err, first)
	}
}

func TestRetention_MaxAgeExpiresBothTiers(t *testing.T) {
	t.Parallel()
	clock := &settableClock{}
	tr := openTiers(t, t.TempDir(), clock.Use)
	ctx := context.Background()
	if _, err := tr.hot.CreateStream(ctx, "acme", "s", event.StreamSettings{RetentionMaxAge: time.Hour}); err != nil {
		t.Fatal(err)
	}
	appendN(t, tr.hot, "acme", "s", 1, 100, 25) // old: rotated below
	if _, err := tr.hist.Rotate(ctx, ""); err != nil {
		t.Fatal(err)
	}
	appendN(t, tr.hot, "acme", "s", 101, 30, 10) // old too, still hot
	time.Sleep(20 * time.Millisecond)
	split := time.Now()
	time.Sleep(20 * time.Millisecond)
	appendN(t, tr.hot, "acme", "s", 131, 20, 10) // young

	clock.Set(split.Add(time.Hour))
	if err := tr.hist.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	x := extentOf(t, tr, "acme", "s")
	if x.FirstSeq != 131 || x.Count != 20 || x.LastSeq != 150 {
		t.Fatalf("after retention: first %d, count %d, last %d; want 131, 20, 150", x.FirstSeq, x.Count, x.LastSeq)
	}
	if segs := tr.hist.Segments("acme"); len(segs) != 0 {
		t.Fatalf("expired segment kept: %+v", segs)
	}
	requireOutOfRange(t, tr.hist, "acme", "s", 2, 131)
	requireOutOfRange(t, tr.hist, "acme", "s", 130, 131)
	res, err := tr.hist.Read(ctx, event.ReadRequest{Project: "acme", Stream: "s", FromSeq: 0, Limit: 100})
	if err != nil || len(res.Events) != 20 || res.Events[0].Seq != 131 {
		t.Fatalf("read from the start: %d events from %v, %v", len(res.Events), res.Events, err)
	}
	checkEvents(t, "acme", "s", 131, res.Events)
	// Expired hot blocks go in the background; rotation then seals only
	// retained events.
	segs, err := tr.hist.Rotate(ctx, "")
	if err != nil || len(segs) != 1 || segs[0].Info.Rows != 20 {
		t.Fatalf("rotation after retention: %+v %v", segs, err)
	}
	checkEvents(t, "acme", "s", 131, readAll131(t, tr.hist))
}

func readAll131(t *testing.T, s *Store) []event.Event {
	t.Helper()
	res, err := s.Read(context.Background(), event.ReadRequest{Project: "acme", Stream: "s", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return res.Events
}

func TestRetention_MaxBytesDropsAndRewritesSegments(t *testing.T) {
	t.Parallel()
	tr := openTiers(t, t.TempDir())
	ctx := context.Background()
	if _, err := tr.hot.CreateStream(ctx, "acme", "s", event.StreamSettings{}); err != nil {
		t.Fatal(err)
	}
	for i := range uint64(3) {
		appendN(t, tr.hot, "acme", "s", i*100+1, 100, 50)
		if _, err := tr.hist.Rotate(ctx, ""); err != nil {
			t.Fatal(err)
		}
	}
	x := extentOf(t, tr, "acme", "s")
	// Keep about 130 events' worth: seqs 1..170 expire, the first segment
	// goes and the second (70% expired) is rewritten.
	keep := x.Bytes * 130 / 300
	if _, err := tr.hot.UpdateStream(ctx, "acme", "s", event.StreamSettings{RetentionMaxBytes: keep}); err != nil {
		t.Fatal(err)
	}
	if err := tr.hist.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	x = extentOf(t, tr, "acme", "s")
	if x.FirstSeq < 170 || x.FirstSeq > 172 || x.Bytes > keep {
		t.Fatalf("first seq %d, bytes %d (limit %d); want about 171 and within the limit", x.FirstSeq, x.Bytes, keep)
	}
	segs := tr.hist.Segments("acme")
	if len(segs) != 2 {
		t.Fatalf("%d segments after retention, want 2 (one rewritten, one untouched)", len(segs))
	}
	var rows int64
	for _, sg := range segs {
		rows += sg.Info.Rows
	}
	if want := int64(300 - x.FirstSeq + 1); rows != want {
		t.Fatalf("segments hold %d rows, want %d", rows, want)
	}
	requireOutOfRange(t, tr.hist, "acme", "s", 100, x.FirstSeq)
	res, err := tr.hist.Read(ctx, event.ReadRequest{Project: "acme", Stream: "s", FromSeq: x.FirstSeq, Limit: 1000})
	if err != nil || uint64(len(res.Events)) != 301-x.FirstSeq {
		t.Fatalf("read retained events: %d, %v", len(res.Events), err)
	}
	checkEvents(t, "acme", "s", x.FirstSeq, res.Events)
}

func TestRetention_ProjectMaxBytesDropsOldestSegments(t *testing.T) {
	t.Parallel()
	tr := openTiers(t, t.TempDir(), func(o *Options) {
		o.ProjectRetention = map[string]Retention{"acme": {MaxBytes: 1}} // filled below
	})
	ctx := context.Background()
	for i := range uint64(3) {
		appendN(t, tr.hot, "acme", "a", i*50+1, 50, 50)
		appendN(t, tr.hot, "acme", "b", i*50+1, 50, 50)
		appendN(t, tr.hot, "other", "a", i*50+1, 50, 50)
		if _, err := tr.hist.Rotate(ctx, ""); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	a, b := extentOf(t, tr, "acme", "a"), extentOf(t, tr, "acme", "b")
	// Room for a bit more than the newest of three rotations.
	tr.hist.opts.ProjectRetention["acme"] = Retention{MaxBytes: (a.Bytes + b.Bytes) * 4 / 10}
	if err := tr.hist.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"a", "b"} {
		if x := extentOf(t, tr, "acme", s); x.FirstSeq != 101 {
			t.Fatalf("acme/%s first seq %d, want 101 (two oldest segments dropped)", s, x.FirstSeq)
		}
	}
	if segs := tr.hist.Segments("acme"); len(segs) != 1 {
		t.Fatalf("acme keeps %d segments, want 1", len(segs))
	}
	if x := extentOf(t, tr, "other", "a"); x.FirstSeq != 1 || len(tr.hist.Segments("other")) != 3 {
		t.Fatalf("another project lost data: first seq %d", x.FirstSeq)
	}
	checkEvents(t, "acme", "b", 101, readAll(t, tr.hist, "acme", "b", 7, 0))
}
