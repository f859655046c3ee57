package server_test

import (
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// semanticsTime is the time of the events of semanticsInputs that have
// one: long before any ingest time.
var semanticsTime = time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC)

// semanticsInputs are events whose source, subject, time and payload are
// each absent, present and empty, or present (seqs 1 to 4).
func semanticsInputs() []*siltv1.EventInput {
	return []*siltv1.EventInput{
		// An empty source, no subject, JSON data, no time.
		{Type: "a", Source: proto.String(""), Payload: &siltv1.EventInput_Data{Data: structpb.NewNumberValue(1)}},
		// No source, an empty subject, an empty binary payload.
		{Type: "a", Subject: proto.String(""), Time: timestamppb.New(semanticsTime),
			Payload: &siltv1.EventInput_BinaryData{BinaryData: []byte{}}, ContentType: "application/octet-stream"},
		// No payload: an analytics point (its content type is ignored).
		{Type: "b", Source: proto.String("web"), Subject: proto.String("u"), Time: timestamppb.New(semanticsTime),
			Metrics: map[string]float64{"ms": 3}, ContentType: "text/plain"},
		// An empty source and nothing else.
		{Type: "b", Source: proto.String("")},
	}
}

// checkSemantics fails unless e, the event at seq of semanticsInputs,
// reads back as appended: absent parts absent, empty ones empty, and its
// time, or its ingest time when it had none.
func checkSemantics(t *testing.T, what string, e *siltv1.Event) {
	t.Helper()
	type want struct {
		source, subject *string
		payload         string // "data", "binary" or ""
		ct              string
		timed           bool
	}
	w := map[uint64]want{
		1: {source: proto.String(""), payload: "data", ct: "application/json"},
		2: {subject: proto.String(""), payload: "binary", ct: "application/octet-stream", timed: true},
		3: {source: proto.String("web"), subject: proto.String("u"), timed: true},
		4: {source: proto.String("")},
	}[e.GetSeq()]
	eq := func(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	if !eq(e.Source, w.source) || !eq(e.Subject, w.subject) {
		t.Errorf("%s: seq %d has source %v subject %v, want %v %v", what, e.GetSeq(), ptr(e.Source), ptr(e.Subject), ptr(w.source), ptr(w.subject))
	}
	payload := ""
	switch p := e.GetPayload().(type) {
	case *siltv1.Event_Data:
		payload = "data"
	case *siltv1.Event_BinaryData:
		payload = "binary"
		if len(p.BinaryData) != 0 {
			t.Errorf("%s: seq %d has binary data %q, want empty", what, e.GetSeq(), p.BinaryData)
		}
	}
	if payload != w.payload || e.GetContentType() != w.ct {
		t.Errorf("%s: seq %d has payload %q (%q), want %q (%q)", what, e.GetSeq(), payload, e.GetContentType(), w.payload, w.ct)
	}
	wantTime := e.GetIngestTime().AsTime()
	if w.timed {
		wantTime = semanticsTime
	}
	if e.GetTime() == nil || !e.GetTime().AsTime().Equal(wantTime) {
		t.Errorf("%s: seq %d has time %v, want %v", what, e.GetSeq(), e.GetTime(), wantTime)
	}
}

func ptr(s *string) string {
	if s == nil {
		return "<none>"
	}
	return "=" + *s
}

// TestTiers_EventSemantics: presence of source and subject, an optional
// payload and a missing time's default hold alike for Read, Subscribe and
// Query, in the hot tier and in a segment, appended over each protocol
// (binary bodies take the Append fast path, JSON data the general one).
func TestTiers_EventSemantics(t *testing.T) {
	t.Parallel()
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, noHistoryWork)
			c := ts.clients(p)
			// Seq 1's JSON data takes the general path; 2 to 4, all binary or
			// without a payload, the fast one.
			in := semanticsInputs()
			var ingest time.Time
			for _, evs := range [][]*siltv1.EventInput{in[:1], in[1:]} {
				res, err := c.events.Append(testContext(t), connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: "s", Events: evs}))
				if err != nil {
					t.Fatal(err)
				}
				ingest = res.Msg.GetIngestTime().AsTime()
			}
			for _, tier := range []string{"hot", "cold"} {
				if tier == "cold" {
					rotate(t, ts, 1)
				}
				for _, r := range tierReaders(c, ts.url, 4) {
					evs, err := r.read(t)
					if err != nil || len(evs) != 4 {
						t.Fatalf("%s %s: %d events, %v", tier, r.name, len(evs), err)
					}
					for _, e := range evs {
						checkSemantics(t, tier+" "+r.name, e)
					}
				}
				checkSemanticQueries(t, tier, ts.url, p, ingest)
			}
		})
	}
}

