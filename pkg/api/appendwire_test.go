package api

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
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

func TestParseAppend_TakesWhatClientsSend(t *testing.T) {
	t.Parallel()
	for i, req := range fastAppendSamples() {
		b, err := Codec{}.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		checkParseAppend(t, b)
		got, _, ok := parseAppend(b, nil)
		if !ok {
			t.Fatalf("sample %d: fast path declined %v", i, req)
		}
		// A deep copy taken before the body is overwritten: connect reuses
		// the body's buffer, so nothing parsed may alias it.
		want := got
		want.Packed = make([]event.PackedEvent, len(got.Packed))
		for j, p := range got.Packed {
			want.Packed[j] = event.PackedEvent{ID: strings.Clone(p.ID), Flags: p.Flags, Tail: bytes.Clone(p.Tail)}
		}
		clear(b)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("sample %d: packed request changed with the body", i)
		}
	}
}

func TestParseAppend_DeclinesWhatItDoesNotCheck(t *testing.T) {
	t.Parallel()
	base := func() *siltv1.AppendRequest { return fastAppendSamples()[1] }
	cases := map[string]func(*siltv1.AppendRequest){
		"data value": func(r *siltv1.AppendRequest) {
			r.Events[0].Payload = &siltv1.EventInput_Data{Data: structpb.NewNumberValue(1)}
		},
		"bad project":       func(r *siltv1.AppendRequest) { r.Project = "Acme" },
		"bad stream":        func(r *siltv1.AppendRequest) { r.Stream = "a//b" },
		"no events":         func(r *siltv1.AppendRequest) { r.Events = nil },
		"bad type":          func(r *siltv1.AppendRequest) { r.Events[0].Type = "" },
		"bad map key":       func(r *siltv1.AppendRequest) { r.Events[0].Attributes["1x"] = "v" },
		"NaN metric":        func(r *siltv1.AppendRequest) { r.Events[0].Metrics["m"] = math.NaN() },
		"long source":       func(r *siltv1.AppendRequest) { r.Events[0].Source = proto.String(strings.Repeat("ü", 1025)) },
		"invalid JSON":      func(r *siltv1.AppendRequest) { r.Events[0].ContentType = event.ContentTypeJSON },
		"empty producer id": func(r *siltv1.AppendRequest) { r.Producer.Id = "" },
		"zero time":         func(r *siltv1.AppendRequest) { r.Events[0].Time = timestamppb.New(time.Time{}) },
		"time before 1678":  func(r *siltv1.AppendRequest) { r.Events[0].Time = &timestamppb.Timestamp{Seconds: minTimeSeconds - 1} },
		"time from 2262":    func(r *siltv1.AppendRequest) { r.Events[0].Time = &timestamppb.Timestamp{Seconds: maxTimeSeconds} },
		"bad nanos":         func(r *siltv1.AppendRequest) { r.Events[0].Time = &timestamppb.Timestamp{Nanos: -1} },
	}
	for name, mutate := range cases {
		r := base()
		mutate(r)
		b, err := proto.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, ok := parseAppend(b, nil); ok {
			t.Errorf("%s: fast path took it", name)
		}
	}
	b, _ := proto.Marshal(base())
	for name, extra := range map[string][]byte{
		"unknown field":    protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 1),
		"project twice":    protowire.AppendString(protowire.AppendTag(nil, fieldAppendProject, protowire.BytesType), "acme"),
		"producer twice":   protowire.AppendBytes(protowire.AppendTag(nil, fieldAppendProducer, protowire.BytesType), nil),
		"truncated":        {0x0a},
		"wrong wire type":  protowire.AppendVarint(protowire.AppendTag(nil, fieldAppendStream, protowire.VarintType), 1),
		"duplicate key":    eventWithAttributes("k", "k"),
		"value-less entry": eventWithEntry(protowire.AppendString(protowire.AppendTag(nil, fieldMapKey, protowire.BytesType), "k")),
	} {
		if _, _, ok := parseAppend(append(bytes.Clone(b), extra...), nil); ok {
			t.Errorf("%s: fast path took it", name)
		}
	}
}

// eventWithAttributes is an events field whose attributes have the keys.
func eventWithAttributes(keys ...string) []byte {
	in := &siltv1.EventInput{Type: "t", Payload: &siltv1.EventInput_BinaryData{}}
	b, _ := proto.Marshal(in)
	for _, k := range keys {
		entry := protowire.AppendString(protowire.AppendTag(nil, fieldMapKey, protowire.BytesType), k)
		entry = protowire.AppendString(protowire.AppendTag(entry, fieldMapValue, protowire.BytesType), "v")
		b = protowire.AppendBytes(protowire.AppendTag(b, fieldInputAttributes, protowire.BytesType), entry)
	}
	return protowire.AppendBytes(protowire.AppendTag(nil, fieldAppendEvents, protowire.BytesType), b)
}

// eventWithEntry is an events field with one attributes entry.
func eventWithEntry(entry []byte) []byte {
	in := &siltv1.EventInput{Type: "t", Payload: &siltv1.EventInput_BinaryData{}}
	b, _ := proto.Marshal(in)
	b = protowire.AppendBytes(protowire.AppendTag(b, fieldInputAttributes, protowire.BytesType), entry)
	return protowire.AppendBytes(protowire.AppendTag(nil, fieldAppendEvents, protowire.BytesType), b)
}

// FuzzParseAppend: whatever the fast path takes, protobuf-go decodes,
// protovalidate's full rules accept, eventFromInput converts, and the
// records the fast path packed hold exactly the converted events.
func FuzzParseAppend(f *testing.F) {
	for _, r := range fastAppendSamples() {
		b, _ := proto.Marshal(r)
		f.Add(b)
	}
	f.Add(eventWithAttributes("a", "b"))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkParseAppend(t, b)
	})
}

// testValidator is built once: building one compiles every rule.
var testValidator = sync.OnceValues(newValidateInterceptor)

// checkParseAppend fails when the fast path takes b but the general path
// would reject it or store something else.
func checkParseAppend(t *testing.T, b []byte) {
	t.Helper()
	fast, _, ok := parseAppend(b, nil)
	if !ok {
		return
	}
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
	if fast.Project != msg.GetProject() || fast.Stream != msg.GetStream() ||
		!reflect.DeepEqual(fast.ExpectedLastSeq, msg.ExpectedLastSeq) || len(fast.Packed) != len(msg.GetEvents()) || fast.Events != nil {
		t.Fatalf("fast path: %+v\ngeneral path: %v", fast, msg)
	}
	if p := msg.GetProducer(); (p == nil) != (fast.Producer == nil) ||
		(p != nil && *fast.Producer != event.Producer{ID: p.GetId(), Epoch: p.GetEpoch(), Seq: p.GetSeq()}) {
		t.Fatalf("producer: fast %+v, general %v", fast.Producer, p)
	}
	for i, in := range msg.GetEvents() {
		want, err := eventFromInput(in)
		if err != nil {
			t.Fatalf("fast path took event %d; eventFromInput: %v", i, err)
		}
		p := fast.Packed[i]
		var got event.Event
		body := record.AppendString([]byte{p.Flags}, p.ID)
		if err := record.DecodeBody(append(body, p.Tail...), &got); err != nil {
			t.Fatalf("event %d: packed record does not decode: %v", i, err)
		}
		if len(want.Data) == 0 {
			want.Data = nil
		}
		if len(want.Attributes) == 0 {
			want.Attributes = nil
		}
		if len(want.Metrics) == 0 {
			want.Metrics = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("event %d: fast path packed %+v\ngeneral path stores %+v", i, got, want)
		}
	}
}
