package appendwire

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/api/internal/rules"
	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// sample is a request as clients send it, which the fast path must take.
func sample() *siltv1.AppendRequest {
	last := uint64(7)
	return &siltv1.AppendRequest{
		Project: "acme", Stream: "orders/eu", ExpectedLastSeq: &last,
		Producer: &siltv1.Producer{Id: "p-1", Epoch: 3, Seq: 9},
		Events: []*siltv1.EventInput{
			{
				Id: "client-id", Type: "order.created", Source: proto.String("shop"), Subject: proto.String("o/1"),
				Time:        timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)),
				Attributes:  map[string]string{"k": "v", "unicode": "grüße"},
				Metrics:     map[string]float64{"m": -1.5, "zero": 0},
				Payload:     &siltv1.EventInput_BinaryData{BinaryData: []byte("raw bytes")},
				ContentType: "text/plain",
			},
			{Type: "t", Payload: &siltv1.EventInput_BinaryData{BinaryData: []byte(`{"a":1}`)}, ContentType: event.ContentTypeJSON},
			{Type: "t", Payload: &siltv1.EventInput_BinaryData{}, Time: &timestamppb.Timestamp{Seconds: -5}},
			// No payload; a source present but empty, no subject.
			{Type: "point", Source: proto.String(""), Metrics: map[string]float64{"ms": 3}, ContentType: "ignored/without-payload"},
		},
	}
}

func TestParse_TakesWhatClientsSend(t *testing.T) {
	t.Parallel()
	b, err := proto.Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	var m Message
	if !Parse(b, &m) {
		t.Fatal("fast path declined the sample")
	}
	defer m.Release()
	got := m.Packed()
	if got == nil || len(got.Events) != 4 || got.Project != "acme" || got.Stream != "orders/eu" ||
		got.Producer == nil || *got.Producer != (event.Producer{ID: "p-1", Epoch: 3, Seq: 9}) ||
		got.ExpectedLastSeq == nil || *got.ExpectedLastSeq != 7 {
		t.Fatalf("packed %+v", got)
	}
	// Presence: the first has a source and a subject; the last a source
	// present but empty, no subject, no payload.
	if f := got.Events[0].Flags; f != record.FlagHasTime {
		t.Errorf("first event's flags %#x, want only a time", f)
	}
	if f := got.Events[3].Flags; f != record.FlagNoSubject|record.FlagNoPayload {
		t.Errorf("last event's flags %#x, want no subject and no payload", f)
	}
	// What interceptors read (authorization, validation) is in the message.
	if m.GetProject() != "acme" || m.GetStream() != "orders/eu" || m.GetProducer().GetId() != "p-1" {
		t.Errorf("message %v", m.AppendRequest)
	}
	// A deep copy taken before the body is overwritten: connect reuses
	// the body's buffer, so nothing parsed may alias it.
	want := *got
	want.Events = make([]event.PackedEvent, len(got.Events))
	for j, p := range got.Events {
		want.Events[j] = event.PackedEvent{ID: strings.Clone(p.ID), Flags: p.Flags, Tail: bytes.Clone(p.Tail)}
	}
	clear(b)
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("packed request changed with the body")
	}
}

func TestParse_DeclineLeavesMessageForTheGeneralPath(t *testing.T) {
	t.Parallel()
	var m Message
	if Parse([]byte{0x0a}, &m) {
		t.Fatal("fast path took a truncated body")
	}
	if m.Packed() != nil || m.AppendRequest == nil {
		t.Errorf("after a decline: packed %v, message %v", m.Packed(), m.AppendRequest)
	}
}

func TestParse_DeclinesWhatItDoesNotCheck(t *testing.T) {
	t.Parallel()
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
		"time before 1678": func(r *siltv1.AppendRequest) {
			r.Events[0].Time = &timestamppb.Timestamp{Seconds: rules.MinTimeSeconds - 1}
		},
		"time from 2262": func(r *siltv1.AppendRequest) {
			r.Events[0].Time = &timestamppb.Timestamp{Seconds: rules.MaxTimeSeconds}
		},
		"bad nanos": func(r *siltv1.AppendRequest) { r.Events[0].Time = &timestamppb.Timestamp{Nanos: -1} },
	}
	for name, mutate := range cases {
		r := sample()
		mutate(r)
		b, err := proto.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, ok := parse(b, nil); ok {
			t.Errorf("%s: fast path took it", name)
		}
	}
	b, _ := proto.Marshal(sample())
	for name, extra := range map[string][]byte{
		"unknown field":    protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 1),
		"project twice":    protowire.AppendString(protowire.AppendTag(nil, fieldAppendProject, protowire.BytesType), "acme"),
		"producer twice":   protowire.AppendBytes(protowire.AppendTag(nil, fieldAppendProducer, protowire.BytesType), nil),
		"truncated":        {0x0a},
		"wrong wire type":  protowire.AppendVarint(protowire.AppendTag(nil, fieldAppendStream, protowire.VarintType), 1),
		"duplicate key":    eventWithAttributes("k", "k"),
		"value-less entry": eventWithEntry(protowire.AppendString(protowire.AppendTag(nil, fieldMapKey, protowire.BytesType), "k")),
	} {
		if _, _, ok := parse(append(bytes.Clone(b), extra...), nil); ok {
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
