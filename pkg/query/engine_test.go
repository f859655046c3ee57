package query_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/query"
	"github.com/silt-io/silt/pkg/record"
)

func field(t testing.TB, s string) query.Field {
	t.Helper()
	f, err := query.ParseField(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func fieldPtr(t testing.TB, s string) *query.Field {
	f := field(t, s)
	return &f
}

// refAggregate computes an aggregate query's rows row by row: a map from
// the group's key texts (joined) to its aggregate values.
func refAggregate(t testing.TB, evs []event.Event, req query.Request, pred func(*event.Event) bool) map[string][]query.Value {
	t.Helper()
	type group struct {
		rows []*event.Event
		key  []query.Value
	}
	groups := map[string]*group{}
	if len(req.GroupBy) == 0 {
		groups[""] = &group{}
	}
	for i := range evs {
		e := &evs[i]
		if !inRange(e, req) || !pred(e) {
			continue
		}
		var texts []string
		var key []query.Value
		for _, k := range req.GroupBy {
			v, ok := refValue(e, k.Field)
			if k.Bucket != nil && ok {
				v = query.TimeValue(refBucket(v.Time, k.Bucket))
			}
			if !ok {
				v = query.Value{}
			}
			texts = append(texts, refKey(v, ok))
			key = append(key, v)
		}
		g := groups[strings.Join(texts, "|")]
		if g == nil {
			g = &group{key: key}
			groups[strings.Join(texts, "|")] = g
		}
		g.rows = append(g.rows, e)
	}
	out := map[string][]query.Value{}
	for k, g := range groups {
		var vals []query.Value
		for _, a := range req.Aggregates {
			vals = append(vals, refAgg(t, g.rows, a, req, g.key))
		}
		out[k] = vals
	}
	return out
}

func refBucket(t time.Time, b *query.Bucket) time.Time {
	if b.Unit == query.CalendarNone {
		return time.Unix(0, t.UnixNano()-t.UnixNano()%int64(b.Width)).UTC()
	}
	zone := b.Zone
	if zone == nil {
		zone = time.UTC
	}
	lt := t.In(zone)
	y, m, d := lt.Date()
	switch b.Unit {
	case query.CalendarWeek:
		d -= (int(lt.Weekday()) + 6) % 7
	case query.CalendarMonth:
		d = 1
	}
	return time.Date(y, m, d, 0, 0, 0, 0, zone).UTC()
}

func refAgg(t testing.TB, rows []*event.Event, a query.Aggregate, req query.Request, key []query.Value) query.Value {
	var nums []float64
	distinct := map[string]bool{}
	count := 0
	for _, e := range rows {
		if a.Field == nil {
			count++
			continue
		}
		if v, ok := refValue(e, *a.Field); ok {
			count++
			distinct[refKey(v, true)] = true
		}
		if n, ok := refNumber(e, *a.Field); ok {
			nums = append(nums, n)
		}
	}
	switch a.Func {
	case query.AggCount:
		return query.Int(int64(count))
	case query.AggCountDistinct:
		return query.Int(int64(len(distinct)))
	case query.AggRate:
		secs := req.To.Sub(req.From).Seconds()
		for i, k := range req.GroupBy {
			if k.Bucket != nil {
				if key[i].Type == query.TypeNull {
					return query.Value{}
				}
				secs = k.Bucket.Width.Seconds()
			}
		}
		return query.Float(float64(count) / secs)
	}
	if len(nums) == 0 {
		return query.Value{}
	}
	slices.Sort(nums)
	switch a.Func {
	case query.AggSum, query.AggAvg:
		s := 0.0
		for _, n := range nums {
			s += n
		}
		if a.Func == query.AggAvg {
			s /= float64(len(nums))
		}
		return query.Float(s)
	case query.AggMin:
		return query.Float(nums[0])
	case query.AggMax:
		return query.Float(nums[len(nums)-1])
	case query.AggPercentile:
		h := float64(len(nums)-1) * a.Percentile / 100
		lo := math.Floor(h)
		v := nums[int(lo)]
		if int(lo)+1 < len(nums) {
			v += (h - lo) * (nums[int(lo)+1] - v)
		}
		return query.Float(v)
	}
	t.Fatalf("aggregate %d", a.Func)
	return query.Value{}
}

// inRange applies the request's scope and ranges.
func inRange(e *event.Event, req query.Request) bool {
	if len(req.Streams) > 0 && !slices.Contains(req.Streams, e.Stream) {
		return false
	}
	if !strings.HasPrefix(e.Stream, req.StreamPrefix) {
		return false
	}
	if !req.From.IsZero() || !req.To.IsZero() {
		if e.Time.IsZero() || (!req.From.IsZero() && e.Time.Before(req.From)) || (!req.To.IsZero() && !e.Time.Before(req.To)) {
			return false
		}
	}
	if (!req.IngestFrom.IsZero() && e.IngestTime.Before(req.IngestFrom)) || (!req.IngestTo.IsZero() && !e.IngestTime.Before(req.IngestTo)) {
		return false
	}
	if (req.FromSeq > 0 && e.Seq < req.FromSeq) || (req.ToSeq > 0 && e.Seq > req.ToSeq) {
		return false
	}
	return true
}

// checkAggregate runs req and compares its rows with the reference.
func checkAggregate(t *testing.T, e *query.Engine, evs []event.Event, req query.Request, pred func(*event.Event) bool) *query.Result {
	t.Helper()
	res, err := e.Query(context.Background(), req)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	want := refAggregate(t, evs, req, pred)
	if len(res.Rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(res.Rows), len(want))
	}
	nk := len(req.GroupBy)
	var prev []query.Value
	for _, row := range res.Rows {
		var texts []string
		for _, v := range row[:nk] {
			texts = append(texts, refKey(v, v.Type != query.TypeNull))
		}
		w, ok := want[strings.Join(texts, "|")]
		if !ok {
			t.Fatalf("row %v: no such group in the reference", row)
		}
		for i, got := range row[nk:] {
			if !sameValue(got, w[i]) {
				t.Errorf("group %v, %s: got %+v, want %+v", texts, res.Columns[nk+i].Name, got, w[i])
			}
		}
		if prev != nil && !keysAscending(prev, row[:nk]) {
			t.Errorf("rows out of order: %v then %v", prev, row[:nk])
		}
		prev = row[:nk]
	}
	return res
}

func keysAscending(a, b []query.Value) bool {
	for i := range a {
		if a[i].Type != b[i].Type {
			return a[i].Type < b[i].Type
		}
		var c int
		switch a[i].Type {
		case query.TypeString:
			c = strings.Compare(a[i].Str, b[i].Str)
		case query.TypeTime:
			c = a[i].Time.Compare(b[i].Time)
		case query.TypeFloat:
			c = cmpFloat(a[i].F, b[i].F)
		}
		if c != 0 {
			return c < 0
		}
	}
	return false // equal keys: two rows of one group
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func sameValue(a, b query.Value) bool {
	if a.Type != b.Type {
		return false
	}
	switch a.Type {
	case query.TypeFloat:
		return a.F == b.F || math.Abs(a.F-b.F) <= 1e-9*math.Max(math.Abs(a.F), math.Abs(b.F))
	case query.TypeTime:
		return a.Time.Equal(b.Time)
	}
	return a == b
}

const project = "acme"

var streams = []string{"web-1", "web-2", "web-3", "api-1", "api-2"}

func TestQuery_AggregatesMatchTheReference(t *testing.T) {
	tr := openTiers(t)
	evs := dataset(t, tr, project, streams, 12000)
	eng := query.New(tr.hist, query.Options{})
	day := 24 * time.Hour
	org := func(o string) *query.Filter {
		return &query.Filter{Op: query.OpCompare, Field: field(t, "attributes.org"), Cmp: query.Eq, Value: query.String(o)}
	}
	cases := []struct {
		name string
		req  query.Request
		pred func(*event.Event) bool
	}{
		{"count all", query.Request{Aggregates: []query.Aggregate{{Func: query.AggCount}}}, all},
		{"count one org, last day", query.Request{From: base.Add(-day), To: base, Filter: org("org-3"),
			Aggregates: []query.Aggregate{{Func: query.AggCount}}},
			func(e *event.Event) bool { return e.Attributes["org"] == "org-3" }},
		{"by type over 7 days", query.Request{From: base.Add(-7 * day), To: base,
			GroupBy:    []query.GroupKey{{Field: field(t, "type")}},
			Aggregates: []query.Aggregate{{Func: query.AggCount}, {Func: query.AggSum, Field: fieldPtr(t, "metrics.duration")}, {Func: query.AggAvg, Field: fieldPtr(t, "metrics.bytes")}, {Func: query.AggMin, Field: fieldPtr(t, "metrics.duration")}, {Func: query.AggMax, Field: fieldPtr(t, "metrics.bytes")}}}, all},
		{"percentiles by hour for an org", query.Request{From: base.Add(-day), To: base, Filter: org("org-1"),
			GroupBy:    []query.GroupKey{{Field: field(t, "time"), Bucket: &query.Bucket{Width: time.Hour}}},
			Aggregates: []query.Aggregate{{Func: query.AggPercentile, Percentile: 50, Field: fieldPtr(t, "metrics.duration")}, {Func: query.AggPercentile, Percentile: 95, Field: fieldPtr(t, "metrics.duration")}, {Func: query.AggPercentile, Percentile: 99, Field: fieldPtr(t, "metrics.duration")}, {Func: query.AggRate}}},
			func(e *event.Event) bool { return e.Attributes["org"] == "org-1" }},
		{"distinct users per org over 30 days", query.Request{From: base.Add(-30 * day), To: base,
			GroupBy:    []query.GroupKey{{Field: field(t, "attributes.org")}},
			Aggregates: []query.Aggregate{{Func: query.AggCountDistinct, Field: fieldPtr(t, "subject")}, {Func: query.AggCountDistinct, Field: fieldPtr(t, "$.user.id")}}}, all},
		{"two keys, missing attribute as null", query.Request{
			GroupBy:    []query.GroupKey{{Field: field(t, "attributes.beta")}, {Field: field(t, "attributes.status")}},
			Aggregates: []query.Aggregate{{Func: query.AggCount}, {Func: query.AggCount, Field: fieldPtr(t, "metrics.bytes")}}}, all},
		{"JSON path key and filter", query.Request{
			Filter:     &query.Filter{Op: query.OpNot, Args: []*query.Filter{{Op: query.OpCompare, Field: field(t, "$.user.plan"), Cmp: query.Eq, Value: query.String("free")}}},
			GroupBy:    []query.GroupKey{{Field: field(t, "$.user.plan")}},
			Aggregates: []query.Aggregate{{Func: query.AggCount}, {Func: query.AggMax, Field: fieldPtr(t, "$.user.id")}}},
			func(e *event.Event) bool {
				v, ok := refValue(e, field(t, "$.user.plan"))
				return !ok || v.Str != "free"
			}},
		{"data contains, any case, in one stream", query.Request{Streams: []string{"web-2"},
			Filter:     &query.Filter{Op: query.OpContains, Field: field(t, "data"), Value: query.String("needle"), IgnoreCase: true},
			Aggregates: []query.Aggregate{{Func: query.AggCount}}},
			func(e *event.Event) bool {
				return e.IsJSON() && strings.Contains(strings.ToLower(string(e.Data)), "needle")
			}},
		{"prefix scope, in and or", query.Request{StreamPrefix: "api-",
			Filter: &query.Filter{Op: query.OpOr, Args: []*query.Filter{
				{Op: query.OpIn, Field: field(t, "type"), Values: []query.Value{query.String("click"), query.String("error")}},
				{Op: query.OpCompare, Field: field(t, "metrics.duration"), Cmp: query.Ge, Value: query.Float(900)}}},
			GroupBy:    []query.GroupKey{{Field: field(t, "stream")}, {Field: field(t, "time"), Bucket: &query.Bucket{Unit: query.CalendarWeek}}},
			Aggregates: []query.Aggregate{{Func: query.AggCount}}},
			func(e *event.Event) bool {
				return e.Type == "click" || e.Type == "error" || e.Metrics["duration"] >= 900
			}},
		{"day buckets in a zone", query.Request{From: base.Add(-10 * day), To: base,
			GroupBy:    []query.GroupKey{{Field: field(t, "time"), Bucket: &query.Bucket{Unit: query.CalendarDay, Zone: mustZone(t, "America/New_York")}}},
			Aggregates: []query.Aggregate{{Func: query.AggCount}}}, all},
		{"seq range of one stream", query.Request{Streams: []string{"web-1"}, FromSeq: 100, ToSeq: 2000,
			Aggregates: []query.Aggregate{{Func: query.AggCount}, {Func: query.AggMin, Field: fieldPtr(t, "seq")}, {Func: query.AggMax, Field: fieldPtr(t, "seq")}}}, all},
		{"type pruning", query.Request{Filter: &query.Filter{Op: query.OpCompare, Field: field(t, "type"), Cmp: query.Eq, Value: query.String("signup")},
			Aggregates: []query.Aggregate{{Func: query.AggCount}}}, func(e *event.Event) bool { return e.Type == "signup" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Project = project
			res := checkAggregate(t, eng, evs, tc.req, tc.pred)
			if res.Stats.HotRows == 0 || res.Stats.ColdRows == 0 {
				t.Errorf("stats %+v: want rows from both tiers", res.Stats)
			}
		})
	}
}

func all(*event.Event) bool { return true }

func mustZone(t testing.TB, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	return loc
}

func TestQuery_PrunesSegmentsAndRowGroupsByTime(t *testing.T) {
	tr := openTiers(t)
	evs := dataset(t, tr, project, streams, 6000)
	eng := query.New(tr.hist, query.Options{})
	req := query.Request{Project: project, From: base.Add(-2 * time.Hour), To: base, Explain: true,
		Aggregates: []query.Aggregate{{Func: query.AggCount}}}
	res := checkAggregate(t, eng, evs, req, all)
	// Times are random within each row group, so the narrow range prunes
	// by statistics only rarely; what must hold is the accounting.
	st := res.Stats
	if st.Segments == 0 || st.RowGroups == 0 {
		t.Fatalf("stats %+v: no segment considered", st)
	}
	if !strings.Contains(res.Plan, "segment ") || !strings.Contains(res.Plan, "hot ") {
		t.Errorf("plan does not list segments and hot ranges:\n%s", res.Plan)
	}
	// A time range before every event prunes every segment by the manifest
	// (events without a time have their ingest time, now: after any).
	req.From, req.To = base.Add(-60*24*time.Hour), base.Add(-59*24*time.Hour)
	res = checkAggregate(t, eng, evs, req, all)
	if res.Stats.SegmentsPruned != res.Stats.Segments || res.Stats.ColdRows != 0 {
		t.Errorf("stats %+v: want every segment pruned", res.Stats)
	}
	if !strings.Contains(res.Plan, "pruned (event times outside the range)") {
		t.Errorf("plan does not say why:\n%s", res.Plan)
	}
	// One stream's seq range reads only its row groups.
	req = query.Request{Project: project, Streams: []string{"api-1"}, FromSeq: 1, ToSeq: 50, Aggregates: []query.Aggregate{{Func: query.AggCount}}}
	res = checkAggregate(t, eng, evs, req, all)
	if res.Stats.RowGroupsPruned == 0 || res.Stats.ColdRows > 1000 {
		t.Errorf("stats %+v: a 50-event seq range should read one or two row groups", res.Stats)
	}
}

func TestQuery_ListsAndPagesInEachOrder(t *testing.T) {
	tr := openTiers(t)
	evs := dataset(t, tr, project, streams, 3000)
	eng := query.New(tr.hist, query.Options{})
	filter := &query.Filter{Op: query.OpCompare, Field: field(t, "attributes.status"), Cmp: query.Ne, Value: query.String("404")}
	var want []event.Event
	for _, e := range evs {
		if e.Attributes["status"] != "404" {
			want = append(want, e)
		}
	}
	orders := map[query.Order]func(a, b event.Event) int{
		query.OrderSeqAsc:  cmpSeq,
		query.OrderSeqDesc: func(a, b event.Event) int { return -cmpSeq(a, b) },
		query.OrderTimeAsc: func(a, b event.Event) int {
			if c := orderTime(a).Compare(orderTime(b)); c != 0 {
				return c
			}
			return cmpSeq(a, b)
		},
		query.OrderTimeDesc: func(a, b event.Event) int {
			if c := orderTime(a).Compare(orderTime(b)); c != 0 {
				return -c
			}
			return -cmpSeq(a, b)
		},
	}
	// Pages of 97 events, and pages cut by a byte cap far below 1000
	// events (each event is a few hundred bytes).
	const pageBytes = 6 << 10
	capped := query.New(tr.hist, query.Options{MaxPageBytes: pageBytes})
	for order, cmpFn := range orders {
		for _, pc := range []struct {
			name  string
			eng   *query.Engine
			limit int
		}{{"limit", eng, 97}, {"bytes", capped, 1000}} {
			t.Run(fmt.Sprint(order, "/", pc.name), func(t *testing.T) {
				exp := slices.Clone(want)
				slices.SortStableFunc(exp, cmpFn)
				var got []event.Event
				token := ""
				for range 1000 {
					res, err := pc.eng.Query(context.Background(), query.Request{Project: project, Filter: filter, Order: order, Limit: pc.limit, PageToken: token})
					if err != nil {
						t.Fatal(err)
					}
					size := 0
					for i := range res.Events {
						size += res.Events[i].Size()
					}
					if pc.name == "bytes" && (size > pageBytes || len(res.Events) == 0) && len(res.Events) != 1 {
						t.Fatalf("a page of %d events holds %d bytes, over the cap of %d", len(res.Events), size, pageBytes)
					}
					got = append(got, res.Events...)
					if token = res.NextPageToken; token == "" {
						break
					}
				}
				if len(got) != len(exp) {
					t.Fatalf("%d events over all pages, want %d", len(got), len(exp))
				}
				for i := range got {
					g, w := got[i], exp[i]
					if g.Stream != w.Stream || g.Seq != w.Seq || g.ID != w.ID || g.Type != w.Type || string(g.Data) != string(w.Data) ||
						!g.Time.Equal(w.Time) || !g.IngestTime.Equal(w.IngestTime) || fmt.Sprint(g.Attributes) != fmt.Sprint(w.Attributes) ||
						fmt.Sprint(g.Metrics) != fmt.Sprint(w.Metrics) || g.ContentType != w.ContentType {
						t.Fatalf("event %d:\n got  %+v\n want %+v", i, g, w)
					}
				}
			})
		}
	}
	// The newest 10 of one stream, projected.
	res, err := eng.Query(context.Background(), query.Request{Project: project, Streams: []string{"web-3"}, Order: query.OrderSeqDesc, Limit: 10,
		Fields: []query.Field{field(t, "type"), field(t, "attributes.org")}})
	if err != nil {
		t.Fatal(err)
	}
	var last []event.Event
	for _, e := range evs {
		if e.Stream == "web-3" {
			last = append(last, e)
		}
	}
	last = last[len(last)-10:]
	slices.Reverse(last)
	for i, e := range res.Events {
		w := last[i]
		if e.Seq != w.Seq || e.Type != w.Type || len(e.Attributes) != 1 || e.Attributes["org"] != w.Attributes["org"] || e.Data != nil || e.ID != "" || !e.IngestTime.IsZero() {
			t.Errorf("projected event %d: %+v, want seq %d type %s org %s and nothing else", i, e, w.Seq, w.Type, w.Attributes["org"])
		}
	}
}

func cmpSeq(a, b event.Event) int {
	if c := strings.Compare(a.Stream, b.Stream); c != 0 {
		return c
	}
	return cmpFloat(float64(a.Seq), float64(b.Seq))
}

func orderTime(e event.Event) time.Time {
	if e.Time.IsZero() {
		return e.IngestTime
	}
	return e.Time
}

func TestQuery_RejectsBadRequests(t *testing.T) {
	tr := openTiers(t)
	dataset(t, tr, project, streams[:2], 600)
	eng := query.New(tr.hist, query.Options{MaxTimeRange: 31 * 24 * time.Hour, MaxGroups: 50})
	week := query.Request{Project: project, From: base.Add(-7 * 24 * time.Hour), To: base}
	with := func(mod func(*query.Request)) query.Request { r := week; mod(&r); return r }
	invalid := []struct {
		name, field string
		req         query.Request
	}{
		{"sum of a string", "aggregations[0].field", with(func(r *query.Request) {
			r.Aggregates = []query.Aggregate{{Func: query.AggSum, Field: fieldPtr(t, "type")}}
		})},
		{"percentile out of range", "aggregations[0].percentile", with(func(r *query.Request) {
			r.Aggregates = []query.Aggregate{{Func: query.AggPercentile, Percentile: 150, Field: fieldPtr(t, "metrics.duration")}}
		})},
		{"no time range", "time", query.Request{Project: project, Aggregates: []query.Aggregate{{Func: query.AggCount}}}},
		{"range too long", "time", with(func(r *query.Request) { r.From = base.Add(-40 * 24 * time.Hour) })},
		{"metric against a string", "filter.compare", with(func(r *query.Request) {
			r.Filter = &query.Filter{Op: query.OpCompare, Field: field(t, "metrics.duration"), Cmp: query.Gt, Value: query.String("x")}
		})},
		// The field names the bad node, as the API spells its path.
		{"nested bad node", "filter.and[1].not.or[0].in", with(func(r *query.Request) {
			ok := &query.Filter{Op: query.OpExists, Field: field(t, "attributes.org")}
			r.Filter = &query.Filter{Op: query.OpAnd, Args: []*query.Filter{ok, {Op: query.OpNot, Args: []*query.Filter{{Op: query.OpOr, Args: []*query.Filter{
				{Op: query.OpIn, Field: field(t, "metrics.duration"), Values: []query.Value{query.String("x")}}, ok,
			}}}}}}
		})},
		{"bucket under a second", "group_by[0].time_bucket", with(func(r *query.Request) {
			r.GroupBy = []query.GroupKey{{Field: field(t, "time"), Bucket: &query.Bucket{Width: time.Millisecond}}}
			r.Aggregates = []query.Aggregate{{Func: query.AggCount}}
		})},
		{"seq range over two streams", "seq", with(func(r *query.Request) { r.FromSeq = 3 })},
		{"bad page token", "page_token", with(func(r *query.Request) { r.PageToken = "nonsense" })},
	}
	for _, tc := range invalid {
		_, err := eng.Query(context.Background(), tc.req)
		var ie *query.InvalidError
		if !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("%s: got %v, want an InvalidError on %s", tc.name, err, tc.field)
		}
	}
	if _, err := query.ParseField("color"); err == nil {
		t.Error("ParseField took an unknown field")
	}
	_, err := eng.Query(context.Background(), with(func(r *query.Request) {
		r.GroupBy = []query.GroupKey{{Field: field(t, "id")}}
		r.Aggregates = []query.Aggregate{{Func: query.AggCount}}
	}))
	if !errors.Is(err, event.ErrResultTooLarge) {
		t.Errorf("grouping by id past MaxGroups: %v, want event.ErrResultTooLarge", err)
	}
	_, err = eng.Query(context.Background(), with(func(r *query.Request) { r.Streams = []string{"nope"} }))
	if !errors.Is(err, event.ErrStreamNotFound) {
		t.Errorf("unknown stream: %v, want ErrStreamNotFound", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := eng.Query(ctx, week); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled query: %v", err)
	}
}

func TestQuery_CountsEachEventOnceWhileRotating(t *testing.T) {
	tr := openTiers(t)
	ctx := context.Background()
	eng := query.New(tr.hist, query.Options{})
	// Appends go on while rotations and compactions run, and queries must
	// count what was acknowledged before they began, at least, and never
	// more than what had been sent when they returned (an append's events
	// are visible a moment before its acknowledgement arrives).
	var stop sync.WaitGroup
	var mu sync.Mutex
	total, sent := 0, 0
	done := make(chan struct{})
	stop.Add(2)
	go func() {
		defer stop.Done()
		for i := 0; i < 600; i++ { // 30,000 events: distinct ids stay exact
			select {
			case <-done:
				return
			default:
			}
			evs := make([]event.Event, 50)
			for j := range evs {
				evs[j] = event.Event{Type: "t", Data: []byte(`{"i":1}`)}
			}
			mu.Lock()
			sent += len(evs)
			mu.Unlock()
			if _, err := tr.hot.Append(ctx, event.AppendRequest{Project: project, Stream: streams[i%3], Events: record.Pack(evs...), AutoCreate: true}); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			total += len(evs)
			mu.Unlock()
		}
	}()
	go func() {
		defer stop.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := tr.hist.Rotate(ctx, project); err != nil {
				t.Error(err)
				return
			}
			if _, err := tr.hist.Compact(ctx, project); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	req := query.Request{Project: project, Aggregates: []query.Aggregate{{Func: query.AggCount}, {Func: query.AggCountDistinct, Field: fieldPtr(t, "id")}}}
	for i := range 40 {
		mu.Lock()
		before := total
		mu.Unlock()
		res, err := eng.Query(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		after := sent
		mu.Unlock()
		n, ids := res.Rows[0][0].Int, res.Rows[0][1].Int
		if n < int64(before) || n > int64(after) || ids != n {
			t.Fatalf("query %d: count %d, distinct ids %d; acknowledged %d before, %d sent after", i, n, ids, before, after)
		}
	}
	close(done)
	stop.Wait()
}

func TestQuery_SeeksIntoOneStreamOfMany(t *testing.T) {
	tr := openTiersWith(t, 0) // row groups of the default size: few rows of one stream in each
	many := make([]string, 24)
	for i := range many {
		many[i] = fmt.Sprintf("s-%02d", i)
	}
	evs := dataset(t, tr, project, many, 12000)
	eng := query.New(tr.hist, query.Options{})
	req := query.Request{Project: project, Streams: []string{"s-07"}, Explain: true,
		Filter:     &query.Filter{Op: query.OpContains, Field: field(t, "data"), Value: query.String("needle"), IgnoreCase: true},
		GroupBy:    []query.GroupKey{{Field: field(t, "type")}},
		Aggregates: []query.Aggregate{{Func: query.AggCount}, {Func: query.AggSum, Field: fieldPtr(t, "metrics.duration")}}}
	res := checkAggregate(t, eng, evs, req, func(e *event.Event) bool {
		return e.IsJSON() && strings.Contains(strings.ToLower(string(e.Data)), "needle")
	})
	if !strings.Contains(res.Plan, "seek to") || !strings.Contains(res.Plan, "(events)") {
		t.Fatalf("one stream of 24 should be read by seeking to its events (the sum needs metrics):\n%s", res.Plan)
	}
	// Without map columns, the seek reads only the needed columns' rows.
	req.Aggregates = []query.Aggregate{{Func: query.AggCount}, {Func: query.AggMax, Field: fieldPtr(t, "seq")}, {Func: query.AggCountDistinct, Field: fieldPtr(t, "$.user.plan")}}
	req.Filter.IgnoreCase = false
	res = checkAggregate(t, eng, evs, req, func(e *event.Event) bool {
		return e.IsJSON() && strings.Contains(string(e.Data), "needle")
	})
	if !strings.Contains(res.Plan, "(columns)") {
		t.Fatalf("a query without map columns should seek to the stream's rows:\n%s", res.Plan)
	}
	// Listing in both seq orders, paged: one stream with no filter reads
	// only the page's seqs.
	var want []event.Event
	for _, e := range evs {
		if e.Stream == "s-07" {
			want = append(want, e)
		}
	}
	for k, order := range []query.Order{query.OrderSeqAsc, query.OrderSeqDesc} {
		if order == query.OrderSeqDesc {
			slices.Reverse(want)
		}
		// Ascending lists whole events (a seek to events); descending
		// projects columns without maps (a seek to rows).
		var fields []query.Field
		if k == 1 {
			fields = []query.Field{field(t, "id"), field(t, "data")}
		}
		var got []event.Event
		token := ""
		seekedRows := false
		for range 100 {
			res, err := eng.Query(context.Background(), query.Request{Project: project, Streams: []string{"s-07"}, Order: order, Limit: 64, PageToken: token, Explain: true, Fields: fields})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(res.Plan, "listing one stream in seq order") || res.Stats.ColdRows+res.Stats.HotRows > 65 {
				t.Fatalf("page read %d rows; plan:\n%s", res.Stats.ColdRows+res.Stats.HotRows, res.Plan)
			}
			got = append(got, res.Events...)
			seekedRows = seekedRows || strings.Contains(res.Plan, "(columns)")
			if token = res.NextPageToken; token == "" {
				break
			}
		}
		if len(got) != len(want) {
			t.Fatalf("order %d: %d events over all pages, want %d", order, len(got), len(want))
		}
		if seekedRows != (k == 1) {
			t.Errorf("order %d: a page seeked to rows: %v, want %v", order, seekedRows, k == 1)
		}
		for i := range got {
			if got[i].Seq != want[i].Seq || got[i].ID != want[i].ID || string(got[i].Data) != string(want[i].Data) {
				t.Fatalf("order %d, event %d: seq %d id %s, want seq %d id %s", order, i, got[i].Seq, got[i].ID, want[i].Seq, want[i].ID)
			}
		}
	}
}
