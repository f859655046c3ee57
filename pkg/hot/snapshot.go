package hot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// Extent is what the hot tier knows of one stream at a snapshot.
type Extent struct {
	Project, Stream string
	// ID identifies this incarnation of the stream: a stream deleted and
	// created again under the same name gets a new ID.
	ID uint64
	// FirstSeq and LastSeq bound the stream across both tiers.
	FirstSeq, LastSeq uint64
	// ColdSeq is the last seq sealed into the history tier (0: none). The
	// hot tier serves seqs ColdSeq+1 to LastSeq.
	ColdSeq uint64
	// Count and Bytes are the stream's event count and stored bytes across
	// both tiers.
	Count, Bytes uint64
	// LastIngest is the ingest time of the last append (zero if none).
	LastIngest time.Time
	// Settings are the stream's settings (retention among them).
	Settings event.StreamSettings
}

// HotCount is the number of events the hot tier serves.
func (x Extent) HotCount() uint64 {
	if x.LastSeq <= x.ColdSeq {
		return 0
	}
	return x.LastSeq - max(x.ColdSeq, x.FirstSeq-1)
}

// HotBytes estimates the bytes of the hot events from the stream's average
// event size.
func (x Extent) HotBytes() uint64 { return uint64(x.BytesFrom(max(x.ColdSeq+1, x.FirstSeq))) }

// BytesFrom estimates, from the stream's average event size, the bytes of
// its events from seq first to its tail.
func (x Extent) BytesFrom(first uint64) float64 {
	if first > x.LastSeq {
		return 0
	}
	return scaleBytes(x.Bytes, x.Count, x.LastSeq+1-max(first, x.FirstSeq))
}

// scaleBytes is the share of bytes (of count events) that n events take at
// the average event size.
func scaleBytes(bytes, count, n uint64) float64 {
	if count == 0 {
		return 0
	}
	return float64(bytes) * float64(n) / float64(count)
}

func (st *streamState) extent() Extent {
	return Extent{
		Project: st.project, Stream: st.name, ID: st.id,
		FirstSeq: st.firstSeq, LastSeq: st.lastSeq, ColdSeq: st.coldSeq,
		Count: st.count, Bytes: st.bytes, LastIngest: st.lastIngest, Settings: st.settings,
	}
}

// Snapshot is a consistent, read-only view of the hot tier, valid only
// inside the function passed to View. Whatever a Snapshot sees was committed
// before it began; seals that commit later do not change it, so a reader
// that takes a Snapshot first and the history tier's manifest second finds
// every seq in one tier or the other.
type Snapshot struct {
	txn *badger.Txn
	// cache keeps decompressed blocks for ScanRecords (nil: none).
	cache *blockCache
}

// View runs fn with a Snapshot of the hot tier.
func (s *Store) View(ctx context.Context, fn func(*Snapshot) error) error {
	if err := s.beginRead(); err != nil {
		return err
	}
	defer s.endRead()
	s.snapshots.Add(1)
	defer s.snapshots.Add(-1)
	return s.db.View(func(txn *badger.Txn) error {
		return fn(&Snapshot{txn: txn, cache: s.blocks})
	})
}

// Stream returns a stream's extent, or event.ErrStreamNotFound.
func (sn *Snapshot) Stream(project, stream string) (Extent, error) {
	st, err := getMeta(sn.txn, project, stream)
	if err != nil {
		return Extent{}, err
	}
	return st.extent(), nil
}

// Read is Store.Read inside the snapshot: it serves only the hot part of
// the stream, seqs after its ColdSeq.
func (sn *Snapshot) Read(ctx context.Context, req event.ReadRequest) (event.ReadResult, error) {
	return read(ctx, sn.txn, req)
}

// Streams calls fn with the extent of every stream, ordered by project and,
// within a project, by name. It stops at fn's first error.
func (sn *Snapshot) Streams(ctx context.Context, fn func(Extent) error) error {
	it := sn.txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: []byte{spaceStream}})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		item := it.Item()
		project, name, ok := parseStreamKey(item.Key())
		if !ok {
			return fmt.Errorf("list streams: %w: key %x", errCorrupt, item.Key())
		}
		var st *streamState
		if err := item.Value(func(v []byte) (err error) {
			st, err = decodeMeta(project, name, v)
			return err
		}); err != nil {
			return fmt.Errorf("read stream %s/%s: %w", project, name, err)
		}
		if err := fn(st.extent()); err != nil {
			return err
		}
	}
	return nil
}

