package hot

import (
	"errors"
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
// So once trims and purges have deleted a value-log file's worth of blocks
// that lived in the value log, the committer flushes the memtables and
// compacts level 0 itself, then wakes the GC. Badger has no call that only
// flushes; DropPrefix of a key that exists flushes every memtable, compacts
// L0 into L1 (counting the garbage) and drops the key. It refuses other
// writes while it runs, which is why the committer, the only other writer,
// runs it between groups, and gcMu keeps the GC's rewrites out of its way.
// It also holds Badger's lock that every read takes: appends, reads and
// subscriptions all wait while it runs (10–30 ms in
// BenchmarkHistoryStreamRSS, 360 ms for the first one of a run; it grows
// with what the memtable holds). Blocks under the value threshold live in
// the memtable and do not count, so workloads of single events, whose
// memtables fill and flush by themselves, do not trigger it.
//
// A DropPrefix that fails part way leaves Badger's memtables released but
// still listed, so the store stops serving anything until a restart, which
// rebuilds them from the WAL.

// reclaimKey is the marker DropPrefix drops; nothing else uses it.
var reclaimKey = []byte{spaceSystem, 'r', 'e', 'c', 'l', 'a', 'i', 'm'}

// freed counts n bytes of blocks deleted by a trim or purge and reclaims
// once they add up to one value-log file, the unit the GC frees.
func (s *Store) freed(n int64) {
	if s.opts.ValueLogGCInterval < 0 || s.broken != nil {
		return // no GC would follow, or the store is already failing
	}
	s.trimmedBytes += n
	if s.trimmedBytes >= s.opts.valueLogFileSize || (s.reclaimAgain && s.snapshots.Load() == 0) {
		s.reclaim()
	}
}

// valueLogBytes is the size of item's value if it lives in the value log
// (Badger puts values of at least the value threshold there), else 0.
func (s *Store) valueLogBytes(item *badger.Item) int64 {
	if n := item.ValueSize(); n >= s.opts.valueThreshold {
		return n
	}
	return 0
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
		if errors.Is(err, badger.ErrBlockedWrites) {
			s.log.Warn("hot: reclaim value log: writes are blocked; trying again later", "err", err)
			return
		}
		s.fail(fmt.Errorf("hot store unusable after a failed flush for the value-log GC (restart to recover): %w", err))
		return
	}
	// A snapshot open during the compaction kept the versions it may
	// read, and their garbage uncounted: compact again after it.
	s.reclaimAgain = s.snapshots.Load() > 0
	s.log.Debug("hot: flushed and compacted for the value-log GC", "took", time.Since(start), "again", s.reclaimAgain)
	select {
	case s.gcNow <- struct{}{}:
	default:
	}
}

// fail stops the store: every later request and read gets err.
func (s *Store) fail(err error) {
	s.log.Error("hot: store failed", "err", err)
	s.broken = err
	s.unusable.Store(&err)
}
