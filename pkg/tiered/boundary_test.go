package tiered

import (
	"errors"
	"testing"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/manifest"
	"github.com/silt-io/silt/pkg/query"
)

// TestBoundary_SealedSeqsMissing drops a rotated segment from the manifest
// (only a fault gets there: a lost file, a damaged manifest) and checks
// that Read and Query both fail with the sealed range missing, rather than
// serve only the hot events; a stream out of the query's scope keeps
// answering.
func TestBoundary_SealedSeqsMissing(t *testing.T) {
	t.Parallel()
	tr := openTiers(t, t.TempDir())
	ctx := t.Context()
	appendN(t, tr.hot, "p", "a", 1, 300, 100)
	if _, err := tr.hist.Rotate(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	appendN(t, tr.hot, "p", "a", 301, 50, 50)
	appendN(t, tr.hot, "p", "b", 1, 10, 10)
	count := func(streams ...string) (int64, error) {
		res, err := query.New(tr.hist, query.Options{}).Query(ctx, query.Request{Project: "p", Streams: streams,
			Aggregates: []query.Aggregate{{Func: query.AggCount}}})
		if err != nil {
			return 0, err
		}
		return res.Rows[0][0].Int, nil
	}
	if n, err := count(); err != nil || n != 360 {
		t.Fatalf("count before: %d, %v; want 360", n, err)
	}

	segs := tr.hist.Segments("p")
	if len(segs) != 1 {
		t.Fatalf("%d segments, want 1", len(segs))
	}
	if err := tr.hist.man.Apply(manifest.Edit{Remove: []string{segs[0].ID}}); err != nil {
		t.Fatal(err)
	}

	var lost *event.RangeError
	_, err := tr.hist.Read(ctx, event.ReadRequest{Project: "p", Stream: "a", FromSeq: 1, Limit: 10})
	if !errors.Is(err, event.ErrMissingHistory) || !errors.As(err, &lost) || lost.FirstSeq != 1 || lost.LastSeq != 300 {
		t.Fatalf("read: %v, want seqs 1..300 of the history tier missing", err)
	}
	if _, err := count(); !errors.Is(err, event.ErrMissingHistory) || !errors.As(err, &lost) || lost.LastSeq != 300 {
		t.Fatalf("query: %v, want seqs up to 300 of the history tier missing", err)
	}
	if n, err := count("b"); err != nil || n != 10 {
		t.Fatalf("query of the other stream: %d, %v; want 10", n, err)
	}
	res, err := tr.hist.Read(ctx, event.ReadRequest{Project: "p", Stream: "a", FromSeq: 301, Limit: 100})
	if err != nil || len(res.Events) != 50 {
		t.Fatalf("read of the hot seqs: %d events, %v; want 50", len(res.Events), err)
	}
}