// checkSemanticQueries runs aggregations over semanticsInputs' events.
func checkSemanticQueries(t *testing.T, tier, url string, p protocol, ingest time.Time) {
	t.Helper()
	q := queryClient(url, p)
	count := []*siltv1.Aggregation{{Function: siltv1.AggregateFunction_AGGREGATE_FUNCTION_COUNT}}
	run := func(req *siltv1.QueryRequest) []*siltv1.Row {
		t.Helper()
		req.Project, req.Streams, req.Aggregations = project, []string{"s"}, count
		res, err := q.Query(testContext(t), connect.NewRequest(req))
		if err != nil {
			t.Fatalf("%s: %v: %v", tier, req, err)
		}
		return res.Msg.GetRows()
	}
	total := func(what string, req *siltv1.QueryRequest, want int64) {
		t.Helper()
		rows := run(req)
		if got := int64(0); len(rows) == 1 {
			got = rows[0].GetValues()[0].GetIntValue()
			if got != want {
				t.Errorf("%s %s: count %d, want %d", tier, what, got, want)
			}
		} else if want != 0 || len(rows) > 1 {
			t.Errorf("%s %s: %d rows, want one", tier, what, len(rows))
		}
	}
	// By source: a null group (seq 2), "" (1 and 4) and "web" (3).
	groups := map[string]int64{}
	for _, r := range run(&siltv1.QueryRequest{GroupBy: []*siltv1.GroupBy{{Kind: &siltv1.GroupBy_Field{Field: "source"}}}}) {
		key := "<null>"
		if v := r.GetValues()[0]; v.GetKind() != nil {
			key = "=" + v.GetStringValue()
		}
		groups[key] = r.GetValues()[1].GetIntValue()
	}
	if want := map[string]int64{"<null>": 1, "=": 2, "=web": 1}; len(groups) != len(want) || groups["<null>"] != 1 || groups["="] != 2 || groups["=web"] != 1 {
		t.Errorf("%s: count by source %v, want %v", tier, groups, want)
	}
	str := func(s string) *siltv1.QueryValue {
		return &siltv1.QueryValue{Kind: &siltv1.QueryValue_StringValue{StringValue: s}}
	}
	total(`source == ""`, &siltv1.QueryRequest{Filter: &siltv1.Filter{Kind: &siltv1.Filter_Compare{Compare: &siltv1.Comparison{
		Field: "source", Op: siltv1.CompareOp_COMPARE_OP_EQ, Value: str("")}}}}, 2)
	total(`subject == ""`, &siltv1.QueryRequest{Filter: &siltv1.Filter{Kind: &siltv1.Filter_Compare{Compare: &siltv1.Comparison{
		Field: "subject", Op: siltv1.CompareOp_COMPARE_OP_EQ, Value: str("")}}}}, 1)
	total("exists(source)", &siltv1.QueryRequest{Filter: &siltv1.Filter{Kind: &siltv1.Filter_Exists{Exists: "source"}}}, 3)
	total("exists(subject)", &siltv1.QueryRequest{Filter: &siltv1.Filter{Kind: &siltv1.Filter_Exists{Exists: "subject"}}}, 2)
	total("exists(data)", &siltv1.QueryRequest{Filter: &siltv1.Filter{Kind: &siltv1.Filter_Exists{Exists: "data"}}}, 1)
	// The events without a time are found around their ingest time, the
	// others around theirs.
	around := func(at time.Time) *siltv1.TimeRange {
		return &siltv1.TimeRange{Start: timestamppb.New(at.Add(-time.Minute)), End: timestamppb.New(at.Add(time.Minute))}
	}
	total("time near ingest", &siltv1.QueryRequest{Time: around(ingest)}, 2)
	total("time near 2020", &siltv1.QueryRequest{Time: around(semanticsTime)}, 2)
}
