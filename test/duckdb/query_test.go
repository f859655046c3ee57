package duckcheck

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
	"github.com/silt-io/silt/pkg/event"
)

// TestQuery_MatchesDuckDB checks QueryService.Query against an independent
// engine. It appends a data set through the API to a real server, rotating
// part of it into segments, loads the same events (with the seqs and
// ingest times the server returned) into DuckDB, and requires Silt and
// DuckDB to give the same answer to every query of aggregateCases and
// listCases, each written once as a request and once as SQL. The SQL
// spells out the semantics of docs/query.md where SQL's differ: a missing
// value matches no comparison (SQL NULL), but not is plain negation (NOT
// coalesce(…, false)); a JSON path compares only values of the operand's
// JSON type (the jstr, jnum and jbool macros); null group keys come first.
func TestQuery_MatchesDuckDB(t *testing.T) {
	n := 300_000
	if testing.Short() {
		n = 30_000
	}
	url, _ := startServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()

	start := time.Now()
	d := appendQueryData(ctx, t, url, n)
	appended := time.Since(start)
	d.checkRich(t)
	start = time.Now()
	db := loadDuckDB(ctx, t, d.events)
	loaded := time.Since(start)
	icuErr := loadICU(ctx, db)
	t.Logf("%d events in %d streams (%d in segments, %d hot): appended through the API in %v, loaded into DuckDB in %v",
		n, len(d.streamSize), d.cold, n-d.cold, appended.Round(time.Millisecond), loaded.Round(time.Millisecond))

	client := siltv1connect.NewQueryServiceClient(http.DefaultClient, url)
	var siltTime, duckTime time.Duration
	aggCases, lists := aggregateCases(d), listCases(d)
	calls := 0 // Query calls, a page each
	for _, c := range aggCases {
		t.Run(c.name, func(t *testing.T) {
			if c.needsZone != "" {
				if icuErr != nil {
					t.Skipf("DuckDB cannot load its ICU extension, so it has no time zones: %v", icuErr)
				}
				if _, err := time.LoadLocation(c.needsZone); err != nil {
					t.Skipf("no time zone data for %s on this machine: %v", c.needsZone, err)
				}
			}
			c.req.Project = queryProject
			c.req.Explain = c.plan != ""
			start := time.Now()
			got, err := siltRows(ctx, client, c.req)
			siltDur := time.Since(start)
			if err != nil {
				t.Fatalf("Silt: %v", err)
			}
			start = time.Now()
			want, err := duckRows(ctx, db, c.sql)
			duckDur := time.Since(start)
			if err != nil {
				t.Fatalf("DuckDB: %v\n%s", err, c.sql)
			}
			siltTime, duckTime, calls = siltTime+siltDur, duckTime+duckDur, calls+got.pages
			if d := diffRows(got.rows, want); d != "" {
				t.Fatalf("Silt and DuckDB differ: %s\nSQL: %s", d, c.sql)
			}
			if err := meaningful(want, n, c.all); err != nil {
				t.Fatalf("the case tests too little: %v\nSQL: %s", err, c.sql)
			}
			if len(got.cols) != len(want[0]) {
				t.Fatalf("Silt returned %d columns, DuckDB %d", len(got.cols), len(want[0]))
			}
			if !strings.Contains(got.plan, c.plan) {
				t.Fatalf("the plan does not say %q, so the case misses the path it is for:\n%s", c.plan, got.plan)
			}
			st := got.stats
			if c.check != nil {
				c.check(t, st)
			}
			t.Logf("%d rows in %d pages; Silt %v (server %v, %d cold rows, %d hot rows, %d matched), DuckDB %v",
				len(got.rows), got.pages, siltDur.Round(time.Millisecond), st.GetElapsed().AsDuration().Round(time.Millisecond),
				st.GetColdRows(), st.GetHotRows(), st.GetMatchedRows(), duckDur.Round(time.Millisecond))
		})
	}
	for _, c := range lists {
		t.Run(c.name, func(t *testing.T) {
			c.req.Project = queryProject
			pages, siltDur, duckDur := runListCase(ctx, t, client, db, d, c)
			siltTime, duckTime, calls = siltTime+siltDur, duckTime+duckDur, calls+pages
		})
	}
	t.Logf("%d aggregate and %d listing cases in %d Query calls: Silt %v in all, DuckDB %v",
		len(aggCases), len(lists), calls, siltTime.Round(time.Millisecond), duckTime.Round(time.Millisecond))
}

