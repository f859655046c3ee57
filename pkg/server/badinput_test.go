package server_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"buf.build/go/protovalidate"
	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	validatepb "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/server"
)

// violationFields lists the field paths of an InvalidArgument's violations.
func violationFields(t *testing.T, ce *connect.Error) []string {
	t.Helper()
	var out []string
	for _, d := range ce.Details() {
		v, err := d.Value()
		if err != nil {
			continue
		}
		if vs, ok := v.(*validatepb.Violations); ok {
			for _, viol := range vs.GetViolations() {
				out = append(out, protovalidate.FieldPathString(viol.GetField()))
			}
		}
	}
	return out
}

// TestAPI_BadInput covers every row of the table in docs/api.md.
func TestAPI_BadInput(t *testing.T) {
	t.Parallel()
	good := func() *siltv1.AppendRequest {
		return &siltv1.AppendRequest{Project: project, Stream: "s", Events: numbered(t, 0, 1)}
	}
	withEvent := func(mut func(e *siltv1.EventInput)) *siltv1.AppendRequest {
		r := good()
		mut(r.Events[0])
		return r
	}
	many := good()
	many.Events = numbered(t, 0, 10001)
	big := withEvent(func(e *siltv1.EventInput) {
		e.Payload = &siltv1.EventInput_Data{Data: structValue(t, map[string]any{"s": strings.Repeat("x", 1<<20)})}
	})
	huge := good()
	for range 5 {
		huge.Events = append(huge.Events, &siltv1.EventInput{Type: "t", Payload: &siltv1.EventInput_BinaryData{BinaryData: make([]byte, 1<<20-100)}})
	}
	manyAttrs := map[string]string{}
	for i := range 65 {
		manyAttrs["a"+strings.Repeat("x", i)] = "v"
	}

	type call func(ctx context.Context, c clients) error
	appendCall := func(r *siltv1.AppendRequest) call {
		return func(ctx context.Context, c clients) error {
			_, err := c.events.Append(ctx, connect.NewRequest(r))
			return err
		}
	}
	cases := []struct {
		name  string
		call  call
		code  connect.Code
		field string
	}{
		{"project uppercase", appendCall(&siltv1.AppendRequest{Project: "Acme", Stream: "s", Events: numbered(t, 0, 1)}), connect.CodeInvalidArgument, "project"},
		{"project empty", appendCall(&siltv1.AppendRequest{Stream: "s", Events: numbered(t, 0, 1)}), connect.CodeInvalidArgument, "project"},
		{"project too long", appendCall(&siltv1.AppendRequest{Project: strings.Repeat("a", 64), Stream: "s", Events: numbered(t, 0, 1)}), connect.CodeInvalidArgument, "project"},
		{"stream with space", appendCall(&siltv1.AppendRequest{Project: project, Stream: "a b", Events: numbered(t, 0, 1)}), connect.CodeInvalidArgument, "stream"},
		{"stream empty segment", appendCall(&siltv1.AppendRequest{Project: project, Stream: "a//b", Events: numbered(t, 0, 1)}), connect.CodeInvalidArgument, "stream"},
		{"stream too long", appendCall(&siltv1.AppendRequest{Project: project, Stream: strings.Repeat("s", 257), Events: numbered(t, 0, 1)}), connect.CodeInvalidArgument, "stream"},
		{"no events", appendCall(&siltv1.AppendRequest{Project: project, Stream: "s"}), connect.CodeInvalidArgument, "events"},
		{"more than 10000 events", appendCall(many), connect.CodeInvalidArgument, "events"},
		{"event without type", appendCall(withEvent(func(e *siltv1.EventInput) { e.Type = "" })), connect.CodeInvalidArgument, "events[0].type"},
		{"event type with space", appendCall(withEvent(func(e *siltv1.EventInput) { e.Type = "a b" })), connect.CodeInvalidArgument, "events[0].type"},
		{"attribute key syntax", appendCall(withEvent(func(e *siltv1.EventInput) { e.Attributes = map[string]string{"1x": "v"} })), connect.CodeInvalidArgument, `events[0].attributes["1x"]`},
		{"more than 64 attributes", appendCall(withEvent(func(e *siltv1.EventInput) { e.Attributes = manyAttrs })), connect.CodeInvalidArgument, "events[0].attributes"},
		{"metric not finite", appendCall(withEvent(func(e *siltv1.EventInput) { e.Metrics = map[string]float64{"m": math.Inf(1)} })), connect.CodeInvalidArgument, `events[0].metrics["m"]`},
		{"event time in 2300", appendCall(withEvent(func(e *siltv1.EventInput) {
			e.Time = timestamppb.New(time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC))
		})), connect.CodeInvalidArgument, "events[0].time"},
		{"event time in 1600", appendCall(withEvent(func(e *siltv1.EventInput) {
			e.Time = timestamppb.New(time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC))
		})), connect.CodeInvalidArgument, "events[0].time"},
		{"event time 0001-01-01, Go's zero time", appendCall(withEvent(func(e *siltv1.EventInput) {
			e.Time = timestamppb.New(time.Time{})
		})), connect.CodeInvalidArgument, "events[0].time"},
		{"id not printable", appendCall(withEvent(func(e *siltv1.EventInput) { e.Id = "a b" })), connect.CodeInvalidArgument, "events[0].id"},
		{"event over 1 MiB", appendCall(big), connect.CodeInvalidArgument, "events[0]"},
		{"binary JSON that is not JSON", appendCall(withEvent(func(e *siltv1.EventInput) {
			e.Payload, e.ContentType = &siltv1.EventInput_BinaryData{BinaryData: []byte("{nope")}, "application/json"
		})), connect.CodeInvalidArgument, "events[0]"},
		{"binary JSON with invalid UTF-8", appendCall(withEvent(func(e *siltv1.EventInput) {
			e.Payload, e.ContentType = &siltv1.EventInput_BinaryData{BinaryData: []byte("\"\xff\"")}, "application/json"
		})), connect.CodeInvalidArgument, "events[0]"},
		{"request over 4 MiB", appendCall(huge), connect.CodeResourceExhausted, ""},
		{"producer without id", appendCall(func() *siltv1.AppendRequest { r := good(); r.Producer = &siltv1.Producer{}; return r }()), connect.CodeInvalidArgument, "producer.id"},
		{"read limit over 10000", func(ctx context.Context, c clients) error {
			_, err := c.events.Read(ctx, connect.NewRequest(&siltv1.ReadRequest{Project: project, Stream: "s", Limit: 10001}))
			return err
		}, connect.CodeInvalidArgument, "limit"},
		{"read missing stream", func(ctx context.Context, c clients) error {
			_, err := c.events.Read(ctx, connect.NewRequest(&siltv1.ReadRequest{Project: project, Stream: "missing"}))
			return err
		}, connect.CodeNotFound, ""},
		{"get missing stream", func(ctx context.Context, c clients) error {
			_, err := c.streams.GetStream(ctx, connect.NewRequest(&siltv1.GetStreamRequest{Project: project, Stream: "missing"}))
			return err
		}, connect.CodeNotFound, ""},
		{"delete missing stream", func(ctx context.Context, c clients) error {
			_, err := c.streams.DeleteStream(ctx, connect.NewRequest(&siltv1.DeleteStreamRequest{Project: project, Stream: "missing"}))
			return err
		}, connect.CodeNotFound, ""},
		{"create existing stream", func(ctx context.Context, c clients) error {
			_, err := c.streams.CreateStream(ctx, connect.NewRequest(&siltv1.CreateStreamRequest{Project: project, Stream: "s"}))
			return err
		}, connect.CodeAlreadyExists, ""},
		{"list page size over 1000", func(ctx context.Context, c clients) error {
			_, err := c.streams.ListStreams(ctx, connect.NewRequest(&siltv1.ListStreamsRequest{Project: project, PageSize: 1001}))
			return err
		}, connect.CodeInvalidArgument, "page_size"},
		{"list bad page token", func(ctx context.Context, c clients) error {
			_, err := c.streams.ListStreams(ctx, connect.NewRequest(&siltv1.ListStreamsRequest{Project: project, PageToken: "!!"}))
			return err
		}, connect.CodeInvalidArgument, "page_token"},
		{"update without settings", func(ctx context.Context, c clients) error {
			_, err := c.streams.UpdateStream(ctx, connect.NewRequest(&siltv1.UpdateStreamRequest{Project: project, Stream: "s"}))
			return err
		}, connect.CodeInvalidArgument, "settings"},
		{"update unknown mask path", func(ctx context.Context, c clients) error {
			_, err := c.streams.UpdateStream(ctx, connect.NewRequest(&siltv1.UpdateStreamRequest{
				Project: project, Stream: "s", Settings: &siltv1.StreamSettings{}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"nope"}},
			}))
			return err
		}, connect.CodeInvalidArgument, "update_mask"},
		{"negative retention age", func(ctx context.Context, c clients) error {
			_, err := c.streams.CreateStream(ctx, connect.NewRequest(&siltv1.CreateStreamRequest{
				Project: project, Stream: "neg", Settings: &siltv1.StreamSettings{Retention: &siltv1.RetentionPolicy{MaxAge: durationpb.New(-time.Second)}},
			}))
			return err
		}, connect.CodeInvalidArgument, "settings.retention.max_age"},
		{"read below the first retained seq", func(ctx context.Context, c clients) error {
			_, err := c.events.Read(ctx, connect.NewRequest(&siltv1.ReadRequest{Project: project, Stream: "expired", Start: &siltv1.ReadRequest_FromSeq{FromSeq: 2}}))
			return err
		}, connect.CodeOutOfRange, ""},
		{"heartbeat under 100ms", func(ctx context.Context, c clients) error {
			s, err := c.events.Subscribe(ctx, connect.NewRequest(&siltv1.SubscribeRequest{Project: project, Stream: "s", HeartbeatInterval: durationpb.New(time.Millisecond)}))
			if err != nil {
				return err
			}
			defer s.Close()
			for s.Receive() {
			}
			return s.Err()
		}, connect.CodeInvalidArgument, "heartbeat_interval"},
	}
	// "expired" keeps at most one byte: retention expires its events.
	ts := startServer(t, func(c *server.Config) { c.HistoryInterval = 20 * time.Millisecond })
	expireAll(t, ts.clients(protocols[0]), "expired")
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := ts.clients(p)
			ctx := testContext(t)
			if _, err := c.events.Append(ctx, connect.NewRequest(good())); err != nil && connect.CodeOf(err) != connect.CodeAlreadyExists {
				t.Fatal(err)
			}
			before := readAll(t, c, "s")
			for _, tc := range cases {
				t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
					ce := requireCode(t, tc.call(ctx, c), tc.code)
					if tc.field == "" {
						return
					}
					fields := violationFields(t, ce)
					for _, f := range fields {
						if f == tc.field {
							return
						}
					}
					t.Fatalf("violations name %v, want %q (message %q)", fields, tc.field, ce.Message())
				})
			}
			// Nothing was half-written by any rejected append.
			if after := readAll(t, c, "s"); len(after) != len(before) {
				t.Fatalf("stream s went from %d to %d events through rejected requests", len(before), len(after))
			}
		})
	}
}
