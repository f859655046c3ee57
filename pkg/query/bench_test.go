package query_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"testing"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/query"
	"github.com/silt-io/silt/pkg/query/querytest"
)

// analytics builds the shared analytics data set (package querytest).
func analytics(b *testing.B, tr *tiers, n int) {
	b.Helper()
	if err := querytest.Analytics(context.Background(), tr.hot, tr.hist, querytest.Project, n, nil); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkQuery runs the six queries over SILT_BENCH_QUERY_EVENTS
// (default 1,000,000) analytics events, all in segments.
func BenchmarkQuery(b *testing.B) {
	n, err := querytest.Events(1_000_000)
	if err != nil {
		b.Fatal(err)
	}
	// SILT_BENCH_QUERY_DIR keeps the data set between runs (and lets an
	// external engine read the same segments): it is built when the
	// directory holds no hot tier yet.
	var tr *tiers
	if dir := os.Getenv("SILT_BENCH_QUERY_DIR"); dir != "" {
		_, err := os.Stat(filepath.Join(dir, "hot"))
		tr = openTiersIn(b, dir, 0)
		if os.IsNotExist(err) {
			analytics(b, tr, n)
		}
	} else {
		tr = openTiersB(b)
		analytics(b, tr, n)
	}
	eng := query.New(tr.hist, query.Options{})
	if p := os.Getenv("SILT_BENCH_QUERY_PROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	for _, tc := range querytest.Queries() {
		b.Run(tc.Name, func(b *testing.B) {
			var st query.Stats
			rows := 0
			cpu := query.CPUTime()
			for b.Loop() {
				res, err := eng.Query(context.Background(), tc.Req)
				if err != nil {
					b.Fatal(err)
				}
				st, rows = res.Stats, len(res.Rows)+len(res.Events)
			}
			b.ReportMetric(float64(rows), "result-rows")
			b.ReportMetric(float64((query.CPUTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(st.ColdRows), "cold-rows")
			b.ReportMetric(float64(st.RowGroups-st.RowGroupsPruned), "row-groups")
			b.ReportMetric(float64(st.ColdBytes)/(1<<20), "cold-MiB")
		})
	}
}

// BenchmarkQueryHot runs queries that touch only the hot tier: 100,000
// events in 100 streams, none rotated (issue 5's target: under 10 ms).
func BenchmarkQueryHot(b *testing.B) {
	tr := openTiersB(b)
	ctx := context.Background()
	for i := range 100 {
		evs := make([]event.Event, 1000)
		for j := range evs {
			evs[j] = event.Event{Type: []string{"a", "b", "c"}[j%3], Attributes: map[string]string{"org": []string{"x", "y"}[j%2]},
				Metrics: map[string]float64{"duration": float64(j)}, Data: []byte(`{"n":1}`)}
		}
		if _, err := tr.hot.Append(ctx, event.AppendRequest{Project: querytest.Project, Stream: fmt.Sprintf("h-%03d", i), Events: evs, AutoCreate: true}); err != nil {
			b.Fatal(err)
		}
	}
	eng := query.New(tr.hist, query.Options{})
	dur := &query.Field{Kind: query.FieldMetric, Key: "duration"}
	for _, tc := range []struct {
		name string
		req  query.Request
	}{
		{"one-stream-by-type-p99", query.Request{Streams: []string{"h-042"}, GroupBy: []query.GroupKey{{Field: query.Field{Kind: query.FieldType}}},
			Aggregates: []query.Aggregate{{Func: query.AggCount}, {Func: query.AggPercentile, Percentile: 99, Field: dur}}}},
		{"one-stream-newest-100", query.Request{Streams: []string{"h-042"}, Order: query.OrderSeqDesc, Limit: 100}},
		{"all-100k-by-type", query.Request{GroupBy: []query.GroupKey{{Field: query.Field{Kind: query.FieldType}}}, Aggregates: []query.Aggregate{{Func: query.AggCount}}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tc.req.Project = querytest.Project
			var st query.Stats
			for b.Loop() {
				res, err := eng.Query(ctx, tc.req)
				if err != nil {
					b.Fatal(err)
				}
				st = res.Stats
			}
			b.ReportMetric(float64(st.HotRows), "hot-rows")
		})
	}
}
