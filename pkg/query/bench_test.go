package query_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/query"
)

// analytics appends n analytics events shaped like the data set
// (1,000 streams, 100 orgs, 20 types, 100,000 users, a duration metric, a
// status attribute, ~150-byte JSON, 30 days of event time ending at base)
// and rotates them all into segments.
func analytics(b *testing.B, tr *tiers, n int) {
	b.Helper()
	r := rand.New(rand.NewPCG(7, 7))
	ctx := context.Background()
	const batch = 1000
	for i := 0; i < n; i += batch {
		evs := make([]event.Event, min(batch, n-i))
		for j := range evs {
			k := i + j
			user := r.IntN(100_000)
			evs[j] = event.Event{
				Type: fmt.Sprintf("type-%02d", r.IntN(20)),
				Time: base.Add(-time.Duration(float64(30*24*time.Hour) * float64(n-k) / float64(n))),
				Attributes: map[string]string{
					"org": fmt.Sprintf("org-%03d", user%100), "user": "u" + strconv.Itoa(user),
					"status": statusV[r.IntN(len(statusV))],
				},
				Metrics: map[string]float64{"duration": float64(r.IntN(5000)) / 10},
				Data: fmt.Appendf(nil, `{"user":{"id":%d,"plan":%q},"page":"/docs/%d","ref":"%s","session":"%016x"}`,
					user, plans[user%3], r.IntN(500), []string{"google", "direct", "twitter", "a needle"}[r.IntN(4)], r.Uint64()),
			}
		}
		if _, err := tr.hot.Append(ctx, event.AppendRequest{Project: project, Stream: fmt.Sprintf("s-%04d", (i/batch)%1000), Events: evs, AutoCreate: true}); err != nil {
			b.Fatal(err)
		}
		if (i/batch)%500 == 499 {
			if _, err := tr.hist.Rotate(ctx, project); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := tr.hist.Rotate(ctx, project); err != nil {
		b.Fatal(err)
	}
	if _, err := tr.hist.Compact(ctx, project); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkQuery runs the six queries over SILT_BENCH_QUERY_EVENTS
// (default 1,000,000) analytics events, all in segments.
func BenchmarkQuery(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("SILT_BENCH_QUERY_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
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
	day := 24 * time.Hour
	org := &query.Filter{Op: query.OpCompare, Field: query.Field{Kind: query.FieldAttribute, Key: "org"}, Cmp: query.Eq, Value: query.String("org-042")}
	dur := &query.Field{Kind: query.FieldMetric, Key: "duration"}
	cases := []struct {
		name string
		req  query.Request
	}{
		{"count-org-24h", query.Request{From: base.Add(-day), To: base, Filter: org, Aggregates: []query.Aggregate{{Func: query.AggCount}}}},
		{"by-type-7d", query.Request{From: base.Add(-7 * day), To: base, GroupBy: []query.GroupKey{{Field: query.Field{Kind: query.FieldType}}}, Aggregates: []query.Aggregate{{Func: query.AggCount}}}},
		{"percentiles-hourly-org-24h", query.Request{From: base.Add(-day), To: base, Filter: org,
			GroupBy:    []query.GroupKey{{Field: query.Field{Kind: query.FieldTime}, Bucket: &query.Bucket{Width: time.Hour}}},
			Aggregates: []query.Aggregate{{Func: query.AggPercentile, Percentile: 50, Field: dur}, {Func: query.AggPercentile, Percentile: 95, Field: dur}, {Func: query.AggPercentile, Percentile: 99, Field: dur}}}},
		{"distinct-users-org-30d", query.Request{From: base.Add(-30 * day), To: base, Filter: org,
			Aggregates: []query.Aggregate{{Func: query.AggCountDistinct, Field: &query.Field{Kind: query.FieldAttribute, Key: "user"}}}}},
		{"newest-1000-of-stream", query.Request{Streams: []string{"s-0421"}, Order: query.OrderSeqDesc, Limit: 1000}},
		{"needle-in-stream", query.Request{Streams: []string{"s-0421"}, Filter: &query.Filter{Op: query.OpContains, Field: query.Field{Kind: query.FieldData}, Value: query.String("a needle")},
			Aggregates: []query.Aggregate{{Func: query.AggCount}}}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			tc.req.Project = project
			var st query.Stats
			rows := 0
			cpu := query.CPUTime()
			for b.Loop() {
				res, err := eng.Query(context.Background(), tc.req)
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
