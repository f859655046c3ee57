package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
)

// TestServer_Query appends events over each protocol, rotates some into
// segments, and queries both tiers through the generated client: grouped
// aggregates, a listing, and the errors a client can act on.
func TestServer_Query(t *testing.T) {
	t.Parallel()
	ts := startServer(t, noHistoryWork)
	ctx := testContext(t)
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	// 600 events: event i has type t<i%3>, org o<i%4>, duration i, time
	// base + i minutes; the first 400 go to segments.
	for k, p := range protocols {
		c := ts.clients(p)
		for part := range 2 {
			var evs []*siltv1.EventInput
			for j := range 100 {
				i := k*200 + part*100 + j
				e := jsonEvent(t, fmt.Sprintf("t%d", i%3), map[string]any{"i": float64(i), "user": map[string]any{"plan": []string{"free", "pro"}[i%2]}})
				e.Time = timestamppb.New(base.Add(time.Duration(i) * time.Minute))
				e.Attributes = map[string]string{"org": fmt.Sprintf("o%d", i%4)}
				e.Metrics = map[string]float64{"duration": float64(i)}
				evs = append(evs, e)
			}
			if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: "q/" + p.name, Events: evs})); err != nil {
				t.Fatal(err)
			}
		}
		if k == 1 {
			if _, err := adminClient(ts.url).Rotate(ctx, connect.NewRequest(&siltv1.RotateRequest{Project: project})); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			qc := queryClient(ts.url, p)
			res, err := qc.Query(ctx, connect.NewRequest(&siltv1.QueryRequest{
				Project: project, StreamPrefix: "q/",
				Time: &siltv1.TimeRange{Start: timestamppb.New(base), End: timestamppb.New(base.Add(300 * time.Minute))},
				Filter: &siltv1.Filter{Kind: &siltv1.Filter_Compare{Compare: &siltv1.Comparison{
					Field: "$.user.plan", Op: siltv1.CompareOp_COMPARE_OP_EQ, Value: &siltv1.QueryValue{Kind: &siltv1.QueryValue_StringValue{StringValue: "pro"}}}}},
				GroupBy: []*siltv1.GroupBy{{Kind: &siltv1.GroupBy_Field{Field: "type"}}},
				Aggregations: []*siltv1.Aggregation{
					{Function: siltv1.AggregateFunction_AGGREGATE_FUNCTION_COUNT},
					{Function: siltv1.AggregateFunction_AGGREGATE_FUNCTION_SUM, Field: "metrics.duration"},
					{Function: siltv1.AggregateFunction_AGGREGATE_FUNCTION_PERCENTILE, Field: "metrics.duration", Percentile: 50},
				},
			}))
			if err != nil {
				t.Fatal(err)
			}
			// Events 0..299 with odd i ("pro"), by type i%3.
			want := map[string][3]float64{}
			for i := 1; i < 300; i += 2 {
				w := want[fmt.Sprintf("t%d", i%3)]
				w[0]++
				w[1] += float64(i)
				want[fmt.Sprintf("t%d", i%3)] = w
			}
			cols := res.Msg.GetColumns()
			if len(cols) != 4 || cols[0].GetName() != "type" || cols[1].GetType() != siltv1.ColumnType_COLUMN_TYPE_INT || cols[3].GetName() != "p50(metrics.duration)" {
				t.Fatalf("columns %v", cols)
			}
			if len(res.Msg.GetRows()) != 3 {
				t.Fatalf("%d rows, want 3", len(res.Msg.GetRows()))
			}
			for _, r := range res.Msg.GetRows() {
				v := r.GetValues()
				w := want[v[0].GetStringValue()]
				if float64(v[1].GetIntValue()) != w[0] || v[2].GetDoubleValue() != w[1] || v[3].GetDoubleValue() <= 0 {
					t.Errorf("row %v, want count %v sum %v", v, w[0], w[1])
				}
			}
			st := res.Msg.GetStats()
			if st.GetColdRows() == 0 || st.GetHotRows() == 0 || st.GetMatchedRows() != 150 || st.GetElapsed() == nil {
				t.Errorf("stats %v: want rows from both tiers and 150 matches", st)
			}

			// The newest 5 events of one stream, in seq order descending.
			lres, err := qc.Query(ctx, connect.NewRequest(&siltv1.QueryRequest{
				Project: project, Streams: []string{"q/grpc"}, Order: siltv1.QueryOrder_QUERY_ORDER_SEQ_DESC, Limit: 5,
				Fields: []string{"type", "metrics.duration", "$.i"},
			}))
			if err != nil {
				t.Fatal(err)
			}
			evs := lres.Msg.GetEvents()
			if len(evs) != 5 || lres.Msg.GetNextPageToken() == "" {
				t.Fatalf("%d events, token %q", len(evs), lres.Msg.GetNextPageToken())
			}
			for j, e := range evs {
				i := 399 - j
				if e.GetSeq() != uint64(200-j) || e.GetType() != fmt.Sprintf("t%d", i%3) || e.GetMetrics()["duration"] != float64(i) ||
					e.GetData().GetStructValue().GetFields()["i"].GetNumberValue() != float64(i) || e.GetIngestTime() != nil || len(e.GetAttributes()) != 0 {
					t.Errorf("event %d: %v", j, e)
				}
			}
		})
	}

	qc := queryClient(ts.url, protocols[0])
	count := []*siltv1.Aggregation{{Function: siltv1.AggregateFunction_AGGREGATE_FUNCTION_COUNT}}
	for _, tc := range []struct {
		name  string
		req   *siltv1.QueryRequest
		code  connect.Code
		field string
	}{
		{"unknown field", &siltv1.QueryRequest{Project: project, Aggregations: []*siltv1.Aggregation{{Function: siltv1.AggregateFunction_AGGREGATE_FUNCTION_SUM, Field: "colour"}}},
			connect.CodeInvalidArgument, "aggregations[0].field"},
		{"sum of a string", &siltv1.QueryRequest{Project: project, Aggregations: []*siltv1.Aggregation{{Function: siltv1.AggregateFunction_AGGREGATE_FUNCTION_SUM, Field: "type"}}},
			connect.CodeInvalidArgument, "aggregations[0].field"},
		{"filter type mismatch", &siltv1.QueryRequest{Project: project, Aggregations: count, Filter: &siltv1.Filter{Kind: &siltv1.Filter_Compare{Compare: &siltv1.Comparison{
			Field: "metrics.duration", Op: siltv1.CompareOp_COMPARE_OP_GT, Value: &siltv1.QueryValue{Kind: &siltv1.QueryValue_StringValue{StringValue: "x"}}}}}},
			connect.CodeInvalidArgument, "filter.compare"},
		{"filter type mismatch in a nested node", &siltv1.QueryRequest{Project: project, Aggregations: count, Filter: &siltv1.Filter{Kind: &siltv1.Filter_Or{Or: &siltv1.FilterList{Filters: []*siltv1.Filter{
			{Kind: &siltv1.Filter_Exists{Exists: "attributes.org"}},
			{Kind: &siltv1.Filter_Compare{Compare: &siltv1.Comparison{Field: "metrics.duration", Op: siltv1.CompareOp_COMPARE_OP_GT, Value: &siltv1.QueryValue{Kind: &siltv1.QueryValue_StringValue{StringValue: "x"}}}}},
		}}}}},
			connect.CodeInvalidArgument, "filter.or[1].compare"},
		{"bucket under a second", &siltv1.QueryRequest{Project: project, Aggregations: count, GroupBy: []*siltv1.GroupBy{{Kind: &siltv1.GroupBy_TimeBucket{TimeBucket: &siltv1.TimeBucket{Width: durationpb.New(time.Millisecond)}}}}},
			connect.CodeInvalidArgument, ""},
		{"unknown stream", &siltv1.QueryRequest{Project: project, Aggregations: count, Streams: []string{"nope"}}, connect.CodeNotFound, ""},
	} {
		_, err := qc.Query(ctx, connect.NewRequest(tc.req))
		if connect.CodeOf(err) != tc.code {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.code)
			continue
		}
		if tc.field != "" && !hasFieldViolation(err, tc.field) {
			t.Errorf("%s: %v has no BadRequest violation on %s", tc.name, err, tc.field)
		}
	}
	dctx, cancel := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel()
	<-dctx.Done()
	if _, err := qc.Query(dctx, connect.NewRequest(&siltv1.QueryRequest{Project: project, Aggregations: count})); connect.CodeOf(err) != connect.CodeDeadlineExceeded {
		t.Errorf("expired deadline: %v", err)
	}
}

func queryClient(url string, p protocol) siltv1connect.QueryServiceClient {
	hc := http.DefaultClient
	if p.name == "grpc" {
		hc = h2cClient()
	}
	return siltv1connect.NewQueryServiceClient(hc, url, p.opts...)
}

// hasFieldViolation reports whether err carries a google.rpc.BadRequest
// naming field.
func hasFieldViolation(err error, field string) bool {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return false
	}
	for _, d := range ce.Details() {
		v, derr := d.Value()
		if derr != nil {
			continue
		}
		if br, ok := v.(*errdetails.BadRequest); ok {
			for _, fv := range br.GetFieldViolations() {
				if fv.GetField() == field {
					return true
				}
			}
		}
	}
	return false
}
