package hot

import (
	"errors"
	"testing"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

func appendAs(t *testing.T, s *Store, stream, pid string, epoch, seq uint64, n int) (event.AppendResult, error) {
	t.Helper()
	return s.Append(t.Context(), event.AppendRequest{
		Project: "p", Stream: stream, Events: record.Pack(jsonEvents(n, "a")...), AutoCreate: true,
		Producer: &event.Producer{ID: pid, Epoch: epoch, Seq: seq},
	})
}

func wantConflict(t *testing.T, err, sentinel error, expected, got uint64) {
	t.Helper()
	var ce *event.ConflictError
	if !errors.As(err, &ce) || !errors.Is(ce.Err, sentinel) || ce.Expected != expected || ce.Got != got {
		t.Fatalf("err = %v, want %v (expected %d, got %d)", err, sentinel, expected, got)
	}
}

func TestStore_Append_ProducerFirstBatchMustBeSeqZero(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	_, err := appendAs(t, s, "s", "w", 5, 1, 1)
	wantConflict(t, err, event.ErrProducerSeqGap, 0, 1)
	if _, err := appendAs(t, s, "s", "w", 5, 0, 1); err != nil {
		t.Fatalf("first batch at seq 0, epoch 5: %v", err)
	}
}

func TestStore_Append_ProducerDuplicateReturnsOriginalResult(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	r0, _ := appendAs(t, s, "s", "w", 1, 0, 3)
	r1, err := appendAs(t, s, "s", "w", 1, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(1, "other")...)})
	dup, err := appendAs(t, s, "s", "w", 1, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !dup.Duplicate || dup.FirstSeq != r1.FirstSeq || dup.LastSeq != r1.LastSeq || !dup.IngestTime.Equal(r1.IngestTime) {
		t.Errorf("dup = %+v, want %+v with Duplicate", dup, r1)
	}
	dup0, _ := appendAs(t, s, "s", "w", 1, 0, 3)
	if !dup0.Duplicate || dup0.FirstSeq != r0.FirstSeq || dup0.LastSeq != r0.LastSeq {
		t.Errorf("dup0 = %+v, want %+v", dup0, r0)
	}
	info, _ := s.GetStream(t.Context(), "p", "s")
	if info.LastSeq != 6 {
		t.Errorf("duplicates were written: last seq %d, want 6", info.LastSeq)
	}
}

func TestStore_Append_ProducerDuplicateOlderThanHistory(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	for seq := range uint64(ProducerHistory + 2) {
		if _, err := appendAs(t, s, "s", "w", 0, seq, 1); err != nil {
			t.Fatal(err)
		}
	}
	old, err := appendAs(t, s, "s", "w", 0, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if old != (event.AppendResult{Duplicate: true}) {
		t.Errorf("old duplicate = %+v, want Duplicate and no range", old)
	}
	kept, _ := appendAs(t, s, "s", "w", 0, 2, 1)
	if !kept.Duplicate || kept.FirstSeq != 3 {
		t.Errorf("dup of seq 2 = %+v, want first seq 3", kept)
	}
}

func TestStore_Append_ProducerGapAndFence(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	if _, err := appendAs(t, s, "s", "w", 2, 0, 1); err != nil {
		t.Fatal(err)
	}
	_, err := appendAs(t, s, "s", "w", 2, 5, 1)
	wantConflict(t, err, event.ErrProducerSeqGap, 1, 5)
	_, err = appendAs(t, s, "s", "w", 1, 1, 1)
	wantConflict(t, err, event.ErrProducerFenced, 2, 1)
	_, err = appendAs(t, s, "s", "w", 3, 1, 1)
	wantConflict(t, err, event.ErrProducerSeqGap, 0, 1)
	if _, err := appendAs(t, s, "s", "w", 3, 0, 1); err != nil {
		t.Fatalf("new epoch at seq 0: %v", err)
	}
	_, err = appendAs(t, s, "s", "w", 2, 1, 1)
	wantConflict(t, err, event.ErrProducerFenced, 3, 2)
	// Producers are per stream and per id.
	if _, err := appendAs(t, s, "s", "v", 0, 0, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := appendAs(t, s, "other", "w", 0, 0, 1); err != nil {
		t.Fatal(err)
	}
}

func TestStore_Append_ProducerDuplicateInSameGroup(t *testing.T) {
	t.Parallel()
	g := newGate()
	s := openStore(t, func(o *Options) { o.OnCommit = g.onCommit })
	g.park(t, s)
	type out struct {
		res event.AppendResult
		err error
	}
	c := make(chan out, 2)
	for i := range 2 {
		go func() {
			res, err := appendAs(t, s, "s", "w", 0, 0, 2)
			c <- out{res, err}
		}()
		waitQueued(t, s, i+1)
	}
	close(g.release)
	a, b := <-c, <-c
	if a.err != nil || b.err != nil || a.res.Duplicate == b.res.Duplicate || a.res.LastSeq != 2 || b.res.LastSeq != 2 {
		t.Fatalf("results %+v %+v, want one write and one duplicate of 1..2", a, b)
	}
}
