package hot

import (
	"context"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/silt-io/silt/pkg/event"
)

// Read returns a page of a stream's events from one Badger snapshot:
// events with Seq >= req.FromSeq, or, when req.FromTime is set, from the
// first event whose IngestTime is at or after it (found by a seek in the
// time index). Seqs sealed into the history tier are not served: a page
// starts after the stream's cold seq (see Snapshot). The page holds at most req.Limit events and, when
// req.MaxBytes > 0, stops before the sum of len(Data) would pass MaxBytes —
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
	res := event.ReadResult{FirstSeq: st.firstSeq, LastSeq: st.lastSeq}
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
	size := 0
	scratch := getScratch() // decompressed records, reused block after block
	defer putScratch(scratch)
	for it.Seek(blockKey(st.id, start)); it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return event.ReadResult{}, err
		}
		item := it.Item()
		full := false
		err := item.Value(func(v []byte) error {
			c, err := openBlock(v, scratch)
			if err != nil {
				return err
			}
			if c.h.LastSeq() != blockKeyLastSeq(item.Key()) {
				return fmt.Errorf("%w: block %d..%d under key for seq %d", errCorrupt, c.h.FirstSeq, c.h.LastSeq(), blockKeyLastSeq(item.Key()))
			}
			for c.more() {
				if c.seq() < start {
					if err := c.skip(); err != nil {
						return err
					}
					continue
				}
				if len(res.Events) >= req.Limit {
					full = true
					return nil
				}
				var e event.Event
				if err := c.decode(&e); err != nil {
					return err
				}
				if req.MaxBytes > 0 && len(res.Events) > 0 && size+len(e.Data) > req.MaxBytes {
					full = true
					return nil
				}
				size += len(e.Data)
				e.Project, e.Stream = req.Project, req.Stream
				res.Events = append(res.Events, e)
			}
			return c.finish()
		})
		if err != nil {
			return event.ReadResult{}, fmt.Errorf("read block %d of stream id %d: %w", blockKeyLastSeq(item.Key()), st.id, err)
		}
		if full || len(res.Events) >= req.Limit {
			break
		}
	}
	if n := len(res.Events); n > 0 {
		res.NextSeq = res.Events[n-1].Seq + 1
	}
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
