package hot

import (
	"testing"

	"github.com/silt-io/silt/pkg/event"
)

// TestStore_Append_LargestRequestFits: the largest Append the API admits
// (a 4 MiB message of up to 10,000 events) must commit as one transaction,
// which badgerMemTableSize bounds (Badger refuses a transaction over 15%
// of it). Incompressible data and server-made ids are the worst case:
// every record is its data plus an id and the fields' lengths, where the
// protobuf message spends about 6 bytes per event.
func TestStore_Append_LargestRequestFits(t *testing.T) {
	t.Parallel()
	const requestBytes = 4 << 20 // api.MaxRequestBytes
	for _, c := range []struct {
		name   string
		events int
	}{
		{"10000 small events", 10_000},
		{"4 events of 1 MiB", 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			size := min(requestBytes/c.events-6, maxRecordBytes-64)
			evs := make([]event.Event, c.events)
			for i := range evs {
				evs[i] = event.Event{Type: "t", Data: randomBytes(size)}
			}
			if _, err := s.Append(t.Context(), event.AppendRequest{Project: "p", Stream: "s", Events: evs, AutoCreate: true}); err != nil {
				t.Fatalf("append of %d events of %d bytes: %v", c.events, size, err)
			}
		})
	}
}