// meaningful fails when the answer could not tell a broken engine from a
// working one: no rows, or aggregates that are all null or zero, or a lone
// count that is none or (unless all) every event.
func meaningful(rows [][]any, n int, all bool) error {
	if len(rows) == 0 {
		return fmt.Errorf("no rows")
	}
	if len(rows) == 1 && len(rows[0]) == 1 {
		if c, ok := rows[0][0].(int64); ok && (c == 0 || c == int64(n) && !all) {
			return fmt.Errorf("the count is %d of %d events", c, n)
		}
	}
	for _, r := range rows {
		for _, v := range r {
			if v != nil && v != int64(0) && v != 0.0 {
				return nil
			}
		}
	}
	return fmt.Errorf("every value is null or zero")
}

// runListCase lists through Silt (every page, or the first) and requires
// the events DuckDB lists, in its order, each equal to the event appended
// as projected. It returns how many pages it read, and how long each
// engine took.
func runListCase(ctx context.Context, t *testing.T, client siltv1connect.QueryServiceClient, db *sql.DB, d *queryData, c listCase) (pages int, silt, duck time.Duration) {
	t.Helper()
	start := time.Now()
	want, err := duckKeys(ctx, db, c.sql)
	duck = time.Since(start)
	if err != nil {
		t.Fatalf("DuckDB: %v\n%s", err, c.sql)
	}
	limit := int(c.req.GetLimit())
	if len(want) <= limit || (c.pages && len(want) < 3*limit) {
		t.Fatalf("%d events match; the case needs more than %d to page", len(want), limit)
	}
	var got []*siltv1.Event
	req := c.req
	req.Explain = c.plan != ""
	start = time.Now()
	for ; pages < 1000; pages++ {
		res, err := client.Query(ctx, connect.NewRequest(req))
		if err != nil {
			t.Fatalf("Silt, page %d: %v", pages, err)
		}
		m := res.Msg
		if len(m.GetRows()) > 0 || len(m.GetColumns()) > 0 {
			t.Fatalf("a listing returned %d rows, %d columns", len(m.GetRows()), len(m.GetColumns()))
		}
		if !strings.Contains(m.GetPlan(), c.plan) {
			t.Fatalf("page %d: the plan does not say %q, so the case misses the path it is for:\n%s", pages, c.plan, m.GetPlan())
		}
		got = append(got, m.GetEvents()...)
		more := m.GetNextPageToken() != ""
		if more && len(m.GetEvents()) != limit || len(m.GetEvents()) > limit {
			t.Fatalf("page %d: %d events, next page %v; limit %d", pages, len(m.GetEvents()), more, limit)
		}
		if !c.pages {
			if wantMore := len(want) > limit; more != wantMore {
				t.Fatalf("next page token %q; %d events match, limit %d", m.GetNextPageToken(), len(want), limit)
			}
			want = want[:limit]
			pages++
			break
		}
		if !more {
			pages++
			break
		}
		req = proto.CloneOf(req)
		req.PageToken = m.GetNextPageToken()
	}
	silt = time.Since(start)
	if pages == 1000 {
		t.Fatalf("Silt listed more than 1000 pages")
	}
	byKey := make(map[eventKey]*event.Event, len(d.events))
	for i := range d.events {
		e := &d.events[i]
		byKey[eventKey{e.Stream, e.Seq}] = e
	}
	for i := range min(len(got), len(want)) {
		k := eventKey{got[i].GetStream(), got[i].GetSeq()}
		if k != want[i] {
			t.Fatalf("event %d: Silt lists %s/%d, DuckDB %s/%d", i, k.stream, k.seq, want[i].stream, want[i].seq)
		}
		if diff := diffListed(got[i], byKey[k], c.req.GetFields()); diff != "" {
			t.Fatalf("event %d (%s/%d): %s", i, k.stream, k.seq, diff)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("Silt lists %d events, DuckDB %d", len(got), len(want))
	}
	if c.noTime {
		// An event without a time, then one with: the ingest-time
		// fallback put them among the others.
		seen, interleaved := false, false
		for _, k := range want {
			hasTime := !byKey[k].Time.IsZero()
			seen = seen || !hasTime
			interleaved = interleaved || seen && hasTime
		}
		if !interleaved {
			t.Fatal("no event without a time came before one with a time")
		}
	}
	t.Logf("%d events in %d pages; Silt %v, DuckDB %v", len(got), pages, silt.Round(time.Millisecond), duck.Round(time.Millisecond))
	return pages, silt, duck
}

// checkRich fails when the data set lacks what the cases rely on.
func (d *queryData) checkRich(t *testing.T) {
	t.Helper()
	var noTime, noStatus, noOrg, noDuration, bytesMetric, binary int
	for _, e := range d.events {
		if e.Time.IsZero() {
			noTime++
		}
		if _, ok := e.Attributes["status"]; !ok {
			noStatus++
		}
		if _, ok := e.Attributes["org"]; !ok {
			noOrg++
		}
		if _, ok := e.Metrics["duration"]; !ok {
			noDuration++
		}
		if _, ok := e.Metrics["bytes"]; ok {
			bytesMetric++
		}
		if !e.IsJSON() {
			binary++
		}
	}
	if len(d.streamSize) != len(qStreams) || noTime == 0 || noStatus == 0 || noOrg == 0 || noDuration == 0 || bytesMetric == 0 || binary == 0 {
		t.Fatalf("data set too plain: %d streams, %d events without time, %d without status, %d without org, %d without duration, %d with bytes, %d not JSON",
			len(d.streamSize), noTime, noStatus, noOrg, noDuration, bytesMetric, binary)
	}
	// Event times lie before and after the ingest times, so that in time
	// order the events without a time (ordered by ingest time) fall among
	// the others.
	last := d.events[len(d.events)-1].IngestTime
	if end := d.base.AddDate(0, 0, queryDays); !end.After(last) || !d.base.Before(d.events[0].IngestTime) {
		t.Fatalf("event times [%s, %s) do not surround the ingest times", d.base, end)
	}
}

// TestQuery_InvalidArgument checks two errors of docs/query.md through
// the API, over the Connect and the gRPC protocol: an unknown field is
// InvalidArgument with a google.rpc.BadRequest detail naming the request
// field, and so is a percentile of a string field.
func TestQuery_InvalidArgument(t *testing.T) {
	t.Parallel()
	url, _ := startServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	events := siltv1connect.NewEventServiceClient(http.DefaultClient, url)
	in := queryInput(genQueryEvent(rand.New(rand.NewPCG(1, 2)), 0, time.Now()))
	if _, err := events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{
		Project: queryProject, Stream: "web/pageviews", Events: []*siltv1.EventInput{in},
	})); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, field string // field: the request field the error names
		req         *siltv1.QueryRequest
	}{
		{
			name: "unknown_field", field: "filter.and[1].compare.field",
			req: &siltv1.QueryRequest{
				Filter:       and(eq("type", strV("click")), eq("attribute.org", strV("Acme"))),
				Aggregations: aggs(count()),
			},
		},
		{
			name: "unknown_group_key", field: "group_by[1].field",
			req: &siltv1.QueryRequest{GroupBy: by("type", "org"), Aggregations: aggs(count())},
		},
		{
			name: "percentile_of_string", field: "aggregations[1].field",
			req: &siltv1.QueryRequest{Aggregations: aggs(count(), pct("attributes.org", 50))},
		},
	}
	var h2c http.Protocols // gRPC needs HTTP/2: cleartext, with prior knowledge
	h2c.SetUnencryptedHTTP2(true)
	protocols := []struct {
		name   string
		client siltv1connect.QueryServiceClient
	}{
		{"connect", siltv1connect.NewQueryServiceClient(http.DefaultClient, url)},
		{"grpc", siltv1connect.NewQueryServiceClient(&http.Client{Transport: &http.Transport{Protocols: &h2c}}, url, connect.WithGRPC())},
	}
	for _, p := range protocols {
		for _, c := range cases {
			t.Run(p.name+"/"+c.name, func(t *testing.T) {
				req := proto.CloneOf(c.req)
				req.Project = queryProject
				_, err := p.client.Query(ctx, connect.NewRequest(req))
				if code := connect.CodeOf(err); code != connect.CodeInvalidArgument {
					t.Fatalf("got %v (code %v), want InvalidArgument", err, code)
				}
				var ce *connect.Error
				if !errors.As(err, &ce) {
					t.Fatalf("%v is no *connect.Error", err)
				}
				var fields []string
				for _, d := range ce.Details() {
					v, err := d.Value()
					if err != nil {
						t.Fatalf("detail %s: %v", d.Type(), err)
					}
					if br, ok := v.(*errdetails.BadRequest); ok {
						for _, fv := range br.GetFieldViolations() {
							fields = append(fields, fv.GetField())
						}
					}
				}
				if !slices.Equal(fields, []string{c.field}) {
					t.Fatalf("%v: BadRequest names fields %q, want [%q]", err, fields, c.field)
				}
			})
		}
	}
}
