package server_test

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/server"
)

const project = "acme"

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.:/-]`)

// streamName is a stream name unique to the (sub)test.
func streamName(t *testing.T) string {
	return unsafeName.ReplaceAllString(t.Name(), "_")
}

// jsonEvent builds an event with JSON data.
func jsonEvent(t *testing.T, typ string, data map[string]any) *siltv1.EventInput {
	t.Helper()
	v, err := structpb.NewValue(data)
	if err != nil {
		t.Fatal(err)
	}
	return &siltv1.EventInput{Type: typ, Payload: &siltv1.EventInput_Data{Data: v}}
}

// numbered builds n events whose data carries i.
func numbered(t *testing.T, from, n int) []*siltv1.EventInput {
	out := make([]*siltv1.EventInput, n)
	for i := range n {
		out[i] = jsonEvent(t, "n", map[string]any{"i": float64(from + i)})
	}
	return out
}

// readAll reads a stream from seq 1 to its tail.
func readAll(t *testing.T, c clients, stream string) []*siltv1.Event {
	t.Helper()
	var out []*siltv1.Event
	next := uint64(1)
	for range 10000 {
		res, err := c.events.Read(testContext(t), connect.NewRequest(&siltv1.ReadRequest{
			Project: project, Stream: stream, Start: &siltv1.ReadRequest_FromSeq{FromSeq: next}, Limit: 1000,
		}))
		if err != nil {
			t.Fatalf("read %s from %d: %v", stream, next, err)
		}
		out = append(out, res.Msg.GetEvents()...)
		next = res.Msg.GetNextSeq()
		if res.Msg.GetUpToDate() {
			return out
		}
	}
	t.Fatal("read did not reach the tail")
	return nil
}

// requireCode fails unless err is a Connect error with the code.
func requireCode(t *testing.T, err error, want connect.Code) *connect.Error {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("got error %v, want code %v", err, want)
	}
	if ce.Code() != want {
		t.Fatalf("got code %v (%v), want %v", ce.Code(), ce.Message(), want)
	}
	return ce
}

// errorInfo returns the google.rpc.ErrorInfo detail of err.
func errorInfo(t *testing.T, ce *connect.Error) *errdetails.ErrorInfo {
	t.Helper()
	for _, d := range ce.Details() {
		v, err := d.Value()
		if err != nil {
			continue
		}
		if info, ok := v.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	t.Fatalf("error %v has no ErrorInfo detail", ce)
	return nil
}

func TestAPI_AppendRead_RoundTrip(t *testing.T) {
	t.Parallel()
	forEachProtocol(t, func(t *testing.T, c clients) {
		stream := streamName(t)
		at := time.Date(2026, 11, 1, 12, 0, 0, 123456000, time.UTC)
		data, _ := structpb.NewValue(map[string]any{"user": map[string]any{"plan": "pro"}, "n": 1.5, "tags": []any{"a", "b"}, "ok": true, "none": nil})
		events := []*siltv1.EventInput{
			{
				Id: "client-id-1", Type: "order.created", Source: proto.String("/shop"), Subject: proto.String("order/1"), Time: timestamppb.New(at),
				Attributes: map[string]string{"org": "o1", "status": "ok"}, Metrics: map[string]float64{"ms": 12.5},
				Payload: &siltv1.EventInput_Data{Data: data},
			},
			{Type: "blob", Payload: &siltv1.EventInput_BinaryData{BinaryData: []byte{0, 1, 2, 255}}, ContentType: "application/octet-stream"},
			{Type: "raw.json", Payload: &siltv1.EventInput_BinaryData{BinaryData: []byte(`{"x": [1, 2]}`)}, ContentType: "application/json"},
		}
		before := time.Now().Add(-time.Second)
		res, err := c.events.Append(testContext(t), connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream, Events: events}))
		if err != nil {
			t.Fatal(err)
		}
		if res.Msg.GetFirstSeq() != 1 || res.Msg.GetLastSeq() != 3 || res.Msg.GetDuplicate() {
			t.Fatalf("append result %v, want seq 1..3 not duplicate", res.Msg)
		}
		if it := res.Msg.GetIngestTime().AsTime(); it.Before(before) || it.After(time.Now().Add(time.Second)) {
			t.Fatalf("ingest time %v is not now", it)
		}
		got := readAll(t, c, stream)
		if len(got) != 3 {
			t.Fatalf("read %d events, want 3", len(got))
		}
		for i, e := range got {
			if e.GetProject() != project || e.GetStream() != stream || e.GetSeq() != uint64(i+1) {
				t.Errorf("event %d: project/stream/seq = %s/%s/%d", i, e.GetProject(), e.GetStream(), e.GetSeq())
			}
			if e.GetId() == "" || !e.GetIngestTime().AsTime().Equal(res.Msg.GetIngestTime().AsTime()) {
				t.Errorf("event %d: id %q ingest %v", i, e.GetId(), e.GetIngestTime().AsTime())
			}
		}
		first := got[0]
		if first.GetId() != "client-id-1" || first.GetType() != "order.created" || first.GetSource() != "/shop" ||
			first.GetSubject() != "order/1" || !first.GetTime().AsTime().Equal(at) ||
			first.GetAttributes()["org"] != "o1" || first.GetAttributes()["status"] != "ok" || first.GetMetrics()["ms"] != 12.5 ||
			first.GetContentType() != "application/json" || !proto.Equal(first.GetData(), data) {
			t.Errorf("first event does not round-trip: %v", first)
		}
		if got[1].GetId() == got[2].GetId() || len(got[1].GetId()) != 26 {
			t.Errorf("server-made ids %q %q are not distinct ULIDs", got[1].GetId(), got[2].GetId())
		}
		if string(got[1].GetBinaryData()) != "\x00\x01\x02\xff" || got[1].GetContentType() != "application/octet-stream" ||
			!got[1].GetTime().AsTime().Equal(got[1].GetIngestTime().AsTime()) { // no time: its ingest time
			t.Errorf("binary event does not round-trip: %v", got[1])
		}
		want, _ := structpb.NewValue(map[string]any{"x": []any{1.0, 2.0}})
		if !proto.Equal(got[2].GetData(), want) {
			t.Errorf("JSON sent as bytes reads back as %v, want %v", got[2].GetData(), want)
		}
		// raw_json: JSON payloads come back as their stored text.
		raw, err := c.events.Read(testContext(t), connect.NewRequest(&siltv1.ReadRequest{Project: project, Stream: stream, RawJson: true}))
		if err != nil {
			t.Fatal(err)
		}
		rev := raw.Msg.GetEvents()
		if string(rev[0].GetBinaryData()) != `{"n":1.5,"none":null,"ok":true,"tags":["a","b"],"user":{"plan":"pro"}}` || rev[0].GetContentType() != "application/json" {
			t.Errorf("raw JSON of the first event: %q %q", rev[0].GetBinaryData(), rev[0].GetContentType())
		}
		if string(rev[2].GetBinaryData()) != `{"x": [1, 2]}` || string(rev[1].GetBinaryData()) != "\x00\x01\x02\xff" {
			t.Errorf("raw JSON keeps bytes as sent: %q, binary unchanged: %q", rev[2].GetBinaryData(), rev[1].GetBinaryData())
		}
	})
}

func TestAPI_Append_BatchIsAtomic(t *testing.T) {
	t.Parallel()
	forEachProtocol(t, func(t *testing.T, c clients) {
		stream := streamName(t)
		ctx := testContext(t)
		if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream, Events: numbered(t, 0, 2)})); err != nil {
			t.Fatal(err)
		}
		// One bad event in the middle of a batch: nothing of the batch is written.
		batch := numbered(t, 2, 5)
		batch[3].Type = "bad type with spaces"
		_, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream, Events: batch}))
		requireCode(t, err, connect.CodeInvalidArgument)
		// A batch whose precondition fails: nothing written either.
		stale := uint64(1)
		_, err = c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream, Events: numbered(t, 2, 5), ExpectedLastSeq: &stale}))
		requireCode(t, err, connect.CodeFailedPrecondition)
		if got := readAll(t, c, stream); len(got) != 2 {
			t.Fatalf("stream has %d events after two rejected batches, want 2", len(got))
		}
		// The next good batch continues at seq 3, without a gap.
		res, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream, Events: numbered(t, 2, 5)}))
		if err != nil {
			t.Fatal(err)
		}
		if res.Msg.GetFirstSeq() != 3 || res.Msg.GetLastSeq() != 7 {
			t.Fatalf("next batch got seq %d..%d, want 3..7", res.Msg.GetFirstSeq(), res.Msg.GetLastSeq())
		}
		for i, e := range readAll(t, c, stream) {
			if e.GetSeq() != uint64(i+1) || e.GetData().GetStructValue().GetFields()["i"].GetNumberValue() != float64(i) {
				t.Fatalf("event %d is %v", i, e)
			}
		}
	})
}

func TestAPI_Append_IdempotentProducer(t *testing.T) {
	t.Parallel()
	forEachProtocol(t, func(t *testing.T, c clients) {
		stream := streamName(t)
		ctx := testContext(t)
		appendAs := func(epoch, seq uint64, n int) (*siltv1.AppendResponse, error) {
			res, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{
				Project: project, Stream: stream, Events: numbered(t, 0, n),
				Producer: &siltv1.Producer{Id: "p1", Epoch: epoch, Seq: seq},
			}))
			if err != nil {
				return nil, err
			}
			return res.Msg, nil
		}
		first, err := appendAs(1, 0, 3)
		if err != nil || first.GetFirstSeq() != 1 || first.GetLastSeq() != 3 || first.GetDuplicate() {
			t.Fatalf("first batch: %v %v", first, err)
		}
		// A retry of the same batch is a duplicate with the original range.
		dup, err := appendAs(1, 0, 3)
		if err != nil || !dup.GetDuplicate() || dup.GetFirstSeq() != 1 || dup.GetLastSeq() != 3 {
			t.Fatalf("retry: %v %v, want duplicate of 1..3", dup, err)
		}
		// A gap is rejected with the expected seq.
		_, err = appendAs(1, 5, 1)
		ce := requireCode(t, err, connect.CodeAborted)
		if info := errorInfo(t, ce); info.GetReason() != "PRODUCER_SEQ_GAP" || info.GetMetadata()["expected_seq"] != "1" {
			t.Fatalf("gap error info %v", info)
		}
		second, err := appendAs(1, 1, 2)
		if err != nil || second.GetFirstSeq() != 4 || second.GetLastSeq() != 5 {
			t.Fatalf("second batch: %v %v", second, err)
		}
		// A new epoch starts at 0 and fences the old one.
		third, err := appendAs(2, 0, 1)
		if err != nil || third.GetFirstSeq() != 6 {
			t.Fatalf("epoch 2 batch: %v %v", third, err)
		}
		_, err = appendAs(1, 2, 1)
		ce = requireCode(t, err, connect.CodeFailedPrecondition)
		if info := errorInfo(t, ce); info.GetReason() != "PRODUCER_FENCED" || info.GetMetadata()["current_epoch"] != "2" {
			t.Fatalf("fenced error info %v", info)
		}
		if got := readAll(t, c, stream); len(got) != 6 {
			t.Fatalf("stream has %d events, want 6 (no duplicate written)", len(got))
		}
	})
}

func TestAPI_Append_ExpectedLastSeq(t *testing.T) {
	t.Parallel()
	forEachProtocol(t, func(t *testing.T, c clients) {
		stream := streamName(t)
		ctx := testContext(t)
		appendAt := func(last uint64) error {
			_, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{
				Project: project, Stream: stream, Events: numbered(t, 0, 2), ExpectedLastSeq: &last,
			}))
			return err
		}
		if err := appendAt(0); err != nil {
			t.Fatalf("append to an empty stream expecting 0: %v", err)
		}
		ce := requireCode(t, appendAt(0), connect.CodeFailedPrecondition)
		if info := errorInfo(t, ce); info.GetReason() != "LAST_SEQ_MISMATCH" || info.GetMetadata()["last_seq"] != "2" {
			t.Fatalf("mismatch error info %v", info)
		}
		if !strings.Contains(ce.Message(), "2") {
			t.Errorf("message %q does not name the actual tail", ce.Message())
		}
		if err := appendAt(2); err != nil {
			t.Fatalf("append expecting the actual tail: %v", err)
		}
	})
}

func TestAPI_Append_AutoCreate(t *testing.T) {
	t.Parallel()
	for _, auto := range []bool{true, false} {
		t.Run(fmt.Sprintf("auto=%v", auto), func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, func(c *server.Config) { c.AutoCreate = auto })
			c := ts.clients(protocols[0])
			ctx := testContext(t)
			_, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: "fresh", Events: numbered(t, 0, 1)}))
			if auto {
				if err != nil {
					t.Fatalf("append with auto-create: %v", err)
				}
				info, err := c.streams.GetStream(ctx, connect.NewRequest(&siltv1.GetStreamRequest{Project: project, Stream: "fresh"}))
				if err != nil || info.Msg.GetStream().GetLastSeq() != 1 || info.Msg.GetStream().GetSettings().GetContentType() != "application/json" {
					t.Fatalf("auto-created stream: %v %v", info, err)
				}
				return
			}
			requireCode(t, err, connect.CodeNotFound)
			_, err = c.streams.GetStream(ctx, connect.NewRequest(&siltv1.GetStreamRequest{Project: project, Stream: "fresh"}))
			requireCode(t, err, connect.CodeNotFound)
			if _, err := c.streams.CreateStream(ctx, connect.NewRequest(&siltv1.CreateStreamRequest{Project: project, Stream: "fresh"})); err != nil {
				t.Fatal(err)
			}
			if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: "fresh", Events: numbered(t, 0, 1)})); err != nil {
				t.Fatalf("append after create: %v", err)
			}
		})
	}
}

// structValue builds a JSON value.
func structValue(t *testing.T, v any) *structpb.Value {
	t.Helper()
	out, err := structpb.NewValue(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAPI_Append_BinaryEventsFromManyClients: binary_data events, which
// the server's fast path parses straight into records from protobuf
// requests, read back field for field, while several clients append at
// once (their requests share recycled buffers on the server), over every
// protocol and over Connect JSON, which takes the general path.
func TestAPI_Append_BinaryEventsFromManyClients(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	variants := append([]protocol(nil), protocols...)
	variants = append(variants, protocol{name: "connect-json", opts: []connect.ClientOption{connect.WithProtoJSON()}})
	for _, p := range variants {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			c := ts.clients(p)
			stream := streamName(t)
			at := time.Date(2026, 11, 2, 3, 4, 5, 6000, time.UTC)
			event := func(w, r, i int) *siltv1.EventInput {
				return &siltv1.EventInput{
					Id: fmt.Sprintf("w%d-r%d-i%d", w, r, i), Type: "page.view", Source: proto.String("web"), Subject: proto.String(fmt.Sprintf("u/%d", i)),
					Time:        timestamppb.New(at.Add(time.Duration(i) * time.Second)),
					Attributes:  map[string]string{"writer": fmt.Sprint(w), "round": fmt.Sprint(r), "note": "grüße"},
					Metrics:     map[string]float64{"i": float64(i), "neg": -0.25},
					Payload:     &siltv1.EventInput_BinaryData{BinaryData: []byte(fmt.Sprintf(`{"w":%d,"r":%d,"i":%d,"pad":"%s"}`, w, r, i, strings.Repeat("x", i%300)))},
					ContentType: "application/json",
				}
			}
			const writers, rounds, batch = 4, 8, 150
			errs := make(chan error, writers)
			for w := range writers {
				go func() {
					for r := range rounds {
						evs := make([]*siltv1.EventInput, batch)
						for i := range evs {
							evs[i] = event(w, r, i)
						}
						if _, err := c.events.Append(testContext(t), connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream, Events: evs})); err != nil {
							errs <- fmt.Errorf("writer %d round %d: %w", w, r, err)
							return
						}
					}
					errs <- nil
				}()
			}
			for range writers {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			got := readAll(t, c, stream)
			if len(got) != writers*rounds*batch {
				t.Fatalf("read %d events, want %d", len(got), writers*rounds*batch)
			}
			seen := make(map[string]bool, len(got))
			for k, e := range got {
				var w, r, i int
				if _, err := fmt.Sscanf(e.GetId(), "w%d-r%d-i%d", &w, &r, &i); err != nil || seen[e.GetId()] {
					t.Fatalf("event %d has id %q (seen before: %v)", k, e.GetId(), seen[e.GetId()])
				}
				seen[e.GetId()] = true
				want := event(w, r, i)
				wantData, err := structpb.NewValue(map[string]any{"w": float64(w), "r": float64(r), "i": float64(i), "pad": strings.Repeat("x", i%300)})
				if err != nil {
					t.Fatal(err)
				}
				if e.GetType() != want.GetType() || e.GetSource() != want.GetSource() || e.GetSubject() != want.GetSubject() ||
					!e.GetTime().AsTime().Equal(want.GetTime().AsTime()) || !maps.Equal(e.GetAttributes(), want.GetAttributes()) ||
					!maps.Equal(e.GetMetrics(), want.GetMetrics()) || e.GetContentType() != "application/json" || !proto.Equal(e.GetData(), wantData) {
					t.Fatalf("event %d (%s) = %v\nwant %v", k, e.GetId(), e, want)
				}
			}
		})
	}
}
