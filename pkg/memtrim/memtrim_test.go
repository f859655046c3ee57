package memtrim

import (
	"context"
	"runtime/debug"
	"testing"
	"time"
)

func TestQuietWithGarbage(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	for _, c := range []struct {
		name      string
		prev, cur sample
		want      bool
	}{
		{"quiet with dead objects", sample{cycles: 7}, sample{cycles: 7, objects: 40 * mib, live: 10 * mib}, true},
		{"quiet with free pages", sample{cycles: 7}, sample{cycles: 7, objects: 10 * mib, live: 10 * mib, free: 9 * mib}, true},
		{"a trickle of allocation", sample{cycles: 7, allocs: 100 * mib}, sample{cycles: 7, allocs: 100*mib + 512<<10, objects: 40 * mib, live: 10 * mib}, true},
		{"quiet with little to free", sample{cycles: 7}, sample{cycles: 7, objects: 12 * mib, live: 10 * mib, free: 1 * mib}, false},
		{"collecting on its own", sample{cycles: 7}, sample{cycles: 8, objects: 40 * mib, live: 10 * mib}, false},
		{"allocating, its collection not yet due", sample{cycles: 7, allocs: 100 * mib}, sample{cycles: 7, allocs: 130 * mib, objects: 40 * mib, live: 10 * mib}, false},
		{"collection turned off (GOGC=off)", sample{cycles: 7, gogc: -1}, sample{cycles: 7, gogc: -1, objects: 40 * mib, live: 10 * mib}, false},
		{"objects under the last live figure", sample{cycles: 7}, sample{cycles: 7, objects: 5 * mib, live: 10 * mib}, false},
		{"a large heap with little garbage", sample{cycles: 7}, sample{cycles: 7, objects: 1040 * mib, live: 1000 * mib}, false},
		{"a large heap with a quarter dead", sample{cycles: 7}, sample{cycles: 7, objects: 1250 * mib, live: 1000 * mib}, true},
	} {
		if got := quietWithGarbage(c.prev, c.cur, 8*mib); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// sink keeps an allocation reachable until the test drops it.
var sink []byte

// TestRun_ReturnsAQuietHeapsGarbage: garbage left by a burst is collected
// and its pages returned once the process is quiet, without waiting for the
// runtime's two-minute forced collection.
func TestRun_ReturnsAQuietHeapsGarbage(t *testing.T) {
	const burst = 64 << 20
	// No collection of its own may take the burst before Run sees it: a
	// heap goal ten thousand times the live heap (GOGC=off would turn the
	// trimmer off too).
	defer debug.SetGCPercent(debug.SetGCPercent(1_000_000))
	sink = make([]byte, burst)
	for i := range sink {
		sink[i] = byte(i) // make the pages resident
	}
	sink = nil
	before := read()
	if before.reclaimable() < burst/2 {
		t.Fatalf("%d bytes reclaimable after a %d-byte burst of garbage", before.reclaimable(), burst)
	}

	trimmed := make(chan sample, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, Options{Interval: 20 * time.Millisecond, trim: func() {
			debug.FreeOSMemory()
			select {
			case trimmed <- read():
			default:
			}
		}})
	}()
	defer func() { cancel(); <-done }()
	select {
	case after := <-trimmed:
		if after.reclaimable() >= burst/2 {
			t.Errorf("after the trim %d bytes are still reclaimable, want most of the %d-byte burst gone", after.reclaimable(), burst)
		}
		if after.released < before.released+burst/2 {
			t.Errorf("released %d bytes to the OS, want most of the %d-byte burst", after.released-before.released, burst)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no trim within 10 s of a quiet heap with a 64 MiB burst of garbage")
	}
}

// TestRead_SeesAllocationAndGOGC: the runtime metrics Run decides by are
// the ones it reads (a renamed metric would read as zero).
func TestRead_SeesAllocationAndGOGC(t *testing.T) {
	before := read()
	sink = make([]byte, 4<<20)
	sink = nil
	after := read()
	if after.allocs-before.allocs < 4<<20 {
		t.Errorf("allocated 4 MiB, read %d bytes more allocated", after.allocs-before.allocs)
	}
	if after.cycles == 0 || after.objects == 0 {
		t.Errorf("read %+v: no collections or no heap objects", after)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	if g := read().gogc; g != -1 {
		t.Errorf("GOGC=off reads as %d, want -1", g)
	}
}
