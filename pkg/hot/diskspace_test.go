package hot

import (
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/silt-io/silt/pkg/diskspace"
	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// fakeDisk is a guard over a filesystem whose free space the test sets.
func fakeDisk(dir string, lowWater int64, free *atomic.Int64) *diskspace.Guard {
	return diskspace.New(dir, diskspace.Options{LowWater: lowWater, Statfs: func(string) (diskspace.Space, error) {
		return diskspace.Space{Free: free.Load(), Total: 1 << 40}, nil
	}})
}

func TestStore_Append_DiskFull(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var free atomic.Int64
	free.Store(1 << 30)
	s := openStoreIn(t, dir, func(o *Options) { o.Disk = fakeDisk(dir, 64<<20, &free) })
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", AutoCreate: true, Events: record.Pack(jsonEvents(3, "a")...)})

	free.Store(64 << 20) // at the mark: nothing more fits
	_, err := s.Append(t.Context(), event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(1, "b")...)})
	var full *diskspace.FullError
	if !errors.Is(err, event.ErrDiskFull) || !errors.As(err, &full) {
		t.Fatalf("Append on a full disk: got %v, want ErrDiskFull", err)
	}
	if full.Mark != 64<<20 || full.Essential {
		t.Errorf("refusal %+v: want the low-water mark", full)
	}
	// Reads go on; a stream change may use the reserve down to the floor.
	if res := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s"}); len(res.Events) != 3 {
		t.Fatalf("read %d events on a full disk, want 3", len(res.Events))
	}
	if _, err := s.CreateStream(t.Context(), "p", "t", event.StreamSettings{}); err != nil {
		t.Fatalf("CreateStream above the floor: %v", err)
	}
	free.Store(diskspace.Floor)
	if _, err := s.CreateStream(t.Context(), "p", "u", event.StreamSettings{}); !errors.Is(err, event.ErrDiskFull) {
		t.Fatalf("CreateStream at the floor: got %v, want ErrDiskFull", err)
	}

	free.Store(1 << 30) // space returns: appends resume by themselves
	res := mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(1, "c")...)})
	if res.FirstSeq != 4 {
		t.Errorf("append after space returned got seq %d, want 4 (the refused one took none)", res.FirstSeq)
	}
}

func TestStore_Owed_CountsUnflushedWAL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var free atomic.Int64
	free.Store(1 << 40)
	s := openStoreIn(t, dir, func(o *Options) { o.Disk = fakeDisk(dir, 0, &free) })
	before := s.measureOwed()
	for range 20 {
		mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", AutoCreate: true, Events: record.Pack(jsonEvents(100, "a")...)})
	}
	after := s.measureOwed()
	if after <= before {
		t.Errorf("owed bytes %d after appends, %d before: the WAL's pages are not counted", after, before)
	}
	if got := s.owed(); got < after-(after-before) {
		t.Errorf("owed() = %d, below the last measurement", got)
	}
}

func TestOpen_DiskTooFullToReplay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A WAL left by a run that died: Open would replay and flush it.
	if err := os.WriteFile(filepath.Join(dir, "00001.mem"), make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	var free atomic.Int64
	free.Store(2 << 20)
	opts := testOptions(dir, func(o *Options) { o.Disk = fakeDisk(dir, 0, &free) })
	if _, err := Open(opts); !errors.Is(err, event.ErrDiskFull) {
		t.Fatalf("Open with 2 MiB free and a 1 MiB WAL: got %v, want ErrDiskFull", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("Open wrote %d files before refusing, want none", len(entries)-1)
	}
}
