package query_test

import (
	"context"
	"errors"
	"testing"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/manifest"
	"github.com/silt-io/silt/pkg/query"
)

// lossySource is the history store with its segments lost: every View
// lists none, while the streams' extents still say their events were
// sealed. Only a fault like this (a deleted file, a damaged manifest) gets
// there.
type lossySource struct{ src query.Source }

func (l lossySource) View(ctx context.Context, fn func(query.View) error) error {
	return l.src.View(ctx, func(v query.View) error { return fn(lossyView{v}) })
}

type lossyView struct{ query.View }

func (lossyView) Segments(string) []*manifest.Segment { return nil }

// TestQuery_FailsWhenSealedEventsAreMissing checks that a query whose
// sealed events no segment holds fails, as Read does, rather than count
// only the hot ones.
func TestQuery_FailsWhenSealedEventsAreMissing(t *testing.T) {
	t.Parallel()
	tr := openTiers(t)
	ctx := t.Context()
	dataset(t, tr, project, []string{"a", "b"}, 300)
	if _, err := tr.hist.Rotate(ctx, project); err != nil {
		t.Fatal(err)
	}
	dataset(t, tr, project, []string{"a"}, 50) // and some hot ones
	req := query.Request{Project: project, Aggregates: []query.Aggregate{{Func: query.AggCount}}}
	res, err := query.New(tr.hist, query.Options{}).Query(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Rows[0][0].Int; n != 350 {
		t.Fatalf("count %d, want 350", n)
	}
	_, err = query.New(lossySource{tr.hist}, query.Options{}).Query(ctx, req)
	if !errors.Is(err, event.ErrMissingHistory) {
		t.Fatalf("query without its segments: %v, want the sealed events missing", err)
	}
}
