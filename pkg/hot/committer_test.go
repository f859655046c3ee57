package hot

import (
	"errors"
	"sync"
	"testing"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// TestStore_Append_GroupAcksWhatCommitted fails the second of a group's two
// transactions: the requests of the first are durable and must be acked as
// such, the others must fail, and the stream cache must agree with Badger.
func TestStore_Append_GroupAcksWhatCommitted(t *testing.T) {
	t.Parallel()
	g := newGate()
	errInjected := errors.New("injected commit failure")
	var mu sync.Mutex // protects faults and notified
	var faults []int
	notified := make(map[string]uint64)
	s := openStore(t, func(o *Options) {
		o.MaxGroupBytes = 64 << 20
		// Blocks stay in the LSM tree, where they count in full towards
		// Badger's transaction limit (in the value log only their pointers
		// would).
		o.valueThreshold = maxValueThreshold
		o.OnCommit = func(project, stream string, lastSeq uint64) {
			mu.Lock()
			notified[stream] = lastSeq
			mu.Unlock()
			g.onCommit(project, stream, lastSeq)
		}
		o.commitFault = func(txn int) error {
			mu.Lock()
			defer mu.Unlock()
			faults = append(faults, txn)
			if txn == 1 {
				return errInjected
			}
			return nil
		}
	})
	mustCreate(t, s, "p", "s")

	// Two of these appends fill a transaction (each 44% of its budget in
	// random bytes, in blocks under the value threshold), so the group
	// takes two.
	big := func(typ string) []event.Event {
		evs := make([]event.Event, 4)
		for i := range evs {
			evs[i] = event.Event{Type: typ, ContentType: "application/octet-stream", Data: randomBytes(int(txnBudget.size * 44 / 100 / 4))}
		}
		return evs
	}
	reqs := []event.AppendRequest{
		{Project: "p", Stream: "s", Events: record.Pack(big("a")...)},                               // transaction 1
		{Project: "p", Stream: "s", Events: record.Pack(big("b")...)},                               // transaction 1
		{Project: "p", Stream: "s", Events: record.Pack(big("c")...)},                               // transaction 2, fails
		{Project: "p", Stream: "new", Events: record.Pack(jsonEvents(1, "d")...), AutoCreate: true}, // transaction 2, fails
	}
	type out struct {
		res event.AppendResult
		err error
	}
	g.park(t, s)
	outs := make([]chan out, len(reqs))
	for i, r := range reqs {
		outs[i] = make(chan out, 1)
		go func() {
			res, err := s.Append(t.Context(), r)
			outs[i] <- out{res, err}
		}()
		waitQueued(t, s, i+1) // keep the order of the group
	}
	mu.Lock()
	faults = nil // forget the gate's and the create's commits
	mu.Unlock()
	close(g.release)
	got := make([]out, len(reqs))
	for i := range outs {
		got[i] = <-outs[i]
	}

	mu.Lock()
	if len(faults) != 2 || faults[0] != 0 || faults[1] != 1 {
		t.Fatalf("commits attempted %v, want [0 1]: the group did not span two transactions", faults)
	}
	if notified["s"] != 8 {
		t.Errorf("OnCommit(s) last seq %d, want 8", notified["s"])
	}
	if _, ok := notified["new"]; ok {
		t.Errorf("OnCommit called for a stream whose transaction failed")
	}
	mu.Unlock()
	for i, want := range []event.AppendResult{{FirstSeq: 1, LastSeq: 4}, {FirstSeq: 5, LastSeq: 8}} {
		if got[i].err != nil || got[i].res.FirstSeq != want.FirstSeq || got[i].res.LastSeq != want.LastSeq {
			t.Errorf("request %d (committed): %+v, %v; want seqs %d..%d", i, got[i].res, got[i].err, want.FirstSeq, want.LastSeq)
		}
	}
	for i := 2; i < len(reqs); i++ {
		if !errors.Is(got[i].err, errInjected) {
			t.Errorf("request %d (not committed): err %v, want the injected failure", i, got[i].err)
		}
	}

	// Badger holds exactly the acked events, and the cache agrees.
	res := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s"})
	if len(res.Events) != 8 || res.Events[0].Type != "a" || res.Events[7].Type != "b" {
		t.Fatalf("read %d events, want 8 of types a and b", len(res.Events))
	}
	if _, err := s.GetStream(t.Context(), "p", "new"); !errors.Is(err, event.ErrStreamNotFound) {
		t.Errorf("GetStream(new) = %v, want not found", err)
	}
	next := mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(1, "e")...)})
	if next.FirstSeq != 9 {
		t.Errorf("next append got seq %d, want 9", next.FirstSeq)
	}
}
