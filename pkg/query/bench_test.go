package query_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/query"
	"github.com/silt-io/silt/pkg/query/querytest"
	"github.com/silt-io/silt/pkg/record"
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

// BenchmarkQueryHot runs the six queries over 100,000 analytics
// events (SILT_BENCH_QUERY_HOT_EVENTS) that are all in the hot tier, none
// rotated: issue 5's target is under 10 ms for a query that touches only
// the hot tier. SILT_BENCH_QUERY_HOT_CACHE=off turns the hot tier's cache
// of decompressed blocks off, as for the first query over new events.
func BenchmarkQueryHot(b *testing.B) {
	n := 100_000
	if v := os.Getenv("SILT_BENCH_QUERY_HOT_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	tr := openTiersB(b)
	ctx := context.Background()
	if err := querytest.AnalyticsHot(ctx, tr.hot, querytest.Project, n); err != nil {
		b.Fatal(err)
	}
	eng := query.New(tr.hist, query.Options{})
	for _, tc := range querytest.Queries() {
		b.Run(tc.Name, func(b *testing.B) {
			var st query.Stats
			rows := 0
			cpu := query.CPUTime()
			// The label tells the queries apart in a -cpuprofile.
			pprof.Do(ctx, pprof.Labels("query", tc.Name), func(ctx context.Context) {
				for b.Loop() {
					res, err := eng.Query(ctx, tc.Req)
					if err != nil {
						b.Fatal(err)
					}
					st, rows = res.Stats, len(res.Rows)+len(res.Events)
				}
			})
			b.ReportMetric(float64((query.CPUTime()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			if st.ColdRows > 0 {
				b.Fatalf("%d cold rows: the data set must be all hot", st.ColdRows)
			}
			b.ReportMetric(float64(st.HotRows), "hot-rows")
			b.ReportMetric(float64(rows), "result-rows")
		})
	}
	// A dashboard polling while events arrive: 1,000 new events in one
	// stream before each query (not timed), which the query cache takes
	// as they commit.
	b.Run("count-org-24h-polling", func(b *testing.B) {
		req := querytest.Queries()[0].Req
		evs := make([]event.Event, 1000)
		for i := range evs {
			evs[i] = event.Event{Type: "type-01", Time: querytest.End.Add(-time.Minute), Attributes: map[string]string{"org": "org-042", "user": "u42", "status": "200"},
				Metrics: map[string]float64{"duration": 12}, Data: []byte(`{"user":{"id":42,"plan":"pro"},"page":"/docs/1","ref":"direct","session":"00000000000000aa"}`)}
		}
		var st query.Stats
		for b.Loop() {
			b.StopTimer()
			if _, err := tr.hot.Append(ctx, event.AppendRequest{Project: querytest.Project, Stream: "s-0007", Events: record.Pack(evs...)}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			res, err := eng.Query(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			st = res.Stats
		}
		b.ReportMetric(float64(st.HotRows), "hot-rows")
	})
}
