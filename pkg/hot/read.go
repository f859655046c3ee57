package hot

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/silt-io/silt/pkg/event"
)

// Read returns a page of a stream's events from one Badger snapshot:
// events with Seq >= req.FromSeq, or, when req.FromTime is set, from the
// first event whose IngestTime is at or after it (found by a seek in the
// time index). Seqs sealed into the history tier are not served: a page
// starts after the stream's cold seq (see Snapshot). The page holds at most req.Limit events and, when
// req.MaxBytes > 0, stops before the sum of the events' Size would pass MaxBytes —
// but always holds at least one event if one is available. NextSeq is the
// seq after the last returned event, or the start seq when none was.
//
// Read sees every committed group; with Options.Sync a group is visible only
// once it is synced, possibly a moment before its callers are acked.
func (s *Store) Read(ctx context.Context, req event.ReadRequest) (event.ReadResult, error) {
	if err := s.beginRead(); err != nil {
		return event.ReadResult{}, fmt.Errorf("read %s/%s: %w", req.Project, req.Stream, err)
	}
	defer s.endRead()
	var res event.ReadResult
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		res, err = read(ctx, txn, req)
		return err
	})
	if err != nil {
		return event.ReadResult{}, fmt.Errorf("read %s/%s: %w", req.Project, req.Stream, err)
	}
	return res, nil
}

// read is Read inside a snapshot.
func read(ctx context.Context, txn *badger.Txn, req event.ReadRequest) (event.ReadResult, error) {
	st, err := getMeta(txn, req.Project, req.Stream)
	if err != nil {
		return event.ReadResult{}, err
	}
	res := event.ReadResult{FirstSeq: st.firstSeq, LastSeq: st.lastSeq, StreamID: st.id}
	if req.FromSeq > 1 && req.FromSeq < st.firstSeq {
		return event.ReadResult{}, &event.ConflictError{Err: event.ErrOutOfRange, Expected: st.firstSeq, Got: req.FromSeq}
	}
	start := max(req.FromSeq, st.firstSeq, st.coldSeq+1)
	if !req.FromTime.IsZero() {
		start, err = seekTime(txn, st, req)
		if err != nil {
			return event.ReadResult{}, err
		}
	}
	res.NextSeq = start
	if start > st.lastSeq || req.Limit <= 0 {
		return res, nil
	}

	it := txn.NewIterator(badger.IteratorOptions{
		PrefetchValues: true,
		PrefetchSize:   4,
		Prefix:         idPrefix(spaceBlock, st.id),
	})
	defer it.Close()
	p := hotPage{req: req, next: start}
	scratch := getScratch() // decompressed records, reused block after block
	defer putScratch(scratch)
	for it.Seek(blockKey(st.id, start)); it.Valid() && !p.full; it.Next() {
		if err := ctx.Err(); err != nil {
			return event.ReadResult{}, err
		}
		if err := p.block(it.Item(), scratch); err != nil {
			return p.fail(res, err)
		}
	}
	if !p.full && p.next <= st.lastSeq {
		// The stream's metadata and its blocks commit together: a block
		// missing here was lost (or Badger's iterator stopped at a damaged
		// table block, which it does without an error).
		return p.fail(res, p.lost(p.next, st.lastSeq, fmt.Errorf("%w: no block holds them", errCorrupt)))
	}
	res.Events = p.events
	if n := len(res.Events); n > 0 {
		res.NextSeq = res.Events[n-1].Seq + 1
	}
	return res, nil
}

// hotPage collects a Read's events block by block and checks that they are
// exactly the seqs due: a block that cannot be read, or one that starts
// after the seq due, is a lost range, never a gap in the page.
type hotPage struct {
	req    event.ReadRequest
	next   uint64 // the seq due next
	events []event.Event
	size   int
	full   bool
}

// block adds the events of item's block from p.next on, until the page is
// full. On an error it leaves the page as it was before the block.
func (p *hotPage) block(item *badger.Item, scratch *[]byte) error {
	last := blockKeyLastSeq(item.Key())
	before, size := len(p.events), p.size
	var gapEnd uint64 // set: seqs p.next..gapEnd are in no block
	err := item.Value(func(v []byte) error {
		c, err := openBlock(v, scratch)
		if err != nil {
			return err
		}
		if c.h.LastSeq() != last {
			return fmt.Errorf("%w: block %d..%d under key for seq %d", errCorrupt, c.h.FirstSeq, c.h.LastSeq(), last)
		}
		if c.h.FirstSeq > p.next {
			gapEnd = c.h.FirstSeq - 1
			return nil
		}
		for c.more() {
			if c.seq() < p.next {
				if err := c.skip(); err != nil {
					return err
				}
				continue
			}
			if len(p.events) >= p.req.Limit {
				p.full = true
				return nil
			}
			var e event.Event
			if err := c.decode(&e); err != nil {
				return err
			}
			e.Project, e.Stream = p.req.Project, p.req.Stream
			if p.req.MaxBytes > 0 && len(p.events) > 0 && p.size+e.Size() > p.req.MaxBytes {
				p.full = true
				return nil
			}
			p.size += e.Size()
			p.events = append(p.events, e)
		}
		return c.finish()
	})
	switch {
	case err != nil:
		p.events, p.size, p.full = p.events[:before], size, false
		if !errors.Is(err, errCorrupt) {
			err = fmt.Errorf("%w: %w", errCorrupt, err) // Badger's checksum and value-log errors
		}
		return p.lost(p.next, last, fmt.Errorf("read block %d: %w", last, err))
	case gapEnd != 0:
		return p.lost(p.next, gapEnd, fmt.Errorf("%w: next block starts at seq %d", errCorrupt, gapEnd+1))
	}
	if n := len(p.events); n > 0 {
		p.next = p.events[n-1].Seq + 1
	}
	if !p.full && len(p.events) >= p.req.Limit {
		p.full = true
	}
	return nil
}

// lost is the error for seqs first..last of the page's stream.
func (p *hotPage) lost(first, last uint64, err error) error {
	return &event.RangeError{Project: p.req.Project, Stream: p.req.Stream, FirstSeq: first, LastSeq: last, Where: "hot tier", Err: err}
}

// fail ends the page at a lost range: the events read before it are the
// page (the next read starts at the range and fails there); with none, the
// read fails.
func (p *hotPage) fail(res event.ReadResult, err error) (event.ReadResult, error) {
	if len(p.events) == 0 {
		return event.ReadResult{}, err
	}
	res.Events = p.events
	res.NextSeq = p.next
	return res, nil
}

// seekTime returns the first seq whose ingest time is at or after
// req.FromTime, or lastSeq+1 if there is none. Every block of an append
// shares one ingest time and ingest times never decrease along a stream, so
// the first time-index key at or after (FromTime, 0) names the answer.
func seekTime(txn *badger.Txn, st *streamState, req event.ReadRequest) (uint64, error) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: idPrefix(spaceTime, st.id)})
	defer it.Close()
	it.Seek(timeKey(st.id, req.FromTime, 0))
	if !it.Valid() {
		return st.lastSeq + 1, nil
	}
	k := it.Item().Key()
	if len(k) != 25 {
		return 0, fmt.Errorf("seek time index: %w: key %x", errCorrupt, k)
	}
	return max(timeKeyFirstSeq(k), st.firstSeq, st.coldSeq+1), nil
}
