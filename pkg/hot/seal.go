package hot

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Seal says that a stream's events up to UpTo now live in the history tier.
type Seal struct {
	Project, Stream string
	// ID is the stream incarnation the sealed events belong to (Extent.ID).
	ID uint64
	// UpTo is the last sealed seq.
	UpTo uint64
}

// maxSealsPerRequest bounds the streams one seal transaction updates.
const maxSealsPerRequest = 1000

// errSealPastTail: a seal beyond the stream's last seq is a caller's bug.
var errSealPastTail = errors.New("seal past the stream's last seq")

// Seal records that the given ranges were made durable in the history tier:
// each stream's ColdSeq moves up to UpTo (never down), reads of the hot
// tier start after it, and the sealed blocks are deleted in the background.
// A seal for a stream that no longer exists, or exists as another
// incarnation, is skipped. Seal is idempotent, so recovery may repeat it.
func (s *Store) Seal(ctx context.Context, seals []Seal) error {
	for len(seals) > 0 {
		n := min(len(seals), maxSealsPerRequest)
		r := &request{kind: opSeal, seals: seals[:n], done: make(chan struct{})}
		if err := s.submit(ctx, r); err != nil {
			return fmt.Errorf("seal %d streams: %w", n, err)
		}
		seals = seals[n:]
	}
	return nil
}

// seal stages a Seal request.
func (g *stage) seal(r *request) error {
	for _, x := range r.seals {
		st := g.lookup(nameKey{x.Project, x.Stream})
		if st == nil || st.id != x.ID || x.UpTo <= st.coldSeq {
			continue
		}
		if x.UpTo > st.lastSeq {
			r.err = fmt.Errorf("seal %s/%s up to %d, last seq %d: %w", x.Project, x.Stream, x.UpTo, st.lastSeq, errSealPastTail)
			return nil
		}
		st.coldSeq = x.UpTo
		g.markDirty(st, "")
		g.trims = append(g.trims, trim{id: st.id, upTo: x.UpTo})
	}
	return nil
}

// trim is a sealed range whose hot blocks and time-index entries are still
// to delete.
type trim struct{ id, upTo uint64 }

// trimChunk is how many keys one trim step deletes.
const trimChunk = 4096

// trimStep deletes up to trimChunk keys of the first pending trim. Like
// purges, trims are not synced: a crash leaves keys that reads already skip
// (they are at or below ColdSeq), and the next Open queues the trim again.
func (s *Store) trimStep() {
	t := s.trims[0]
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	var keys [][]byte
	it := txn.NewIterator(badger.IteratorOptions{Prefix: idPrefix(spaceBlock, t.id)})
	for it.Rewind(); it.Valid() && len(keys) < trimChunk && blockKeyLastSeq(it.Item().Key()) <= t.upTo; it.Next() {
		keys = append(keys, it.Item().KeyCopy(nil))
	}
	it.Close()
	it = txn.NewIterator(badger.IteratorOptions{Prefix: idPrefix(spaceTime, t.id)})
	for it.Rewind(); it.Valid() && len(keys) < trimChunk; it.Next() {
		k := it.Item().Key()
		if len(k) != 25 || timeKeyFirstSeq(k) > t.upTo {
			break
		}
		keys = append(keys, it.Item().KeyCopy(nil))
	}
	it.Close()
	for _, k := range keys {
		if err := txn.Delete(k); err != nil {
			s.trimFailed(t, fmt.Errorf("delete key: %w", err))
			return
		}
	}
	if err := txn.Commit(); err != nil {
		s.trimFailed(t, fmt.Errorf("commit: %w", err))
		return
	}
	if len(keys) < trimChunk {
		s.trims = s.trims[1:]
	}
}

// trimFailed logs a trim error and leaves the range for the next Open.
func (s *Store) trimFailed(t trim, err error) {
	s.log.Error("hot: trim sealed events", "stream_id", t.id, "up_to", t.upTo, "err", err)
	s.trims = s.trims[1:]
}

// pendingTrim returns the trim a stream still needs after a restart, if
// any: blocks or time-index entries at or below its ColdSeq.
func pendingTrim(txn *badger.Txn, st *streamState) (trim, bool) {
	if st.coldSeq == 0 {
		return trim{}, false
	}
	t := trim{id: st.id, upTo: st.coldSeq}
	it := txn.NewIterator(badger.IteratorOptions{Prefix: idPrefix(spaceBlock, st.id)})
	it.Rewind()
	found := it.Valid() && blockKeyLastSeq(it.Item().Key()) <= st.coldSeq
	it.Close()
	if found {
		return t, true
	}
	it = txn.NewIterator(badger.IteratorOptions{Prefix: idPrefix(spaceTime, st.id)})
	defer it.Close()
	it.Rewind()
	return t, it.Valid() && len(it.Item().Key()) == 25 && timeKeyFirstSeq(it.Item().Key()) <= st.coldSeq
}
