package hot

import (
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Reclaiming value-log space.
//
// Blocks of 4 KiB and more live in Badger's value log, and Badger frees a
// value-log file only in its GC, which rewrites a file once compactions
// have counted enough of its values as garbage. Compactions only follow
// memtable flushes, and a hot tier of big blocks writes little to its
// memtable (a key and a value pointer per block): batched appends could
// fill gigabytes of value log before the first flush, so trimmed blocks
// kept their disk space, and their pages stayed mapped, indefinitely.
//
// So once trims and purges have deleted a value-log file's worth of blocks of blocks, the committer
// flushes the memtables and compacts level 0 itself, then wakes the GC.
// Badger has no call that only flushes; DropPrefix of a key that exists
// flushes every memtable, compacts L0 into L1 (counting the garbage) and
// drops the key. It refuses other writes while it runs, which is why the
// committer, the only other writer, runs it between groups, and gcMu keeps
// the GC's rewrites out of its way. Appends wait while it runs: 10–30 ms
// in BenchmarkHistoryStreamRSS, 360 ms for the first one of a run.

// reclaimKey is the marker DropPrefix drops; nothing else uses it.
var reclaimKey = []byte{spaceSystem, 'r', 'e', 'c', 'l', 'a', 'i', 'm'}

// freed counts n bytes of blocks deleted by a trim or purge and reclaims
// once they add up to one value-log file, the unit the GC frees.
func (s *Store) freed(n int64) {
	if s.trimmedBytes += n; s.trimmedBytes >= s.opts.valueLogFileSize {
		s.reclaim()
	}
}

// reclaim flushes and compacts so that trimmed blocks count as garbage,
// then wakes the value-log GC.
func (s *Store) reclaim() {
	// A GC pass may be rewriting a file, which takes a while; the committer
	// does not wait for it but tries again after its next trim.
	if !s.gcMu.TryLock() {
		return
	}
	defer s.gcMu.Unlock()
	s.trimmedBytes = 0
	start := time.Now()
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(reclaimKey, nil) }); err != nil {
		s.log.Warn("hot: reclaim value log: write marker", "err", err)
		return
	}
	if err := s.db.DropPrefix(reclaimKey); err != nil {
		s.log.Warn("hot: reclaim value log: flush and compact", "err", fmt.Errorf("drop marker: %w", err))
		return
	}
	s.log.Debug("hot: flushed and compacted for the value-log GC", "took", time.Since(start))
	select {
	case s.gcNow <- struct{}{}:
	default:
	}
}
