package api

import (
	"bytes"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

func sampleAppend() *siltv1.AppendRequest {
	data, _ := structpb.NewValue(map[string]any{"user": "u1", "n": 1.5, "tags": []any{"a", true, nil}})
	return &siltv1.AppendRequest{
		Project: "acme", Stream: "orders/1", Producer: &siltv1.Producer{Id: "p", Epoch: 2, Seq: 3},
		Events: []*siltv1.EventInput{
			{Id: "i", Type: "t", Source: proto.String("s"), Subject: proto.String("x"), Attributes: map[string]string{"a": "b"}, Metrics: map[string]float64{"m": 2},
				Payload: &siltv1.EventInput_Data{Data: data}},
			{Type: "b", Payload: &siltv1.EventInput_BinaryData{BinaryData: []byte{1, 2}}, ContentType: "application/octet-stream"},
		},
	}
}

func TestCodec_RoundTripsLikeProtobufGo(t *testing.T) {
	t.Parallel()
	want := sampleAppend()
	b, err := Codec{}.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	got := new(siltv1.AppendRequest)
	// Decoding into a used message must not merge with its old content.
	got.Stream = "stale"
	got.Events = []*siltv1.EventInput{{Type: "stale"}}
	if err := (Codec{}).Unmarshal(b, got); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, want) {
		t.Fatalf("round trip: got %v, want %v", got, want)
	}
	// The decoded strings and bytes point into the codec's own copy of the
	// input: connect reuses the input's buffer for the next request.
	clear(b)
	if !proto.Equal(got, want) {
		t.Fatalf("decoded message changed with its input buffer: %v", got)
	}
	// A message without vtprotobuf code goes through protobuf-go.
	v := structpb.NewStringValue("x")
	b, err = Codec{}.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	back := new(structpb.Value)
	if err := (Codec{}).Unmarshal(b, back); err != nil || back.GetStringValue() != "x" {
		t.Fatalf("non-vt message: %v %v", back, err)
	}
}

func TestCodec_Unmarshal_RejectsInvalidUTF8(t *testing.T) {
	t.Parallel()
	for name, mut := range map[string]func(a *siltv1.AppendRequest){
		"source":          func(a *siltv1.AppendRequest) { a.Events[0].Source = proto.String("a\xff") },
		"attribute value": func(a *siltv1.AppendRequest) { a.Events[0].Attributes["a"] = "\xc3" },
		"data string": func(a *siltv1.AppendRequest) {
			a.Events[0].Payload = &siltv1.EventInput_Data{Data: structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewStringValue("\xff")}})}
		},
	} {
		a := sampleAppend()
		mut(a)
		b, err := a.MarshalVT() // protobuf-go would refuse to encode it
		if err != nil {
			t.Fatal(err)
		}
		if err := (Codec{}).Unmarshal(b, new(siltv1.AppendRequest)); err == nil {
			t.Errorf("%s: invalid UTF-8 accepted", name)
		}
		if err := proto.Unmarshal(b, new(siltv1.AppendRequest)); err == nil {
			t.Errorf("%s: protobuf-go accepted it too; the test is wrong", name)
		}
	}
}

// FuzzCodecAppendRequest checks that the codec accepts everything protobuf-go
// accepts and decodes it to the same message up to unknown fields
// (vtprotobuf drops those inside well-known types; Silt never uses or
// re-emits unknown fields of a request). The converse does not hold:
// vtprotobuf skips some malformed unknown fields (e.g. a group tag) that
// protobuf-go rejects; the known fields it returns still pass through the
// same validation, so nothing malformed is stored.
func FuzzCodecAppendRequest(f *testing.F) {
	b, _ := proto.Marshal(sampleAppend())
	f.Add(b)
	f.Add([]byte{0x0a, 0x02, 0xff, 0xfe})
	f.Fuzz(func(t *testing.T, in []byte) {
		checkLikeProtobufGo(t, in, func() *siltv1.AppendRequest { return new(siltv1.AppendRequest) })
	})
}

// FuzzCodecReadResponse is FuzzCodecAppendRequest for what a Go client
// decodes: a Read page.
func FuzzCodecReadResponse(f *testing.F) {
	b, _ := proto.Marshal(sampleReadResponse())
	f.Add(b)
	f.Add([]byte{0x0a, 0x04, 0x22, 0x02, 0xc3, 0x28})
	f.Add(malformedMetricEntry())
	f.Fuzz(func(t *testing.T, in []byte) {
		checkLikeProtobufGo(t, in, func() *siltv1.ReadResponse { return new(siltv1.ReadResponse) })
	})
}

