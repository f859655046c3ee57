package hot

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// snapshotExtent returns a stream's extent from a fresh snapshot.
func snapshotExtent(t testing.TB, s *Store, project, name string) Extent {
	t.Helper()
	var x Extent
	if err := s.View(t.Context(), func(sn *Snapshot) (err error) {
		x, err = sn.Stream(project, name)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return x
}

func TestSeal_HidesAndTrimsSealedBlocks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openStoreIn(t, dir)
	for range 10 {
		mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(10, "a")...), AutoCreate: true})
	}
	x := snapshotExtent(t, s, "p", "s")
	if x.ColdSeq != 0 || x.HotCount() != 100 {
		t.Fatalf("before seal: %+v", x)
	}
	// Seal the first 60 (six appends); a stale incarnation and a repeat are no-ops.
	seals := []Seal{{Project: "p", Stream: "s", ID: x.ID, UpTo: 60}, {Project: "p", Stream: "s", ID: x.ID + 99, UpTo: 90}}
	if err := s.Seal(t.Context(), seals); err != nil {
		t.Fatal(err)
	}
	if err := s.Seal(t.Context(), seals[:1]); err != nil {
		t.Fatal(err)
	}
	if err := s.Seal(t.Context(), []Seal{{Project: "p", Stream: "s", ID: x.ID, UpTo: 101}}); !errors.Is(err, errSealPastTail) {
		t.Fatalf("seal past the tail: %v", err)
	}
	x = snapshotExtent(t, s, "p", "s")
	if x.ColdSeq != 60 || x.HotCount() != 40 || x.LastSeq != 100 || x.Count != 100 {
		t.Fatalf("after seal: %+v", x)
	}
	res := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s", FromSeq: 1})
	if len(res.Events) != 40 || res.Events[0].Seq != 61 {
		t.Fatalf("hot read after seal starts at %d with %d events", res.Events[0].Seq, len(res.Events))
	}
	// The committer trims when idle: six blocks and six time entries go.
	deadline := time.Now().Add(10 * time.Second)
	for countKeys(t, s, idPrefix(spaceBlock, x.ID)) != 4 || countKeys(t, s, idPrefix(spaceTime, x.ID)) != 4 {
		if time.Now().After(deadline) {
			t.Fatalf("trim left %d blocks, %d time entries; want 4 and 4",
				countKeys(t, s, idPrefix(spaceBlock, x.ID)), countKeys(t, s, idPrefix(spaceTime, x.ID)))
		}
		time.Sleep(5 * time.Millisecond)
	}
	var first time.Time
	_ = s.View(t.Context(), func(sn *Snapshot) (err error) {
		var ok bool
		first, ok, err = sn.FirstHotIngest(x)
		if err == nil && !ok {
			err = errors.New("no hot event")
		}
		return err
	})
	if !first.Equal(res.Events[0].IngestTime) {
		t.Fatalf("first hot ingest %v, want %v", first, res.Events[0].IngestTime)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	s2 := openStoreIn(t, dir)
	if x2 := snapshotExtent(t, s2, "p", "s"); x2.ColdSeq != 60 {
		t.Fatalf("cold seq after reopen: %d", x2.ColdSeq)
	}
	if len(s2.trims) != 0 {
		t.Fatalf("reopen queued trims %v for a finished trim", s2.trims)
	}
}

