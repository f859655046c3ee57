package query_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/query"
	"github.com/silt-io/silt/pkg/record"
)

var update = flag.Bool("update", false, "rewrite the golden plans in testdata/plans")

// planData appends a deterministic data set: three streams, events whose
// type changes every 700 events and whose time goes back a minute per
// event, rotated twice (two segments per stream range) with a hot tail.
func planData(t *testing.T, tr *tiers) {
	ctx := context.Background()
	i := 0
	for part := range 3 {
		for _, stream := range []string{"a", "b", "c"} {
			for range 3 {
				evs := make([]event.Event, 400)
				for j := range evs {
					evs[j] = event.Event{
						Type: types[(i/700)%len(types)], Time: base.Add(-time.Duration(i) * time.Minute),
						Attributes: map[string]string{"org": fmt.Sprint("org-", i%3)}, Data: []byte(`{}`),
					}
					i++
				}
				if _, err := tr.hot.Append(ctx, event.AppendRequest{Project: project, Stream: stream, Events: record.Pack(evs...), AutoCreate: true}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if part < 2 {
			if _, err := tr.hist.Rotate(ctx, project); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// segmentIDs are replaced by their order of appearance in a plan.
var segmentIDs = regexp.MustCompile(`segment [0-9A-Z]{26}`)

func TestPlan_Golden(t *testing.T) {
	tr := openTiers(t)
	planData(t, tr)
	eng := query.New(tr.hist, query.Options{})
	count := []query.Aggregate{{Func: query.AggCount}}
	cases := []struct {
		name string
		req  query.Request
	}{
		{"everything", query.Request{}},
		{"one-stream-seq-range", query.Request{Streams: []string{"b"}, FromSeq: 300, ToSeq: 700}},
		{"recent-time", query.Request{From: base.Add(-3 * time.Hour), To: base}},
		{"old-time", query.Request{From: base.Add(-10000 * time.Minute), To: base.Add(-9000 * time.Minute)}},
		{"type-filter", query.Request{Filter: &query.Filter{Op: query.OpCompare, Field: field(t, "type"), Cmp: query.Eq, Value: query.String("signup")}}},
		{"prefix-none", query.Request{StreamPrefix: "z"}},
		{"future", query.Request{From: base.Add(time.Hour)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Project, tc.req.Explain, tc.req.Aggregates = project, true, count
			res, err := eng.Query(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]string{}
			plan := segmentIDs.ReplaceAllStringFunc(res.Plan, func(s string) string {
				if seen[s] == "" {
					seen[s] = fmt.Sprintf("segment #%d", len(seen)+1)
				}
				return seen[s]
			})
			plan += fmt.Sprintf("count: %d\n", res.Rows[0][0].Int)
			path := filepath.Join("testdata", "plans", tc.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(plan), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if plan != string(want) {
				t.Errorf("plan changed:\n--- got\n%s--- want\n%s", plan, want)
			}
		})
	}
}
