package hot

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// purgeChunk is how many keys one purge step deletes.
const purgeChunk = 4096

// purgeStep deletes up to purgeChunk keys of the first stream id waiting for
// its purge, and its tombstone once nothing is left. The committer runs it
// only while the queue is empty. Purge writes are not synced: a crash can
// only leave keys of a dead id behind, and the tombstone makes the next Open
// finish the job.
func (s *Store) purgeStep() {
	id := s.purges[0]
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	n := 0
	var freed int64
	for _, space := range []byte{spaceBlock, spaceTime, spaceProducer} {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: idPrefix(space, id)})
		var keys [][]byte
		for it.Rewind(); it.Valid() && n+len(keys) < purgeChunk; it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
			if space == spaceBlock {
				freed += s.valueLogBytes(it.Item())
			}
		}
		it.Close()
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				s.purgeFailed(id, fmt.Errorf("delete key: %w", err))
				return
			}
		}
		n += len(keys)
	}
	done := n < purgeChunk
	if done {
		if err := txn.Delete(tombstoneKey(id)); err != nil {
			s.purgeFailed(id, fmt.Errorf("delete tombstone: %w", err))
			return
		}
	}
	if err := txn.Commit(); err != nil {
		s.purgeFailed(id, fmt.Errorf("commit: %w", err))
		return
	}
	if done {
		s.purges = s.purges[1:]
	}
	s.freed(freed)
}

// purgeFailed logs a purge error and leaves the id for the next Open.
func (s *Store) purgeFailed(id uint64, err error) {
	s.log.Error("hot: purge deleted stream data", "stream_id", id, "err", err)
	s.purges = s.purges[1:]
}
