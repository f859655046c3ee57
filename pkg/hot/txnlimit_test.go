package hot

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
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
			if _, err := s.Append(t.Context(), event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(evs...), AutoCreate: true}); err != nil {
				t.Fatalf("append of %d events of %d bytes: %v", c.events, size, err)
			}
		})
	}
}

// TestStore_Append_GroupOfInlineBlocksSplits: blocks just under the value
// threshold stay in the LSM tree and count in full towards Badger's
// transaction limit, so a group of many of them must be split into several
// transactions by the committer's own accounting, never refused by Badger's
// (which would fail the whole group).
func TestStore_Append_GroupOfInlineBlocksSplits(t *testing.T) {
	t.Parallel()
	g := newGate()
	var commits atomic.Int64
	s := openStore(t, func(o *Options) {
		o.MaxGroupBytes = 64 << 20
		o.OnCommit = g.onCommit
		o.commitFault = func(int) error { commits.Add(1); return nil }
	})
	mustCreate(t, s, "p", "s")
	// Enough requests of one block each, of incompressible data a little
	// under the threshold, to fill three transactions.
	n := int(3 * txnBudget.size / badgerValueThreshold)
	g.park(t, s)
	errs := make(chan error, n)
	for i := range n {
		ev := event.Event{Type: "t", ContentType: "application/octet-stream", Data: randomBytes(badgerValueThreshold - 200)}
		go func() {
			_, err := s.Append(t.Context(), event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(ev)})
			errs <- err
		}()
		waitQueued(t, s, i+1)
	}
	commits.Store(0)
	close(g.release)
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	if c := commits.Load(); c < 3 {
		t.Errorf("%d requests committed in %d transactions, want at least 3", n, c)
	}
	if res := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s", Limit: 10_000}); len(res.Events) != n {
		t.Errorf("read %d events, want %d", len(res.Events), n)
	}
}

// TestStore_Append_GroupOfManyStreamsFits: metadata and producer state are
// written when a transaction commits, after its requests were admitted, so
// the committer must count them as it admits each request. A group of
// requests to a thousand new streams, each with the longest names and
// producer id and an event kept in the LSM tree, was refused by Badger as a
// whole ("Txn is too big") when only the blocks were counted.
func TestStore_Append_GroupOfManyStreamsFits(t *testing.T) {
	t.Parallel()
	g := newGate()
	s := openStore(t, func(o *Options) { o.OnCommit = g.onCommit })
	const n = 1000
	project := strings.Repeat("p", 63)
	pid := strings.Repeat("q", 256)
	g.park(t, s)
	errs := make(chan error, n)
	for i := range n {
		req := event.AppendRequest{
			Project: project, Stream: fmt.Sprintf("%0245d", i), AutoCreate: true,
			Producer: &event.Producer{ID: pid, Epoch: 1},
			Events:   record.Pack(event.Event{Type: "t", ContentType: "application/octet-stream", Data: randomBytes(2000)}),
		}
		go func() {
			_, err := s.Append(t.Context(), req)
			errs <- err
		}()
		waitQueued(t, s, i+1)
	}
	close(g.release)
	failed := 0
	var first error
	for range n {
		if err := <-errs; err != nil {
			if failed++; first == nil {
				first = err
			}
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d appends failed, the first with: %v", failed, n, first)
	}
}
