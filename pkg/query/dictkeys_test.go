package query_test

import (
	"testing"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/query"
)

// TestQuery_GroupKeysOnDictionaryColumns groups by the dictionary-encoded
// columns, alone, together and with other keys' aggregates, over both
// tiers and a stream subset (whose scans need the stream names), with
// batches that split pages, against the row-by-row reference.
func TestQuery_GroupKeysOnDictionaryColumns(t *testing.T) {
	t.Parallel()
	tr := openTiers(t)
	evs := dataset(t, tr, project, streams, 6000)
	all := func(*event.Event) bool { return true }
	for _, br := range []int{0, 37} {
		eng := query.New(tr.hist, query.Options{BatchRows: br})
		for _, keys := range [][]string{{"source"}, {"content_type"}, {"stream"}, {"type", "source"}, {"stream", "type", "content_type", "source"}} {
			var gks []query.GroupKey
			for _, k := range keys {
				gks = append(gks, query.GroupKey{Field: field(t, k)})
			}
			for _, sc := range [][]string{nil, {"web-2", "api-1"}} {
				req := query.Request{Project: project, Streams: sc, GroupBy: gks,
					Aggregates: []query.Aggregate{{Func: query.AggCount}, {Func: query.AggCountDistinct, Field: fieldPtr(t, "subject")},
						{Func: query.AggPercentile, Percentile: 90, Field: fieldPtr(t, "metrics.duration")}, {Func: query.AggMin, Field: fieldPtr(t, "metrics.bytes")}}}
				pred := all
				if sc != nil {
					pred = func(e *event.Event) bool { return e.Stream == "web-2" || e.Stream == "api-1" }
				}
				checkAggregate(t, eng, evs, req, pred)
			}
		}
	}
}
