package tiered

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/silt-io/silt/pkg/event"
)

func TestCompact_MergesSmallSegmentsOfADay(t *testing.T) {
	t.Parallel()
	tr := openTiers(t, t.TempDir())
	ctx := context.Background()
	var paths []string
	for i := range uint64(5) {
		appendN(t, tr.hot, "acme", "a", i*40+1, 40, 9)
		appendN(t, tr.hot, "acme", "b", i*10+1, 10, 10)
		segs, err := tr.hist.Rotate(ctx, "")
		if err != nil || len(segs) != 1 {
			t.Fatalf("rotation %d: %v %v", i, segs, err)
		}
		paths = append(paths, segs[0].Path)
	}
	appendN(t, tr.hot, "beta", "x", 1, 5, 5)
	if _, err := tr.hist.Rotate(ctx, "beta"); err != nil {
		t.Fatal(err)
	}
	merged, err := tr.hist.Compact(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(merged) != 1 || merged[0].Info.Rows != 250 || len(merged[0].Info.Streams) != 2 {
		t.Fatalf("compaction wrote %+v, want one segment of 250 rows in 2 streams", merged)
	}
	if segs := tr.hist.Segments("acme"); len(segs) != 1 || segs[0].ID != merged[0].ID {
		t.Fatalf("acme segments after compaction: %+v", segs)
	}
	if segs := tr.hist.Segments("beta"); len(segs) != 1 {
		t.Fatalf("beta's lone segment was touched: %+v", segs)
	}
	for _, p := range paths {
		if _, err := os.Stat(filepath.Join(tr.dir, "segments", p)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("merged part %s still on disk: %v", p, err)
		}
	}
	a := readAll(t, tr.hist, "acme", "a", 33, 0)
	if len(a) != 200 {
		t.Fatalf("read %d events of a, want 200", len(a))
	}
	checkEvents(t, "acme", "a", 1, a)
	checkEvents(t, "acme", "b", 1, readAll(t, tr.hist, "acme", "b", 1000, 0))
	if again, err := tr.hist.Compact(ctx, ""); err != nil || len(again) != 0 {
		t.Fatalf("second compaction: %v %v", again, err)
	}
}

func TestCompact_ReaderOfAnOldVersionKeepsItsFiles(t *testing.T) {
	t.Parallel()
	tr := openTiers(t, t.TempDir())
	ctx := context.Background()
	for i := range uint64(3) {
		appendN(t, tr.hot, "acme", "s", i*20+1, 20, 20)
		if _, err := tr.hist.Rotate(ctx, ""); err != nil {
			t.Fatal(err)
		}
	}
	old := tr.hist.man.Acquire()
	if _, err := tr.hist.Compact(ctx, ""); err != nil {
		old.Release()
		t.Fatal(err)
	}
	// The old Version still lists the parts; their files are still there
	// and readable until it is released.
	hits := old.Find("acme", "s", 1, 1)
	if len(hits) != 3 {
		t.Fatalf("old version finds %d parts", len(hits))
	}
	for _, h := range hits {
		r, err := tr.hist.readers.get(h.Segment)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := r.Read(ctx, "s", h.Range.FirstSeq, 100, 0)
		if err != nil || len(evs) != 20 {
			t.Fatalf("read part %s of the old version: %d events, %v", h.Segment.ID, len(evs), err)
		}
		checkEvents(t, "acme", "s", h.Range.FirstSeq, evs)
	}
	path := filepath.Join(tr.dir, "segments", hits[0].Segment.Path)
	old.Release()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("part %s outlived the last version listing it: %v", path, err)
	}
}

func TestCompact_DropsHistoryOfDeletedStreams(t *testing.T) {
	t.Parallel()
	tr := openTiers(t, t.TempDir())
	ctx := context.Background()
	appendN(t, tr.hot, "acme", "gone", 1, 30, 30)
	appendN(t, tr.hot, "acme", "kept", 1, 30, 30)
	if _, err := tr.hist.Rotate(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if err := tr.hot.DeleteStream(ctx, "acme", "gone"); err != nil {
		t.Fatal(err)
	}
	appendN(t, tr.hot, "acme", "gone", 1, 5, 5) // a new incarnation
	appendN(t, tr.hot, "acme", "kept", 31, 5, 5)
	if _, err := tr.hist.Rotate(ctx, ""); err != nil {
		t.Fatal(err)
	}
	merged, err := tr.hist.Compact(ctx, "")
	if err != nil || len(merged) != 1 {
		t.Fatalf("compact: %v %v", merged, err)
	}
	r, ok := merged[0].Info.Stream("gone")
	if !ok || r.Count != 5 || merged[0].Info.Rows != 40 {
		t.Fatalf("merged segment holds %d rows, gone=%+v; want 40 rows and only the new incarnation's 5", merged[0].Info.Rows, r)
	}
	res, err := tr.hist.Read(ctx, event.ReadRequest{Project: "acme", Stream: "gone", Limit: 100})
	if err != nil || len(res.Events) != 5 {
		t.Fatalf("new incarnation reads %d events: %v", len(res.Events), err)
	}
	checkEvents(t, "acme", "kept", 1, readAll(t, tr.hist, "acme", "kept", 8, 0))
}

// Two small segments with a large one between them in seq order must not
// merge: the result's seq range would straddle the large one's.
func TestCompact_MergesOnlyNeighbours(t *testing.T) {
	t.Parallel()
	tr := openTiers(t, t.TempDir(), func(o *Options) {
		o.Writer.RowGroupRows = 0
		o.CompactTargetBytes = 50_000 // the middle segment is large
	})
	ctx := context.Background()
	for i, n := range []uint64{100, 20000, 100} {
		from := []uint64{1, 101, 20101}[i]
		appendN(t, tr.hot, "acme", "s", from, n, 1000)
		if _, err := tr.hist.Rotate(ctx, ""); err != nil {
			t.Fatal(err)
		}
	}
	segs := tr.hist.Segments("acme")
	if len(segs) != 3 || segs[1].Info.Bytes < 50_000 || segs[0].Info.Bytes >= 50_000 || segs[2].Info.Bytes >= 50_000 {
		t.Fatalf("setup: want a small, a large and a small segment, got sizes %d, %d, %d",
			segs[0].Info.Bytes, segs[1].Info.Bytes, segs[2].Info.Bytes)
	}
	merged, err := tr.hist.Compact(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(merged) != 0 {
		t.Fatalf("merged %+v across a larger neighbour", merged)
	}
	// Two more small ones after the last: those three neighbours merge.
	appendN(t, tr.hot, "acme", "s", 20201, 100, 100)
	if _, err := tr.hist.Rotate(ctx, ""); err != nil {
		t.Fatal(err)
	}
	appendN(t, tr.hot, "acme", "s", 20301, 100, 100)
	if _, err := tr.hist.Rotate(ctx, ""); err != nil {
		t.Fatal(err)
	}
	merged, err = tr.hist.Compact(ctx, "")
	if err != nil || len(merged) != 1 {
		t.Fatalf("compact: %+v %v", merged, err)
	}
	if r, _ := merged[0].Info.Stream("s"); r.FirstSeq != 20101 || r.LastSeq != 20400 {
		t.Fatalf("merged range %d..%d, want 20101..20400", r.FirstSeq, r.LastSeq)
	}
	checkEvents(t, "acme", "s", 1, readAll(t, tr.hist, "acme", "s", 5000, 0))
}