func TestSnapshot_SealPointAndScan(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := openStore(t, func(o *Options) { o.Now = clock.Now })
	var times []time.Time
	for i := range 5 {
		res := mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(3, "t")...), AutoCreate: true})
		times = append(times, res.IngestTime)
		if i < 4 {
			clock.Add(time.Second)
		}
	}
	err := s.View(t.Context(), func(sn *Snapshot) error {
		x, err := sn.Stream("p", "s")
		if err != nil {
			return err
		}
		for i, tc := range []struct {
			cutoff time.Time
			want   uint64
		}{
			{times[0], 0}, {times[0].Add(time.Nanosecond), 3}, {times[2], 6}, {times[4], 12}, {times[4].Add(time.Hour), 15},
		} {
			got, err := sn.SealPoint(x, tc.cutoff)
			if err != nil || got != tc.want {
				t.Errorf("case %d: SealPoint = %d, %v; want %d", i, got, err, tc.want)
			}
		}
		var seqs []uint64
		if err := sn.Scan(t.Context(), x, 7, func(e *event.Event) error {
			if e.Project != "p" || e.Stream != "s" || e.Type != "t" {
				t.Errorf("scanned %+v", e)
			}
			seqs = append(seqs, e.Seq)
			return nil
		}); err != nil {
			return err
		}
		if len(seqs) != 7 || seqs[0] != 1 || seqs[6] != 7 {
			t.Errorf("Scan to 7 gave %v", seqs)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSnapshot_ScanAcrossIterators(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	const appends = 3*scanBlocksPerIterator + 5 // one block each
	for range appends {
		mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(3, "t")...), AutoCreate: true})
	}
	err := s.View(t.Context(), func(sn *Snapshot) error {
		x, err := sn.Stream("p", "s")
		if err != nil {
			return err
		}
		// Start inside a block and stop inside another, several iterators apart.
		x.ColdSeq = 3*scanBlocksPerIterator - 2
		upTo := uint64(3*appends - 4)
		want := x.ColdSeq + 1
		if err := sn.Scan(t.Context(), x, upTo, func(e *event.Event) error {
			if e.Seq != want {
				t.Fatalf("scanned seq %d, want %d", e.Seq, want)
			}
			want++
			return nil
		}); err != nil {
			return err
		}
		if want != upTo+1 {
			t.Errorf("Scan stopped before seq %d; want it to end at %d", want, upTo)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRetain_MovesFirstSeqForwardOnly(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	for range 5 {
		mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(10, "a")...), AutoCreate: true})
	}
	x := snapshotExtent(t, s, "p", "s")
	if err := s.Retain(t.Context(), []Retain{{Project: "p", Stream: "s", ID: x.ID, FirstSeq: 26}}); err != nil {
		t.Fatal(err)
	}
	// Backwards, another incarnation and past the tail are clamped or skipped.
	if err := s.Retain(t.Context(), []Retain{{Project: "p", Stream: "s", ID: x.ID, FirstSeq: 3}, {Project: "p", Stream: "s", ID: x.ID + 1, FirstSeq: 40}}); err != nil {
		t.Fatal(err)
	}
	y := snapshotExtent(t, s, "p", "s")
	if y.FirstSeq != 26 || y.Count != 25 || y.Bytes != x.Bytes/2 {
		t.Fatalf("after retain: first %d count %d bytes %d (was %d)", y.FirstSeq, y.Count, y.Bytes, x.Bytes)
	}
	info, err := s.GetStream(t.Context(), "p", "s")
	if err != nil || info.FirstSeq != 26 || info.EventCount != 25 {
		t.Fatalf("GetStream after retain: %+v %v", info, err)
	}
	var ce *event.ConflictError
	if _, err := s.Read(t.Context(), event.ReadRequest{Project: "p", Stream: "s", FromSeq: 25, Limit: 5}); !errors.As(err, &ce) || ce.Expected != 26 {
		t.Fatalf("read below the first seq: %v", err)
	}
	// Blocks wholly below seq 26 (seqs 1..20) go; the block holding 21..30 stays.
	deadline := time.Now().Add(10 * time.Second)
	for countKeys(t, s, idPrefix(spaceBlock, x.ID)) != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("expired blocks left: %d blocks, want 3", countKeys(t, s, idPrefix(spaceBlock, x.ID)))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.Retain(t.Context(), []Retain{{Project: "p", Stream: "s", ID: x.ID, FirstSeq: 1000}}); err != nil {
		t.Fatal(err)
	}
	if z := snapshotExtent(t, s, "p", "s"); z.FirstSeq != 51 || z.Count != 0 || z.Bytes != 0 || z.LastSeq != 50 {
		t.Fatalf("after expiring everything: %+v", z)
	}
}
