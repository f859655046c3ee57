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
	err := submitChunked(ctx, s, seals, func(part []Seal) *request { return &request{kind: opSeal, seals: part} })
	if err != nil {
		return fmt.Errorf("seal %d streams: %w", len(seals), err)
	}
	return nil
}

// submitChunked submits items in requests of at most maxSealsPerRequest
// streams each; a request that fails stops the rest.
func submitChunked[T any](ctx context.Context, s *Store, items []T, newRequest func([]T) *request) error {
	for len(items) > 0 {
		n := min(len(items), maxSealsPerRequest)
		r := newRequest(items[:n])
		r.done = make(chan struct{})
		if err := s.submit(ctx, r); err != nil {
			return err
		}
		items = items[n:]
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
		g.trims = append(g.trims, trim{id: st.id, upTo: st.trimTo()})
	}
	return nil
}

// Retain says that a stream's events before FirstSeq are expired.
type Retain struct {
	Project, Stream string
	// ID is the stream incarnation (Extent.ID).
	ID uint64
	// FirstSeq is the new first seq; LastSeq+1 expires every event.
	FirstSeq uint64
}

// Retain drops the events before each stream's new FirstSeq from both
// tiers' point of view: GetStream and reads start there at once (a read
// below it is out of range), EventCount follows and Bytes drops by the
// stream's average event size per event; hot blocks below it are deleted in
// the background and the history tier drops or rewrites its segments. A
// first seq never moves back; a retain for another incarnation is skipped.
func (s *Store) Retain(ctx context.Context, retains []Retain) error {
	err := submitChunked(ctx, s, retains, func(part []Retain) *request { return &request{kind: opRetain, retains: part} })
	if err != nil {
		return fmt.Errorf("apply retention to %d streams: %w", len(retains), err)
	}
	return nil
}

// retain stages a Retain request.
func (g *stage) retain(r *request) error {
	for _, x := range r.retains {
		st := g.lookup(nameKey{x.Project, x.Stream})
		if st == nil || st.id != x.ID {
			continue
		}
		first := min(x.FirstSeq, st.lastSeq+1)
		if first <= st.firstSeq {
			continue
		}
		kept := st.lastSeq + 1 - first
		st.bytes = min(st.bytes, uint64(scaleBytes(st.bytes, st.count, kept)))
		st.count = kept
		st.firstSeq = first
		g.markDirty(st, "")
		g.trims = append(g.trims, trim{id: st.id, upTo: st.trimTo()})
	}
	return nil
}

// trimTo is the last seq whose hot blocks may go: sealed or expired.
func (st *streamState) trimTo() uint64 { return max(st.coldSeq, st.firstSeq-1) }

// trim is a sealed or expired range whose hot blocks and time-index entries
// are still to delete.
type trim struct{ id, upTo uint64 }

// trimChunk is how many keys one trim step deletes.
const trimChunk = 4096

// trimStep deletes up to trimChunk keys of the first pending trim: blocks
// that end at or below upTo, and time-index entries of appends that do
// (an entry goes once the next one starts at or below upTo+1). Like purges,
// trims are not synced: a crash leaves keys that reads already skip, and
// the next Open queues the trim again.
func (s *Store) trimStep() {
	t := s.trims[0]
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	var keys [][]byte
	it := txn.NewIterator(badger.IteratorOptions{Prefix: idPrefix(spaceBlock, t.id)})
	var trimmed int64
	for it.Rewind(); it.Valid() && len(keys) < trimChunk && blockKeyLastSeq(it.Item().Key()) <= t.upTo; it.Next() {
		keys = append(keys, it.Item().KeyCopy(nil))
		trimmed += s.valueLogBytes(it.Item())
	}
	it.Close()
	it = txn.NewIterator(badger.IteratorOptions{Prefix: idPrefix(spaceTime, t.id)})
	var prev []byte
	for it.Rewind(); it.Valid() && len(keys) < trimChunk; it.Next() {
		k := it.Item().Key()
		if len(k) != 25 || timeKeyFirstSeq(k) > t.upTo+1 {
			break
		}
		if prev != nil {
			keys = append(keys, prev)
		}
		prev = it.Item().KeyCopy(nil)
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
	s.freed(trimmed)
}

// trimFailed logs a trim error and leaves the range for the next Open.
func (s *Store) trimFailed(t trim, err error) {
	s.log.Error("hot: trim sealed or expired events", "stream_id", t.id, "up_to", t.upTo, "err", err)
	s.trims = s.trims[1:]
}

// pendingTrim returns the trim a stream still needs after a restart, if
// any: blocks at or below its trim point, or more than one time-index entry
// starting at or before the seq after it.
func pendingTrim(txn *badger.Txn, st *streamState) (trim, bool) {
	t := trim{id: st.id, upTo: st.trimTo()}
	if t.upTo == 0 {
		return trim{}, false
	}
	it := txn.NewIterator(badger.IteratorOptions{Prefix: idPrefix(spaceBlock, st.id)})
	it.Rewind()
	found := it.Valid() && blockKeyLastSeq(it.Item().Key()) <= t.upTo
	it.Close()
	if found {
		return t, true
	}
	it = txn.NewIterator(badger.IteratorOptions{Prefix: idPrefix(spaceTime, st.id)})
	defer it.Close()
	n := 0
	for it.Rewind(); it.Valid() && n < 2; it.Next() {
		k := it.Item().Key()
		if len(k) != 25 || timeKeyFirstSeq(k) > t.upTo+1 {
			break
		}
		n++
	}
	return t, n >= 2
}
