package hot

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
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

// TestReclaim_FreesTrimmedValueLog checks that sealing a stream's blocks
// gives their value-log files back to the disk without waiting for a
// memtable to fill: the blocks go to the value log, their keys are tiny,
// and no GC tick comes during the test (the interval is an hour).
func TestReclaim_FreesTrimmedValueLog(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const fileSize = 2 << 20
	s := openStoreIn(t, dir, func(o *Options) {
		o.Sync = false
		o.valueLogFileSize = fileSize
		o.ValueLogGCInterval = time.Hour
	})
	// 48 appends of 64 events of ~4 KiB: ~12 MiB of blocks, five files or
	// more. Random bytes, so the blocks stay that large (they are compressed).
	evs := make([]event.Event, 64)
	for i := range evs {
		evs[i] = event.Event{Type: "t", ContentType: "application/octet-stream", Data: randomBytes(4000)}
	}
	for range 48 {
		mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: evs, AutoCreate: true})
	}
	before := vlogFiles(t, dir)
	if before < 5 {
		t.Fatalf("%d value-log files after ~10 MiB of blocks; the test needs at least 5", before)
	}
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
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: evs[:1]})
	res := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s", FromSeq: x.LastSeq + 1})
	if len(res.Events) != 1 || res.Events[0].Seq != x.LastSeq+1 {
		t.Fatalf("read after reclaim: %d events from %d", len(res.Events), x.LastSeq+1)
	}
}
