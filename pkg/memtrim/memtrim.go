// Package memtrim returns the free memory of a quiet process to the
// operating system.
//
// Go's garbage collector runs when the heap has grown by GOGC percent since
// the last collection, and its scavenger returns freed pages down to about
// the heap goal that collection set. A server that stops after a burst (a
// memtable flush, a rotation, a compaction) therefore keeps the burst's
// garbage and pages: with no allocation there is no collection, apart from
// the runtime's forced one every two minutes, and the goal stays where the
// burst left it. [Run] watches for that state: when no collection has run
// since its last look and the heap holds enough dead or free memory, it
// collects and returns the free pages at once ([debug.FreeOSMemory]). A
// trim costs one collection, in proportion to the live heap, so it waits
// for dead and free memory worth a quarter of that.
// While the process allocates, collections run on their own and Run does
// nothing.
package memtrim

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Defaults for [Options].
const (
	// DefaultInterval is how often Run looks at the heap.
	DefaultInterval = 5 * time.Second
	// DefaultMinBytes is the least reclaimable memory worth a collection.
	DefaultMinBytes = 8 << 20
)

// Options configure [Run].
type Options struct {
	// Interval is how often to look; 0 means DefaultInterval.
	Interval time.Duration
	// MinBytes is the least dead and free heap memory that makes a quiet
	// process collect and return it; 0 means DefaultMinBytes.
	MinBytes uint64
	// Logger receives a debug line per trim; nil means slog.Default().
	Logger *slog.Logger

	// trim replaces debug.FreeOSMemory in tests.
	trim func()
}

// Run looks at the heap every Interval until ctx ends, and trims it when
// the process has been quiet since the last look.
func Run(ctx context.Context, o Options) {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.MinBytes == 0 {
		o.MinBytes = DefaultMinBytes
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.trim == nil {
		o.trim = debug.FreeOSMemory
	}
	t := time.NewTicker(o.Interval)
	defer t.Stop()
	prev := read()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur := read()
		if quietWithGarbage(prev, cur, o.MinBytes) {
			o.trim()
			after := read()
			o.Logger.Debug("memtrim: returned a quiet heap's free memory",
				"reclaimable", cur.reclaimable(), "released", after.released-cur.released)
			cur = after
		}
		prev = cur
	}
}

// quietAllocBytes is the most a process may allocate between two looks and
// still count as quiet: a trickle, not a workload whose own collections
// are on their way.
const quietAllocBytes = 1 << 20

// quietWithGarbage reports whether, between two looks, no collection ran
// and the process allocated less than quietAllocBytes, collection is on,
// and the heap now holds at least minBytes reclaimable bytes and a quarter
// of the live heap: a collection costs in proportion to the live heap, so
// a large one that is barely growing is not collected over and over.
func quietWithGarbage(prev, cur sample, minBytes uint64) bool {
	return cur.gogc >= 0 && cur.cycles == prev.cycles && cur.allocs-prev.allocs < quietAllocBytes &&
		cur.reclaimable() >= max(minBytes, cur.live/4)
}

// sample is what Run reads of the runtime's metrics.
type sample struct {
	cycles   uint64 // collections so far
	objects  uint64 // heap objects, live or not yet swept
	live     uint64 // live heap as of the last collection
	free     uint64 // free heap pages not yet returned to the OS
	released uint64 // heap pages returned to the OS
	allocs   uint64 // bytes allocated so far
	gogc     int64  // GOGC; negative when collection is off
}

// reclaimable is what a collection and a scavenge would free: the dead
// objects and the free pages.
func (s sample) reclaimable() uint64 {
	dead := uint64(0)
	if s.objects > s.live {
		dead = s.objects - s.live
	}
	return dead + s.free
}

// metricNames are read into a sample, in its fields' order.
var metricNames = []string{
	"/gc/cycles/total:gc-cycles",
	"/memory/classes/heap/objects:bytes",
	"/gc/heap/live:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
	"/gc/heap/allocs:bytes",
	"/gc/gogc:percent",
}

// read samples the runtime's metrics.
func read() sample {
	ms := make([]metrics.Sample, len(metricNames))
	for i, n := range metricNames {
		ms[i].Name = n
	}
	metrics.Read(ms)
	v := make([]uint64, len(ms))
	for i := range ms {
		if ms[i].Value.Kind() == metrics.KindUint64 {
			v[i] = ms[i].Value.Uint64()
		}
	}
	return sample{cycles: v[0], objects: v[1], live: v[2], free: v[3], released: v[4], allocs: v[5], gogc: int64(v[6])}
}
