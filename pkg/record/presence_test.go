package record

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/silt-io/silt/pkg/event"
)

// TestDecodeBody_OldFormat: a body written before the presence flags (flags
// byte 0, every string empty) reads as it always did: a source and a
// subject that are empty, and a payload of zero bytes.
func TestDecodeBody_OldFormat(t *testing.T) {
	t.Parallel()
	// flags, id "i", type "t", source "", subject "", no attributes, no
	// metrics, content type "", data "".
	body := []byte{0, 1, 'i', 1, 't', 0, 0, 0, 0, 0, 0}
	var got event.Event
	if err := DecodeBody(body, &got); err != nil {
		t.Fatal(err)
	}
	if !got.HasSource() || !got.HasSubject() || !got.HasPayload() {
		t.Errorf("old body: source %v, subject %v, payload %v; want all present", got.HasSource(), got.HasSubject(), got.HasPayload())
	}
	want := event.Event{ID: "i", Type: "t", Present: event.PartSource | event.PartSubject | event.PartPayload}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %+v\nwant %+v", got, want)
	}
}

// TestBody_Presence: absent and present-empty source, subject and payload
// survive a body, through AppendBody and through Fields and AppendTail
// alike.
func TestBody_Presence(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		e    event.Event
		f    Fields
	}{
		{"all absent", event.Event{Type: "t"}, Fields{Type: []byte("t")}},
		{
			"all present empty",
			event.Event{Type: "t", ContentType: "application/octet-stream", Present: event.PartSource | event.PartSubject | event.PartPayload},
			Fields{Type: []byte("t"), HasSource: true, HasSubject: true, HasPayload: true, ContentType: []byte("application/octet-stream")},
		},
		{
			"source only",
			event.Event{Type: "t", Source: "s", Metrics: map[string]float64{"m": 1}},
			Fields{Type: []byte("t"), Source: []byte("s"), Metrics: []Metric{{Key: []byte("m"), Value: 1}}},
		},
		{
			"empty subject, data",
			event.Event{Type: "t", ContentType: event.ContentTypeJSON, Data: []byte(`1`), Present: event.PartSubject},
			Fields{Type: []byte("t"), HasSubject: true, ContentType: []byte(event.ContentTypeJSON), Data: []byte(`1`)},
		},
	} {
		b := AppendBody(nil, &tc.e, "id")
		if len(b) != BodyLen(&tc.e, "id") {
			t.Errorf("%s: BodyLen = %d, encoded %d bytes", tc.name, BodyLen(&tc.e, "id"), len(b))
		}
		tail := AppendTail(AppendString([]byte{tc.f.Flags()}, "id"), &tc.f)
		if !bytes.Equal(tail, b) {
			t.Errorf("%s: tail body %x\nwant      %x", tc.name, tail, b)
		}
		var got event.Event
		if err := DecodeBody(b, &got); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want := tc.e
		want.ID = "id"
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decoded %+v\nwant %+v", tc.name, got, want)
		}
	}
}

// TestDecodeBody_AbsentIgnoresStrings: the strings of a part its flag
// says is absent are ignored, as every reader of bodies does.
func TestDecodeBody_AbsentIgnoresStrings(t *testing.T) {
	t.Parallel()
	body := []byte{FlagNoSource | FlagNoPayload, 1, 'i', 1, 't', 1, 's', 0, 0, 0, 1, 'c', 1, 'd'}
	var got event.Event
	if err := DecodeBody(body, &got); err != nil {
		t.Fatal(err)
	}
	want := event.Event{ID: "i", Type: "t", Present: event.PartSubject}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %+v\nwant %+v", got, want)
	}
}
