package hot

import (
	"reflect"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// pack encodes e the way the API's fast Append decoder does.
func pack(e *event.Event) event.PackedEvent {
	f := record.Fields{
		Type: []byte(e.Type), Source: []byte(e.Source), Subject: []byte(e.Subject),
		ContentType: []byte(e.ContentType), Data: e.Data,
	}
	if !e.Time.IsZero() {
		f.HasTime, f.Seconds, f.Nanos = true, e.Time.Unix(), uint32(e.Time.Nanosecond())
	}
	for k, v := range e.Attributes {
		f.Attributes = append(f.Attributes, record.Attribute{Key: []byte(k), Value: []byte(v)})
	}
	for k, v := range e.Metrics {
		f.Metrics = append(f.Metrics, record.Metric{Key: []byte(k), Value: v})
	}
	return event.PackedEvent{ID: e.ID, Flags: f.Flags(), Tail: record.AppendTail(nil, &f)}
}

func TestStore_Append_PackedEventsReadLikeEvents(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := openStore(t, func(o *Options) { o.Now = clock.Now })
	in := []event.Event{
		{
			ID: "client-id", Type: "t", Source: "src", Subject: "sub",
			Time:        time.Date(2025, 1, 1, 0, 0, 0, 5, time.UTC),
			Attributes:  map[string]string{"k": "v", "region": "eu"},
			Metrics:     map[string]float64{"m": 1.5, "n": -2},
			ContentType: "application/json",
			Data:        []byte(`{"x":1}`),
		},
		{Type: "no-id", Time: time.Unix(-5, 0).UTC(), Data: make([]byte, 300)},
	}
	packed := make([]event.PackedEvent, len(in))
	for i := range in {
		packed[i] = pack(&in[i])
	}
	for _, name := range []string{"plain", "packed"} {
		mustCreate(t, s, "p", name)
	}
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "plain", Events: in})
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "packed", Packed: packed})
	plain := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "plain"}).Events
	got := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "packed"}).Events
	if len(got) != len(in) || len(plain) != len(in) {
		t.Fatalf("read %d packed and %d plain events, want %d", len(got), len(plain), len(in))
	}
	for i := range got {
		if _, err := ulid.ParseStrict(got[i].ID); in[i].ID == "" && err != nil {
			t.Errorf("event %d: server-made id %q is not a ULID", i, got[i].ID)
		}
		want := plain[i]
		want.Stream = "packed"
		if in[i].ID == "" {
			want.ID = got[i].ID
		}
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("packed event %d = %+v\nwant %+v", i, got[i], want)
		}
	}
}

func TestStore_Append_RejectsBothForms(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	mustCreate(t, s, "p", "s")
	e := event.Event{Type: "t"}
	_, err := s.Append(t.Context(), event.AppendRequest{Project: "p", Stream: "s", Events: []event.Event{e}, Packed: []event.PackedEvent{pack(&e)}})
	if err == nil {
		t.Fatal("append with events and packed events succeeded")
	}
	if info, err := s.GetStream(t.Context(), "p", "s"); err != nil || info.LastSeq != 0 {
		t.Errorf("stream after rejected append: %+v, %v", info, err)
	}
}