// FuzzCodecSubscribeResponse is FuzzCodecAppendRequest for a Subscribe
// message.
func FuzzCodecSubscribeResponse(f *testing.F) {
	b, _ := proto.Marshal(&siltv1.SubscribeResponse{Message: &siltv1.SubscribeResponse_Batch{
		Batch: &siltv1.EventBatch{Events: sampleReadResponse().GetEvents()}}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, in []byte) {
		checkLikeProtobufGo(t, in, func() *siltv1.SubscribeResponse { return new(siltv1.SubscribeResponse) })
	})
}

// checkLikeProtobufGo decodes in with the codec and with protobuf-go and
// fails unless the codec accepts whatever protobuf-go accepts and decodes it
// to the same message up to unknown fields.
func checkLikeProtobufGo[M proto.Message](t *testing.T, in []byte, newM func() M) {
	want := newM()
	werr := proto.Unmarshal(in, want)
	got := newM()
	gerr := Codec{}.Unmarshal(in, got)
	if werr == nil && gerr != nil {
		t.Fatalf("protobuf-go accepts %x, codec says %v", in, gerr)
	}
	if gerr == nil && werr != nil {
		return
	}
	if werr != nil {
		return
	}
	g, w := withoutUnknown(t, got, newM()), withoutUnknown(t, want, newM())
	if proto.Equal(g, w) {
		return
	}
	// The one known difference: vtprotobuf does not check the wire type of
	// a map entry's value, so a value sent with the wrong type decodes to
	// something where protobuf-go skips it and keeps the zero value. No
	// encoder writes such entries; the keys must still agree.
	zeroMapValues(g.ProtoReflect())
	zeroMapValues(w.ProtoReflect())
	if !proto.Equal(g, w) {
		t.Fatalf("codec decoded %v, protobuf-go %v", got, want)
	}
}

// zeroMapValues sets the value of every entry of every map in m, at any
// depth, to its zero value, keeping the keys.
func zeroMapValues(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			mp := v.Map()
			zero := fd.MapValue().Default()
			mp.Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				if fd.MapValue().Message() != nil {
					zeroMapValues(mv.Message())
				} else {
					mp.Set(k, zero)
				}
				return true
			})
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				zeroMapValues(v.List().Get(i).Message())
			}
		case fd.Message() != nil:
			zeroMapValues(v.Message())
		}
		return true
	})
}

// TestCodec_MapValueOfWrongWireType pins the difference checkLikeProtobufGo
// allows: a metrics entry whose value comes as bytes instead of a double.
func TestCodec_MapValueOfWrongWireType(t *testing.T) {
	t.Parallel()
	in := malformedMetricEntry()
	got, want := new(siltv1.ReadResponse), new(siltv1.ReadResponse)
	if err := (Codec{}).Unmarshal(in, got); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(in, want); err != nil {
		t.Fatal(err)
	}
	if _, ok := got.GetEvents()[0].GetMetrics()["m"]; !ok || want.GetEvents()[0].GetMetrics()["m"] != 0 {
		t.Fatalf("codec %v, protobuf-go %v", got, want)
	}
	checkLikeProtobufGo(t, in, func() *siltv1.ReadResponse { return new(siltv1.ReadResponse) })
}

// malformedMetricEntry is a ReadResponse with one event whose metrics map
// has key "m" and a value of wire type 2 (bytes) instead of 1 (64-bit).
func malformedMetricEntry() []byte {
	entry := []byte{0x0a, 0x01, 'm', 0x12, 0x09, 0, 0, 0, 0, 0, 0xf0, 0x3f, '0', '0'}
	ev := append([]byte{0x5a, byte(len(entry))}, entry...)
	return append([]byte{0x0a, byte(len(ev))}, ev...)
}

