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
		{"quiet with little to free", sample{cycles: 7}, sample{cycles: 7, objects: 12 * mib, live: 10 * mib, free: 1 * mib}, false},
		{"collecting on its own", sample{cycles: 7}, sample{cycles: 8, objects: 40 * mib, live: 10 * mib}, false},
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
	// No collection of its own may take the burst before Run sees it (a
	// forced one, as Run's, still runs).
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
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
