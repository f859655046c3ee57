package hot

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// vlogFiles is the number of Badger value-log files in dir.
func vlogFiles(t testing.TB, dir string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

// fillValueLog opens a store with 2 MiB value-log files and no GC tick
// (the interval is an hour), and appends 48 times 64 events of ~4 KiB to
// p/s: ~12 MiB of blocks, five files or more. Random bytes, so the blocks
// stay that large (they are compressed). It returns the store, its dir,
// the events appended each time and the value-log file count.
func fillValueLog(t *testing.T) (*Store, string, []event.Event, int) {
	t.Helper()
	dir := t.TempDir()
	s := openStoreIn(t, dir, func(o *Options) {
		o.Sync = false
		o.valueLogFileSize = 2 << 20
		o.ValueLogGCInterval = time.Hour
	})
	evs := make([]event.Event, 64)
	for i := range evs {
		evs[i] = event.Event{Type: "t", ContentType: "application/octet-stream", Data: randomBytes(4000)}
	}
	for range 48 {
		mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(evs...), AutoCreate: true})
	}
	before := vlogFiles(t, dir)
	if before < 5 {
		t.Fatalf("%d value-log files after ~12 MiB of blocks; the test needs at least 5", before)
	}
	return s, dir, evs, before
}

// TestReclaim_FreesTrimmedValueLog checks that sealing a stream's blocks
// gives their value-log files back to the disk without waiting for a
// memtable to fill: the blocks go to the value log, their keys are tiny,
// and no GC tick comes during the test (the interval is an hour).
func TestReclaim_FreesTrimmedValueLog(t *testing.T) {
	t.Parallel()
	s, dir, evs, before := fillValueLog(t)
	x := snapshotExtent(t, s, "p", "s")
	if err := s.Seal(t.Context(), []Seal{{Project: "p", Stream: "s", ID: x.ID, UpTo: x.LastSeq}}); err != nil {
		t.Fatal(err)
	}
	// The trim deletes every block; the reclaim and GC that follow remove
	// every value-log file but the one being written (and one the GC may
	// not have reached yet).
	deadline := time.Now().Add(20 * time.Second)
	for vlogFiles(t, dir) > 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d value-log files 20 s after sealing everything (%d before)", vlogFiles(t, dir), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The store still works: appends after the reclaim read back.
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(evs[:1]...)})
	res := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s", FromSeq: x.LastSeq + 1})
	if len(res.Events) != 1 || res.Events[0].Seq != x.LastSeq+1 {
		t.Fatalf("read after reclaim: %d events from %d", len(res.Events), x.LastSeq+1)
	}
}