// withoutUnknown returns m decoded again into out without unknown fields.
func withoutUnknown[M proto.Message](t *testing.T, m, out M) M {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// sampleReadResponse is a Read page with every kind of field set.
func sampleReadResponse() *siltv1.ReadResponse {
	data, _ := structpb.NewValue(map[string]any{"user": "u1", "tags": []any{"a", 2.0}})
	now := timestamppb.New(time.Date(2026, 11, 29, 10, 0, 0, 123456000, time.UTC))
	return &siltv1.ReadResponse{
		NextSeq: 3, LastSeq: 9, FirstSeq: 1,
		Events: []*siltv1.Event{
			{Project: "acme", Stream: "orders/1", Seq: 1, Id: "i", Type: "t", Source: proto.String("s"), Subject: proto.String("x"), Time: now, IngestTime: now,
				Attributes: map[string]string{"a": "b"}, Metrics: map[string]float64{"m": 2}, Payload: &siltv1.Event_Data{Data: data},
				ContentType: "application/json"},
			{Project: "acme", Stream: "orders/1", Seq: 2, Id: "j", Type: "b", IngestTime: now,
				Payload: &siltv1.Event_BinaryData{BinaryData: []byte{1, 2}}, ContentType: "application/octet-stream"},
		},
	}
}

func TestCodec_ReadResponse_RoundTripsAndRejectsInvalidUTF8(t *testing.T) {
	t.Parallel()
	want := sampleReadResponse()
	b, err := Codec{}.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	got := &siltv1.ReadResponse{Events: []*siltv1.Event{{Type: "stale"}}, UpToDate: true}
	if err := (Codec{}).Unmarshal(b, got); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, want) {
		t.Fatalf("round trip: got %v, want %v", got, want)
	}
	for name, mut := range map[string]func(r *siltv1.ReadResponse){
		"type":          func(r *siltv1.ReadResponse) { r.Events[1].Type = "a\xff" },
		"attribute key": func(r *siltv1.ReadResponse) { r.Events[0].Attributes["\xc3"] = "v" },
		"metric key":    func(r *siltv1.ReadResponse) { r.Events[0].Metrics["\xc3"] = 1 },
		"data string": func(r *siltv1.ReadResponse) {
			r.Events[0].Payload = &siltv1.Event_Data{Data: structpb.NewStringValue("\xff")}
		},
		"content type":    func(r *siltv1.ReadResponse) { r.Events[1].ContentType = "\xfe" },
		"stream of event": func(r *siltv1.ReadResponse) { r.Events[0].Stream = "\xff" },
	} {
		r := sampleReadResponse()
		mut(r)
		b, err := r.MarshalVT()
		if err != nil {
			t.Fatal(err)
		}
		if err := (Codec{}).Unmarshal(b, new(siltv1.ReadResponse)); err == nil {
			t.Errorf("%s: invalid UTF-8 accepted", name)
		}
		s := &siltv1.SubscribeResponse{Message: &siltv1.SubscribeResponse_Batch{Batch: &siltv1.EventBatch{Events: r.Events}}}
		if b, err = s.MarshalVT(); err != nil {
			t.Fatal(err)
		}
		if err := (Codec{}).Unmarshal(b, new(siltv1.SubscribeResponse)); err == nil {
			t.Errorf("%s: invalid UTF-8 accepted in a Subscribe batch", name)
		}
	}
}

// TestCodec_MarshalAppend: MarshalAppend appends an encoding of the message
// (map order aside, Marshal's bytes) after what dst holds, for vtprotobuf
// messages and the rest alike.
func TestCodec_MarshalAppend(t *testing.T) {
	t.Parallel()
	for _, m := range []proto.Message{sampleAppend(), sampleReadResponse(), structpb.NewStringValue("not vtprotobuf")} {
		want, err := Codec{}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		prefix := []byte("prefix")
		for _, dst := range [][]byte{nil, bytes.Clone(prefix), append(make([]byte, 0, 1<<16), prefix...)} {
			got, err := Codec{}.MarshalAppend(dst, m)
			if err != nil {
				t.Fatal(err)
			}
			if len(dst) > 0 && !bytes.Equal(got[:len(prefix)], prefix) {
				t.Errorf("%T: prefix overwritten", m)
			}
			if len(got)-len(dst) != len(want) {
				t.Errorf("%T: MarshalAppend wrote %d bytes, Marshal %d", m, len(got)-len(dst), len(want))
			}
			back := m.ProtoReflect().New().Interface()
			if err := proto.Unmarshal(got[len(dst):], back); err != nil || !proto.Equal(back, m) {
				t.Errorf("%T: what MarshalAppend wrote decodes to %v (%v)", m, back, err)
			}
		}
	}
}
