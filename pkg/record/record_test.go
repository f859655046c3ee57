package record

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
)

func TestBody_RoundTrip(t *testing.T) {
	t.Parallel()
	for _, e := range []event.Event{
		{
			Type: "order.created", Source: "shop", Subject: "o/1",
			Time:       time.Date(2025, 5, 6, 7, 8, 9, 123456789, time.UTC),
			Attributes: map[string]string{"region": "eu", "": "empty key"},
			Metrics:    map[string]float64{"amount": 12.5, "inf": math.Inf(1)},
			Data:       []byte(`{"a":1}`),
		},
		{ContentType: "application/octet-stream", Data: []byte{0, 1, 2, 255}},
		{Time: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)},
	} {
		b := AppendBody(nil, &e, "id-1")
		if len(b) != BodyLen(&e, "id-1") {
			t.Errorf("BodyLen = %d, encoded %d bytes", BodyLen(&e, "id-1"), len(b))
		}
		var got event.Event
		if err := DecodeBody(b, &got); err != nil {
			t.Fatalf("DecodeBody: %v", err)
		}
		want := e
		want.ID = "id-1"
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decoded %+v\nwant %+v", got, want)
		}
		if err := DecodeBody(b[:len(b)-1], &got); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated body: err = %v, want ErrCorrupt", err)
		}
	}
}

// TestAppendTail_MatchesAppendBody: a body made of Flags, the id and
// AppendTail is byte for byte what AppendBody writes for the same event.
func TestAppendTail_MatchesAppendBody(t *testing.T) {
	t.Parallel()
	e := event.Event{
		Type: "t", Source: "s", Subject: "x",
		Time:        time.Unix(-3, 7).UTC(),
		Attributes:  map[string]string{"k": "v"},
		Metrics:     map[string]float64{"m": -0.5},
		ContentType: "text/plain", Data: []byte("hello"),
	}
	f := Fields{
		Type: []byte("t"), Source: []byte("s"), Subject: []byte("x"),
		HasTime: true, Seconds: -3, Nanos: 7,
		Attributes:  []Attribute{{Key: []byte("k"), Value: []byte("v")}},
		Metrics:     []Metric{{Key: []byte("m"), Value: -0.5}},
		ContentType: []byte("text/plain"), Data: []byte("hello"),
	}
	got := AppendString(append([]byte(nil), f.Flags()), "id")
	got = AppendTail(got, &f)
	if want := AppendBody(nil, &e, "id"); !bytes.Equal(got, want) {
		t.Errorf("tail body %x\nwant      %x", got, want)
	}
	f.HasTime = false
	e.Time = time.Time{}
	got = AppendTail(AppendString([]byte{f.Flags()}, "id"), &f)
	if want := AppendBody(nil, &e, "id"); !bytes.Equal(got, want) {
		t.Errorf("without time: %x\nwant         %x", got, want)
	}
}
