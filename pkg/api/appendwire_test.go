package api

import (
	"bytes"
	"math"
	"reflect"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/api/internal/appendwire"
	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// fastAppendSamples are requests as clients send them, which the fast path
// must take.
func fastAppendSamples() []*siltv1.AppendRequest {
	last := uint64(7)
	return []*siltv1.AppendRequest{
		{Project: "bench", Stream: "s", Events: floorInputs(3)},
		{
			Project: "acme", Stream: "orders/eu", ExpectedLastSeq: &last,
			Producer: &siltv1.Producer{Id: "p-1", Epoch: 3, Seq: 9},
			Events: []*siltv1.EventInput{
				{
					Id: "client-id", Type: "order.created", Source: proto.String("shop"), Subject: proto.String("o/1"),
					Time:        timestamppb.New(timestamppb.Now().AsTime()),
					Attributes:  map[string]string{"k": "v", "unicode": "grüße"},
					Metrics:     map[string]float64{"m": -1.5, "zero": 0},
					Payload:     &siltv1.EventInput_BinaryData{BinaryData: []byte("raw bytes")},
					ContentType: "text/plain",
				},
				{Type: "t", Payload: &siltv1.EventInput_BinaryData{}, Time: &timestamppb.Timestamp{Seconds: -5}},
				// No payload; a source present but empty, no subject.
				{Type: "point", Source: proto.String(""), Metrics: map[string]float64{"ms": 3}, ContentType: "ignored/without-payload"},
			},
		},
	}
}

func TestAppendFastPath_TakesWhatClientsSend(t *testing.T) {
	t.Parallel()
	for i, req := range fastAppendSamples() {
		b, err := Codec{}.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		if !checkFastPath(t, b) {
			t.Fatalf("sample %d: fast path declined %v", i, req)
		}
	}
}

// FuzzAppendFastPath: for any body, the fast path (package appendwire)
// either declines it, and the general path decodes it, or packs exactly
// what the general path packs: protobuf-go decodes the body, protovalidate's
// full rules accept it, and packAppend packs the same request and records.
func FuzzAppendFastPath(f *testing.F) {
	for _, r := range fastAppendSamples() {
		b, _ := proto.Marshal(r)
		f.Add(b)
	}
	for _, in := range []*siltv1.EventInput{
		{Type: "t", Attributes: map[string]string{"a": "1", "b": "2"}, Payload: &siltv1.EventInput_BinaryData{}},
		{Type: "t", Payload: &siltv1.EventInput_BinaryData{BinaryData: []byte(`{"a":[1,"x"]}`)}, ContentType: event.ContentTypeJSON},
		{Type: "t", Payload: &siltv1.EventInput_Data{Data: structpb.NewStringValue("declined")}},
		{Type: "t", Metrics: map[string]float64{"m": math.Inf(1)}, Payload: &siltv1.EventInput_BinaryData{}},
	} {
		b, _ := proto.Marshal(&siltv1.AppendRequest{Project: "p", Stream: "s", Events: []*siltv1.EventInput{in}})
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkFastPath(t, b)
	})
}

// testValidator is built once: building one compiles every rule.
var testValidator = sync.OnceValues(newValidateInterceptor)

// checkFastPath reports whether the fast path takes b, and fails when it
// does but the general path would reject b or pack something else.
func checkFastPath(t *testing.T, b []byte) bool {
	t.Helper()
	var m appendwire.Message
	if !appendwire.Parse(b, &m) {
		return false
	}
	defer m.Release()
	fast := m.Packed()
	msg := new(siltv1.AppendRequest)
	if err := proto.Unmarshal(b, msg); err != nil {
		t.Fatalf("fast path took %x; protobuf-go: %v", b, err)
	}
	vi, err := testValidator()
	if err != nil {
		t.Fatal(err)
	}
	if err := vi.v.Validate(msg); err != nil {
		t.Fatalf("fast path took %x; protovalidate: %v", b, err)
	}
	general, err := packAppend(msg)
	if err != nil {
		t.Fatalf("fast path took %x; packAppend: %v", b, err)
	}
	fastEvents, generalEvents := fast.Events, general.Events
	fast.Events, general.Events = nil, nil
	if !reflect.DeepEqual(*fast, general) {
		t.Fatalf("fast path: %+v\ngeneral path: %+v", *fast, general)
	}
	if len(fastEvents) != len(generalEvents) {
		t.Fatalf("fast path packed %d events, general path %d", len(fastEvents), len(generalEvents))
	}
	for i := range fastEvents {
		samePacked(t, i, fastEvents[i], generalEvents[i])
	}
	return true
}

// samePacked fails unless fast and general are the same packed event: the
// same bytes, but for the order of map entries, which the fast path keeps
// from the wire and record.Pack takes from a Go map.
func samePacked(t *testing.T, i int, fast, general event.PackedEvent) {
	t.Helper()
	if fast.ID != general.ID || fast.Flags != general.Flags || len(fast.Tail) != len(general.Tail) {
		t.Fatalf("event %d: fast path packed %+v\ngeneral path %+v", i, fast, general)
	}
	var f, g record.View
	fb, gb := record.AppendPacked(nil, &fast, "id"), record.AppendPacked(nil, &general, "id")
	if err := f.Parse(fb); err != nil {
		t.Fatalf("event %d: fast path's record: %v", i, err)
	}
	if err := g.Parse(gb); err != nil {
		t.Fatalf("event %d: general path's record: %v", i, err)
	}
	if f.NumAttributes() <= 1 && f.NumMetrics() <= 1 {
		if !bytes.Equal(fb, gb) {
			t.Fatalf("event %d: fast path packed %x\ngeneral path %x", i, fb, gb)
		}
		return
	}
	var fe, ge event.Event
	if err := record.DecodeBody(fb, &fe); err != nil {
		t.Fatal(err)
	}
	if err := record.DecodeBody(gb, &ge); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fe, ge) || f.NumAttributes() != g.NumAttributes() || f.NumMetrics() != g.NumMetrics() {
		t.Fatalf("event %d: fast path packed %+v\ngeneral path %+v", i, fe, ge)
	}
}
