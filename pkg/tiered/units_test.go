package tiered

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/hot"
	"github.com/silt-io/silt/pkg/manifest"
)

// TestRotate_BoundedUnitsCommitIndependently: a backlog larger than
// UnitBytes rotates as several segments that each commit on their own, so
// a rotation stopped part way (a kill, a shutdown) keeps the units it
// finished and the next start carries on from there. A rotation used to be
// one segment per project and day, all or nothing.
func TestRotate_BoundedUnitsCommitIndependently(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const unit = 32 << 10
	withUnits := func(o *Options) { o.UnitBytes = unit }
	tr := openTiers(t, dir, withUnits)
	// Two streams, 600 appends of 5 events: about 150 bytes an event,
	// so about 450 KiB, 14 units.
	for i := range uint64(300) {
		appendN(t, tr.hot, "acme", "a", i*5+1, 5, 5)
		appendN(t, tr.hot, "acme", "b", i*5+1, 5, 5)
	}
	var x hot.Extent
	_ = tr.hot.View(t.Context(), func(sn *hot.Snapshot) (err error) {
		x, err = sn.Stream("acme", "a")
		return err
	})
	avg := float64(x.Bytes) / float64(x.Count)

	// Stop the rotation once two units have committed.
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		defer cancel()
		for len(tr.hist.Segments("acme")) < 2 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
	}()
	_, err := tr.hist.Rotate(ctx, "")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("rotation ended with %v, want it cancelled part way", err)
	}
	kept := len(tr.hist.Segments("acme"))
	if kept < 2 {
		t.Fatalf("%d segments committed before the stop, want at least 2", kept)
	}
	tr.close()

	tr = openTiers(t, dir, withUnits)
	if got := len(tr.hist.Segments("acme")); got != kept {
		t.Fatalf("%d segments after restart, want the %d committed before it", got, kept)
	}
	if _, err := tr.hist.Rotate(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	segs := tr.hist.Segments("acme")
	t.Logf("%d segments, %d committed before the stop", len(segs), kept)
	if len(segs) < 8 {
		t.Fatalf("%d segments, want the backlog cut into units of about %d bytes", len(segs), unit)
	}
	slices.SortFunc(segs, func(a, b manifest.Segment) int { return a.Info.MinIngestTime.Compare(b.Info.MinIngestTime) })
	last := map[string]uint64{}
	for i, seg := range segs {
		// One unit is at most UnitBytes, or one ingest instant's events.
		if est := float64(seg.Info.Rows) * avg; est > 1.5*unit && seg.Info.Rows > 10 {
			t.Errorf("segment %d holds %d events (about %.0f bytes), over the unit of %d", i, seg.Info.Rows, est, unit)
		}
		if i > 0 && !segs[i-1].Info.MaxIngestTime.Before(seg.Info.MinIngestTime) {
			t.Errorf("segments %d and %d overlap in ingest time", i-1, i)
		}
		// Ingest-time order is seq order for every stream, which compaction relies on.
		for _, r := range seg.Info.Streams {
			if r.FirstSeq != last[r.Stream]+1 {
				t.Errorf("segment %d starts %s at seq %d after %d", i, r.Stream, r.FirstSeq, last[r.Stream])
			}
			last[r.Stream] = r.LastSeq
		}
	}
	if last["a"] != 1500 || last["b"] != 1500 {
		t.Fatalf("segments end at %v, want 1500 for both streams", last)
	}
	if _, err := tr.hist.Compact(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"a", "b"} {
		got := readAll(t, tr.hist, "acme", s, 333, 0)
		if len(got) != 1500 {
			t.Fatalf("read %d events of %s, want 1500", len(got), s)
		}
		checkEvents(t, "acme", s, 1, got)
	}
}
