package record

import (
	"bytes"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
)

// TestPack_MatchesAppendBody: a packed event written with an id is the
// body AppendBody writes for the event with that id.
func TestPack_MatchesAppendBody(t *testing.T) {
	t.Parallel()
	evs := []event.Event{
		{ID: "client", Type: "t", Time: time.Unix(5, 6).UTC(), Attributes: map[string]string{"k": "v"}, Data: []byte("x")},
		{Metrics: map[string]float64{"m": 2}, ContentType: "text/plain"},
		{},
	}
	packed := Pack(evs...)
	if len(packed) != len(evs) {
		t.Fatalf("Pack returned %d events, want %d", len(packed), len(evs))
	}
	for i, p := range packed {
		if p.ID != evs[i].ID {
			t.Errorf("event %d: id %q, want %q", i, p.ID, evs[i].ID)
		}
		got := AppendPacked(nil, &p, "the-id")
		if want := AppendBody(nil, &evs[i], "the-id"); !bytes.Equal(got, want) {
			t.Errorf("event %d: packed body %x\nwant %x", i, got, want)
		}
		if n := PackedLen(&p, "the-id"); n != len(got) {
			t.Errorf("event %d: PackedLen = %d, wrote %d", i, n, len(got))
		}
	}
	// Each tail is capped: appending to one cannot overwrite the next.
	if len(packed) > 1 && cap(packed[0].Tail) != len(packed[0].Tail) {
		t.Errorf("tail 0 has room to grow into tail 1")
	}
}