// FirstHotIngest returns the ingest time of the stream's first hot event,
// and false when the hot tier serves none of its events.
func (sn *Snapshot) FirstHotIngest(x Extent) (time.Time, bool, error) {
	if x.HotCount() == 0 {
		return time.Time{}, false, nil
	}
	first := max(x.ColdSeq+1, x.FirstSeq)
	// The entry of the append holding first is the last one starting at or
	// before it; entries before it wait for their trim.
	it := sn.txn.NewIterator(badger.IteratorOptions{Prefix: idPrefix(spaceTime, x.ID)})
	defer it.Close()
	var found []byte
	for it.Rewind(); it.Valid(); it.Next() {
		k := it.Item().Key()
		if len(k) != 25 {
			return time.Time{}, false, fmt.Errorf("time index: %w: key %x", errCorrupt, k)
		}
		if timeKeyFirstSeq(k) > first {
			break
		}
		found = it.Item().KeyCopy(found)
	}
	if found == nil {
		return time.Time{}, false, fmt.Errorf("time index of %s/%s: %w: no entry for seq %d", x.Project, x.Stream, errCorrupt, first)
	}
	return timeFromOrder(beUint64(found[9:17])), true, nil
}

// SealPoint returns the last seq of the stream ingested before cutoff (at
// least ColdSeq). It always ends an append, so a seal up to it never splits
// one.
func (sn *Snapshot) SealPoint(x Extent, cutoff time.Time) (uint64, error) {
	it := sn.txn.NewIterator(badger.IteratorOptions{Prefix: idPrefix(spaceTime, x.ID)})
	defer it.Close()
	it.Seek(timeKey(x.ID, cutoff, 0))
	if !it.Valid() {
		return max(x.LastSeq, x.ColdSeq), nil
	}
	k := it.Item().Key()
	if len(k) != 25 {
		return 0, fmt.Errorf("time index: %w: key %x", errCorrupt, k)
	}
	return max(timeKeyFirstSeq(k)-1, x.ColdSeq), nil
}

// scanBlocksPerIterator is how many blocks Scan reads with one Badger
// iterator before it closes it and seeks again. Badger defers deleting
// value-log files that its GC has emptied while any iterator is open, and
// their pages stay mapped until then: one iterator held for a whole
// rotation (seconds, and hundreds of MiB of blocks) kept every file the GC
// freed in the meantime resident. Reopening costs a seek, and the
// snapshot's read timestamp still fixes what Scan sees.
const scanBlocksPerIterator = 16

// Scan calls fn with each hot event of the stream with seq in
// (x.ColdSeq, upTo], in seq order. fn must not keep e: Scan reuses it.
func (sn *Snapshot) Scan(ctx context.Context, x Extent, upTo uint64, fn func(e *event.Event) error) error {
	return sn.scan(ctx, x, upTo, fn, nil)
}

// scan is Scan (fn) or ScanRecords (rfn).
func (sn *Snapshot) scan(ctx context.Context, x Extent, upTo uint64, fn func(e *event.Event) error, rfn func(r *record.Stored) error) error {
	from := max(x.ColdSeq+1, x.FirstSeq)
	if upTo < from {
		return nil
	}
	scratch := getScratch() // decompressed records, reused block after block
	defer putScratch(scratch)
	s := scan{x: x, upTo: upTo, next: from, scratch: scratch, fn: fn, rfn: rfn}
	if rfn != nil {
		s.cache = sn.cache
		s.cache.queried()
	}
	for s.next <= upTo {
		more, err := s.blocks(ctx, sn.txn, scanBlocksPerIterator)
		if err != nil {
			return err
		}
		if !more {
			break
		}
	}
	if s.next <= upTo {
		return s.lost(upTo, fmt.Errorf("%w: no block holds them", errCorrupt))
	}
	return nil
}

// lost is the error for the seqs from s.next to last, which the scan could
// not read.
func (s *scan) lost(last uint64, err error) error {
	if !errors.Is(err, errCorrupt) {
		err = fmt.Errorf("%w: %w", errCorrupt, err) // Badger's checksum and value-log errors
	}
	return &event.RangeError{Project: s.x.Project, Stream: s.x.Stream, FirstSeq: s.next, LastSeq: last, Where: "hot tier", Err: err}
}

