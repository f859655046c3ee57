package querytest

import (
	"time"

	"github.com/silt-io/silt/pkg/query"
)

// Query is one of issue 5's benchmark queries over the Analytics data set.
type Query struct {
	Name string
	Req  query.Request
}

// Queries are issue 5's six benchmark queries, in Project: count for one
// org in the last 24 h; counts by type over 7 days; p50/p95/p99 duration by
// hour for one org over 24 h; distinct users for one org over 30 days; the
// newest 1,000 events of one stream; data contains a needle within one
// stream. "Now" is End.
func Queries() []Query {
	day := 24 * time.Hour
	org := &query.Filter{Op: query.OpCompare, Field: query.Field{Kind: query.FieldAttribute, Key: "org"}, Cmp: query.Eq, Value: query.String("org-042")}
	dur := &query.Field{Kind: query.FieldMetric, Key: "duration"}
	qs := []Query{
		{"count-org-24h", query.Request{From: End.Add(-day), To: End, Filter: org, Aggregates: []query.Aggregate{{Func: query.AggCount}}}},
		{"by-type-7d", query.Request{From: End.Add(-7 * day), To: End, GroupBy: []query.GroupKey{{Field: query.Field{Kind: query.FieldType}}}, Aggregates: []query.Aggregate{{Func: query.AggCount}}}},
		{"percentiles-hourly-org-24h", query.Request{From: End.Add(-day), To: End, Filter: org,
			GroupBy:    []query.GroupKey{{Field: query.Field{Kind: query.FieldTime}, Bucket: &query.Bucket{Width: time.Hour}}},
			Aggregates: []query.Aggregate{{Func: query.AggPercentile, Percentile: 50, Field: dur}, {Func: query.AggPercentile, Percentile: 95, Field: dur}, {Func: query.AggPercentile, Percentile: 99, Field: dur}}}},
		{"distinct-users-org-30d", query.Request{From: End.Add(-30 * day), To: End, Filter: org,
			Aggregates: []query.Aggregate{{Func: query.AggCountDistinct, Field: &query.Field{Kind: query.FieldAttribute, Key: "user"}}}}},
		{"newest-1000-of-stream", query.Request{Streams: []string{"s-0042"}, Order: query.OrderSeqDesc, Limit: 1000}},
		{"needle-in-stream", query.Request{Streams: []string{"s-0042"}, Filter: &query.Filter{Op: query.OpContains, Field: query.Field{Kind: query.FieldData}, Value: query.String("a needle")},
			Aggregates: []query.Aggregate{{Func: query.AggCount}}}},
	}
	for i := range qs {
		qs[i].Req.Project = Project
	}
	return qs
}
