package hot

// Free disk space.
//
// Badger writes through memory-mapped files it creates sparse, so a full
// disk shows up as SIGBUS in one of its goroutines, not as an error:
//
//   - the memtable WAL, mapped at 2×MemTableSize (memtable.go:117,
//     logFile.open at memtable.go:538), written by every commit;
//   - the value-log file, mapped at 2×ValueLogFileSize (value.go:508),
//     written by every commit with a value of the value threshold or more,
//     and by the value-log GC's rewrites;
//   - every new table, mapped at its final size and filled in one copy
//     (table.CreateTable, table/table.go:245-256), by memtable flushes and
//     compactions, in the background.
//
// (Badger v4.9.0; the mappings come from ristretto's z.OpenMmapFile, which
// ftruncates a new file to its size: ristretto z/file.go:37.) So before each group the committer
// asks Options.Disk whether the group's bytes fit (admit), and the store
// reports to the guard what Badger will write without asking (owedBytes):
// the allocated bytes of every unflushed memtable's WAL, which a flush
// turns into a table of about that size, plus the tables of level 0 and of
// the base level, which a level-0 compaction rewrites before it deletes
// them. The value-log GC runs only when half a value-log file fits (at
// the GC's discard ratio, what it rewrites of a file is at most that).
// Open refuses to start Badger when the unflushed WALs it would replay and
// flush do not fit.

import (
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/silt-io/silt/pkg/diskspace"
)

const (
	// owedRefresh is how long a measurement of owed bytes is reused; the
	// bytes committed meanwhile are added to it.
	owedRefresh = 100 * time.Millisecond
	// commitSlack covers what a group writes beyond its entries' estimate:
	// a partly used page in the WAL and in the value log, entry headers.
	commitSlack = 64 << 10
	// openSlack covers what Badger writes when it opens: the headers of a
	// new memtable WAL and value-log file, the discard-stats file.
	openSlack = 2 << 20
)

// owedBytes is what Badger will write later without asking, cached.
type owedBytes struct {
	// mu protects the fields below.
	mu       sync.Mutex
	at       time.Time
	measured int64
	since    int64
}

// owed reports the bytes Badger owes the disk (see the comment at the top
// of this file). It is registered with Options.Disk and is safe for
// concurrent use.
func (s *Store) owed() int64 {
	select {
	case <-s.done:
		return 0 // closed: Badger owes nothing more
	default:
	}
	o := &s.owedCache
	o.mu.Lock()
	defer o.mu.Unlock()
	if now := time.Now(); o.at.IsZero() || now.Sub(o.at) >= owedRefresh {
		o.measured, o.since, o.at = s.measureOwed(), 0, now
	}
	return o.measured + o.since
}

// addOwed counts n bytes just committed until the next measurement sees
// them in a WAL.
func (s *Store) addOwed(n int64) {
	s.owedCache.mu.Lock()
	s.owedCache.since += n
	s.owedCache.mu.Unlock()
}

// measureOwed adds up the unflushed WALs and the tables of level 0 and of
// the base level.
func (s *Store) measureOwed() int64 {
	n := unflushedWALBytes(s.opts.Dir)
	for _, l := range s.db.Levels() {
		if l.Level == 0 || l.IsBaseLevel {
			n += l.Size
		}
	}
	return n
}

// unflushedWALBytes adds up the allocated bytes of the memtable WALs in
// dir (Badger deletes a WAL once its memtable is flushed).
func unflushedWALBytes(dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".mem") {
			continue
		}
		if fi, err := e.Info(); err == nil {
			n += diskspace.Allocated(fi)
		}
	}
	return n
}

// checkOpenSpace reports whether Badger can open in opts.Dir: replaying
// the WALs left by the last run flushes them into tables.
func checkOpenSpace(opts Options) error {
	return opts.Disk.Check(unflushedWALBytes(opts.Dir)+openSlack, diskspace.Essential)
}

// admit checks a group against Options.Disk before anything of it reaches
// Badger. Appends must leave the low-water mark free; other requests (stream
// changes, seals, retention) only the floor. It acks the requests that do
// not fit with the guard's error and returns the others.
func (s *Store) admit(group []*request) []*request {
	if s.opts.Disk == nil {
		return group
	}
	var appends, others int64
	for _, r := range group {
		n := estimate(r, math.MaxInt64).size
		if r.kind == opAppend {
			appends += n
		} else {
			others += n
		}
	}
	var appendErr, otherErr error
	slack := commitSlack + 64*int64(len(group))
	if appends > 0 {
		appendErr = s.opts.Disk.Check(appends+others+slack, diskspace.ForAppends)
	}
	if appends == 0 || appendErr != nil {
		otherErr = s.opts.Disk.Check(others+slack, diskspace.Essential)
	}
	if appendErr == nil && otherErr == nil {
		s.addOwed(appends + others + slack)
		return group
	}
	kept := group[:0:0]
	for _, r := range group {
		err := otherErr
		if r.kind == opAppend {
			err = appendErr
		}
		if err == nil {
			kept = append(kept, r)
			continue
		}
		r.app.release()
		r.err = err
		close(r.done)
	}
	if len(kept) > 0 {
		s.addOwed(others + slack)
	}
	return kept
}

// gcFits reports whether a value-log GC pass may run: it rewrites at most
// the live part of one file, under the discard ratio.
func (s *Store) gcFits() error {
	need := int64(float64(s.opts.valueLogFileSize)*(1-valueLogGCRatio)) + commitSlack
	return s.opts.Disk.Check(need, diskspace.Essential)
}