// blockError turns an error from reading the block ending at last into what
// the scan returns: fn's own errors as they are, the rest as a lost range.
func (s *scan) blockError(last uint64, err error) error {
	var lost *event.RangeError
	switch {
	case s.fnErr != nil:
		return s.fnErr
	case errors.As(err, &lost):
		return err
	}
	return s.lost(last, fmt.Errorf("scan block %d: %w", last, err))
}

// ScanRecords is Scan without decoding: it calls fn with each record of
// the stream with seq in (x.ColdSeq, upTo], in seq order, for a reader
// that decodes the bodies into its own form (a query's Arrow columns).
func (sn *Snapshot) ScanRecords(ctx context.Context, x Extent, upTo uint64, fn func(r *record.Stored) error) error {
	return sn.scan(ctx, x, upTo, nil, fn)
}

// scan is the state of one Snapshot.Scan across its iterators.
type scan struct {
	x       Extent
	upTo    uint64
	next    uint64 // the seq due next
	scratch *[]byte
	e       event.Event
	fn      func(e *event.Event) error
	// rfn, when set, takes undecoded records instead of fn.
	rfn func(r *record.Stored) error
	r   record.Stored
	// cache, when set, serves and keeps the blocks decompressed.
	cache *blockCache
	// fnErr is fn's or rfn's error, which ends the scan as it is.
	fnErr error
}

// blocks reads up to n blocks from the one holding s.next with a fresh
// iterator. It reports whether blocks remain after them.
func (s *scan) blocks(ctx context.Context, txn *badger.Txn, n int) (bool, error) {
	// With the cache, values are read only on a miss.
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: s.cache == nil, PrefetchSize: 4, Prefix: idPrefix(spaceBlock, s.x.ID)})
	defer it.Close()
	it.Seek(blockKey(s.x.ID, s.next))
	for ; it.Valid() && s.next <= s.upTo; it.Next() {
		if n == 0 {
			return true, nil
		}
		n--
		if err := ctx.Err(); err != nil {
			return false, err
		}
		item := it.Item()
		var err error
		if s.cache != nil {
			err = s.cachedBlock(item)
		} else {
			err = item.Value(s.block)
		}
		if err != nil {
			return false, s.blockError(blockKeyLastSeq(item.Key()), err)
		}
	}
	return false, nil
}

// cachedBlock passes the events of item's block in the scan's range to
// fn, from the cache or, read and decompressed, into it.
func (s *scan) cachedBlock(item *badger.Item) error {
	id := blockID{stream: s.x.ID, lastSeq: blockKeyLastSeq(item.Key())}
	b, ok := s.cache.get(id)
	if !ok {
		err := item.Value(func(v []byte) error {
			var err error
			b, err = cacheBlock(id, v)
			return err
		})
		if err != nil {
			return err
		}
		s.cache.put(b)
	}
	return s.records(b.cursor())
}

// block passes a block's events in the scan's range to fn.
func (s *scan) block(v []byte) error {
	c, err := openBlock(v, s.scratch)
	if err != nil {
		return err
	}
	return s.records(c)
}

// records passes the events of c's block in the scan's range to fn.
func (s *scan) records(c *blockCursor) error {
	var err error
	for c.more() && c.seq() <= s.upTo {
		if c.seq() < s.next {
			if err := c.skip(); err != nil {
				return err
			}
			continue
		}
		if c.seq() != s.next {
			return s.lost(c.seq()-1, fmt.Errorf("%w: next block starts at seq %d", errCorrupt, c.seq()))
		}
		if s.rfn != nil {
			s.r = record.Stored{Seq: c.seq(), IngestTime: c.h.IngestTime, ContentType: c.h.ContentType}
			if s.r.Body, err = c.body(); err != nil {
				return err
			}
			if err := s.rfn(&s.r); err != nil {
				s.fnErr = err
				return err
			}
			s.next++
			continue
		}
		if err := c.decode(&s.e); err != nil {
			return err
		}
		s.e.Project, s.e.Stream = s.x.Project, s.x.Stream
		if err := s.fn(&s.e); err != nil {
			s.fnErr = err
			return err
		}
		s.next++
	}
	return nil
}

// timeFromOrder inverts timeOrder.
func timeFromOrder(v uint64) time.Time { return time.Unix(0, int64(v^(1<<63))).UTC() }
