package hot

import (
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// TestReclaim_AgainAfterASnapshotCloses: a snapshot open while trimmed
// blocks are compacted keeps their versions (Badger drops none newer than
// the oldest open read), so the GC cannot free their value-log files. Once
// the snapshot closes, the next trim, however small, reclaims again and
// the files go.
func TestReclaim_AgainAfterASnapshotCloses(t *testing.T) {
	t.Parallel()
	s, dir, evs, before := fillValueLog(t)
	// A snapshot (a rotation, a query) stays open across the seal.
	opened, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.View(t.Context(), func(*Snapshot) error {
			close(opened)
			<-release
			return nil
		})
	}()
	<-opened
	x := snapshotExtent(t, s, "p", "s")
	if err := s.Seal(t.Context(), []Seal{{Project: "p", Stream: "s", ID: x.ID, UpTo: x.LastSeq}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the trim, the reclaim and a GC pass run meanwhile
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// One small append and seal: its trim frees almost nothing, yet it
	// must reclaim again now that no snapshot is open.
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(evs[:1]...)})
	x = snapshotExtent(t, s, "p", "s")
	if err := s.Seal(t.Context(), []Seal{{Project: "p", Stream: "s", ID: x.ID, UpTo: x.LastSeq}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for vlogFiles(t, dir) > 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d value-log files 20 s after the snapshot closed (%d before the seal)", vlogFiles(t, dir), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
