package hot

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// pack encodes e the way the API's fast Append decoder does, from its
// fields (record.Fields) rather than with record.Pack.
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

func TestStore_Append_FieldsPackedReadLikeEvents(t *testing.T) {
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
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "plain", Events: record.Pack(in...)})
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "packed", Events: packed})
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

// TestStore_Append_RecycledBuffersKeepEveryEvent: appends from many
// goroutines reuse each other's encoding buffers (recordBufs); every event
// must still read back with its own content, also when blocks carry a
// content type too long for the header room.
func TestStore_Append_RecycledBuffersKeepEveryEvent(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	longType := "application/" + strings.Repeat("x", 200)
	if _, err := s.CreateStream(t.Context(), "p", "long", event.StreamSettings{ContentType: longType}); err != nil {
		t.Fatal(err)
	}
	const writers, rounds = 6, 30
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			stream := fmt.Sprintf("s%d", w)
			if w == 0 {
				stream = "long"
			}
			for r := range rounds {
				n := 1 + (r*37+w*11)%900 // some appends span blocks
				evs := make([]event.Event, n)
				for i := range evs {
					evs[i] = event.Event{Type: "t", Data: []byte(fmt.Sprintf("%s/%d/%d/%s", stream, r, i, strings.Repeat("p", (i*13)%400)))}
				}
				if _, err := s.Append(context.Background(), event.AppendRequest{Project: "p", Stream: stream, Events: record.Pack(evs...), AutoCreate: true}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for w := range writers {
		stream := fmt.Sprintf("s%d", w)
		if w == 0 {
			stream = "long"
		}
		var got []event.Event
		for from := uint64(1); ; {
			res := mustRead(t, s, event.ReadRequest{Project: "p", Stream: stream, FromSeq: from, Limit: 10000})
			got = append(got, res.Events...)
			if res.UpToDate() {
				break
			}
			from = res.NextSeq
		}
		k := 0
		for r := range rounds {
			for i := range 1 + (r*37+w*11)%900 {
				want := fmt.Sprintf("%s/%d/%d/%s", stream, r, i, strings.Repeat("p", (i*13)%400))
				if k >= len(got) || string(got[k].Data) != want {
					t.Fatalf("%s event %d: got %.40q, want %.40q", stream, k, got[k].Data, want)
				}
				if w == 0 && got[k].ContentType != longType {
					t.Fatalf("event %d: content type %q", k, got[k].ContentType)
				}
				k++
			}
		}
		if k != len(got) {
			t.Fatalf("%s: %d events read, %d appended", stream, len(got), k)
		}
	}
}
