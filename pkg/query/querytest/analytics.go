// Package querytest builds the data sets that the query benchmarks share:
// BenchmarkQuery in pkg/query, and BenchmarkQueryVsDuckDB in the DuckDB
// test module, which times both engines over the same segments.
package querytest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/hot"
	"github.com/silt-io/silt/pkg/record"
	"github.com/silt-io/silt/pkg/tiered"
)

// Project is the project the benchmarks put the data set in.
const Project = "bench"

// End is the end of the analytics data set's 30 days of event time.
var End = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// Analytics appends n analytics events to project, shaped like issue 5's
// data set — 1,000 streams (s-0000 …), 100 orgs (attribute org, org-000 …),
// 20 types, 100,000 users (attribute user), a duration metric, a status
// attribute, ~150-byte JSON data (a fourth of it with ref "a needle"),
// event times evenly over the 30 days before End — and rotates them all
// into segments, then compacts. progress, when not nil, hears every
// million events.
func Analytics(ctx context.Context, h *hot.Store, hist *tiered.Store, project string, n int, progress func(done int)) error {
	return analytics(ctx, h, hist, project, n, progress)
}

// AnalyticsHot appends the same events as Analytics but rotates none:
// the data set of the hot-tier benchmarks. n/1000 streams get 1,000
// events each.
func AnalyticsHot(ctx context.Context, h *hot.Store, project string, n int) error {
	return analytics(ctx, h, nil, project, n, nil)
}

// analytics is Analytics; with no hist it only appends.
func analytics(ctx context.Context, h *hot.Store, hist *tiered.Store, project string, n int, progress func(done int)) error {
	r := rand.New(rand.NewPCG(7, 7))
	const batch = 1000
	for i := 0; i < n; i += batch {
		evs := make([]event.Event, min(batch, n-i))
		for j := range evs {
			k := i + j
			user := r.IntN(100_000)
			evs[j] = event.Event{
				Type: fmt.Sprintf("type-%02d", r.IntN(20)),
				Time: End.Add(-time.Duration(float64(30*24*time.Hour) * float64(n-k) / float64(n))),
				Attributes: map[string]string{
					"org": fmt.Sprintf("org-%03d", user%100), "user": "u" + strconv.Itoa(user),
					"status": []string{"200", "404", "500"}[r.IntN(3)],
				},
				Metrics: map[string]float64{"duration": float64(r.IntN(5000)) / 10},
				Data: fmt.Appendf(nil, `{"user":{"id":%d,"plan":%q},"page":"/docs/%d","ref":"%s","session":"%016x"}`,
					user, []string{"free", "pro", "team"}[user%3], r.IntN(500), []string{"google", "direct", "twitter", "a needle"}[r.IntN(4)], r.Uint64()),
			}
		}
		if _, err := h.Append(ctx, event.AppendRequest{Project: project, Stream: fmt.Sprintf("s-%04d", (i/batch)%1000), Events: record.Pack(evs...), AutoCreate: true}); err != nil {
			return err
		}
		if hist != nil && (i/batch)%1000 == 999 {
			if _, err := hist.Rotate(ctx, project); err != nil {
				return err
			}
			if progress != nil {
				progress(i + batch)
			}
		}
	}
	if hist == nil {
		return nil
	}
	if _, err := hist.Rotate(ctx, project); err != nil {
		return err
	}
	_, err := hist.Compact(ctx, project)
	return err
}

// Events is the data set's size: SILT_BENCH_QUERY_EVENTS, or def.
func Events(def int) (int, error) {
	v := os.Getenv("SILT_BENCH_QUERY_EVENTS")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("SILT_BENCH_QUERY_EVENTS=%q: want a positive number of events", v)
	}
	return n, nil
}
