package query_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/query"
)

// TestQuery_AggregationStateIsBounded: an aggregation whose exact state
// outgrows Options.MaxAggregateBytes answers from sketches (marked
// approximate, close to the exact answer) and one whose groups alone
// outgrow it fails with ResourceExhausted, instead of holding memory
// without a bound.
func TestQuery_AggregationStateIsBounded(t *testing.T) {
	t.Parallel()
	tr := openTiers(t)
	evs := dataset(t, tr, project, streams[:2], 3000)
	ctx := context.Background()
	distinct := query.Request{Project: project, Aggregates: []query.Aggregate{
		{Func: query.AggCountDistinct, Field: fieldPtr(t, "id")},
		{Func: query.AggPercentile, Percentile: 50, Field: fieldPtr(t, "seq")},
	}}

	exact, err := query.New(tr.hist, query.Options{}).Query(ctx, distinct)
	if err != nil {
		t.Fatal(err)
	}
	if n := exact.Rows[0][0].Int; n != int64(len(evs)) || exact.Columns[0].Approximate || exact.Columns[1].Approximate {
		t.Fatalf("with the default budget: %d distinct ids (approximate %v), want exactly %d", n, exact.Columns[0].Approximate, len(evs))
	}

	small := query.New(tr.hist, query.Options{MaxAggregateBytes: 64 << 10})
	approx, err := small.Query(ctx, distinct)
	if err != nil {
		t.Fatal(err)
	}
	if !approx.Columns[0].Approximate || !approx.Columns[1].Approximate {
		t.Fatalf("past a 64 KiB budget the columns are not marked approximate: %+v", approx.Columns)
	}
	if n := approx.Rows[0][0].Int; n < int64(len(evs))*97/100 || n > int64(len(evs))*103/100 {
		t.Errorf("approximate distinct ids %d, want within 3%% of %d", n, len(evs))
	}

	byID := query.Request{Project: project, GroupBy: []query.GroupKey{{Field: field(t, "id")}}, Aggregates: []query.Aggregate{{Func: query.AggCount}}}
	_, err = small.Query(ctx, byID)
	if !errors.Is(err, event.ErrResultTooLarge) || !strings.Contains(err.Error(), "64 KiB") {
		t.Fatalf("grouping %d ids within 64 KiB: %v, want ErrResultTooLarge naming the budget", len(evs), err)
	}
	if _, err := query.New(tr.hist, query.Options{}).Query(ctx, byID); err != nil {
		t.Fatalf("the same grouping within the default budget: %v", err)
	}
}
