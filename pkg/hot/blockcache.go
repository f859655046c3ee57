package hot

import (
	"bytes"
	"container/list"
	"sync"
	"sync/atomic"
	"time"

	"github.com/silt-io/silt/pkg/record"
)

// blockCache keeps the decompressed records of the hot blocks that queries
// read (Snapshot.ScanRecords), most recently used first, up to a byte
// budget: a dashboard that queries the hot tier again and again then skips
// the S2 decompression, a third of such a query's CPU. A block is written
// once under its key (stream id, last seq) and never changed, and stream
// ids are never reused, so an entry can never be stale; one whose block is
// trimmed is simply never asked for again and ages out.
type blockCache struct {
	mu      sync.Mutex
	limit   int64
	size    int64
	entries map[blockID]*list.Element
	lru     list.List // of *cachedBlock, most recent at the front

	// lastQuery is when a query last read through the cache (Unix ns):
	// while queries come, the committer adds the blocks it writes, so that
	// the next query finds new events already decompressed.
	lastQuery atomic.Int64
}

// writeThrough is how long after a query the committer keeps adding the
// blocks it writes to the cache. The copy costs appends about a quarter
// more CPU per event (BenchmarkAppendBatch1000/durable-queried), so a
// store pays it only while it is being queried.
const writeThrough = time.Minute

// queried notes that a query read through the cache.
func (c *blockCache) queried() {
	if c != nil {
		c.lastQuery.Store(time.Now().UnixNano())
	}
}

// written adds the blocks a committed group wrote, while queries come:
// their records are still in the requests' buffers, so no decompression
// is needed, only a copy.
func (c *blockCache) written(group []*request) {
	if c == nil || time.Since(time.Unix(0, c.lastQuery.Load())) > writeThrough {
		return
	}
	for _, r := range group {
		if r.app == nil || r.err != nil {
			continue
		}
		for i := range r.app.chunks {
			ch := &r.app.chunks[i]
			if ch.staged == nil {
				continue // a duplicate, not written
			}
			b := *ch.staged
			b.raw = bytes.Clone(ch.raw)
			c.put(&b)
		}
	}
}

// blockID names a block: its stream's id and its last seq.
type blockID struct{ stream, lastSeq uint64 }

// cachedBlock is a block's header and its records, uncompressed. It is
// shared by concurrent scans, so nobody writes to raw.
type cachedBlock struct {
	id  blockID
	h   blockHeader
	raw []byte
}

// cachedBlockOverhead is what an entry costs besides its records.
const cachedBlockOverhead = 200

func newBlockCache(limit int64) *blockCache {
	if limit <= 0 {
		return nil
	}
	return &blockCache{limit: limit, entries: map[blockID]*list.Element{}}
}

// get returns the block id, marking it used. A nil cache has nothing.
func (c *blockCache) get(id blockID) (*cachedBlock, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(e)
	return e.Value.(*cachedBlock), true
}

// put adds b, evicting the least recently used blocks past the budget. A
// block larger than the whole budget is not kept.
func (c *blockCache) put(b *cachedBlock) {
	if c == nil {
		return
	}
	cost := int64(len(b.raw)) + cachedBlockOverhead
	if cost > c.limit {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[b.id]; ok {
		return // another scan read it meanwhile
	}
	c.entries[b.id] = c.lru.PushFront(b)
	c.size += cost
	for c.size > c.limit {
		e := c.lru.Back()
		old := e.Value.(*cachedBlock)
		c.lru.Remove(e)
		delete(c.entries, old.id)
		c.size -= int64(len(old.raw)) + cachedBlockOverhead
	}
}

// cacheBlock decodes block b of id for the cache: its header, and its
// records decompressed (or copied: b is Badger's and valid only during the
// read).
func cacheBlock(id blockID, b []byte) (*cachedBlock, error) {
	var raw []byte
	c, err := openBlock(b, &raw)
	if err != nil {
		return nil, err
	}
	// The cursor reads the records: from raw when they were compressed,
	// else from the end of b.
	var recs []byte
	if c.h.Compressed {
		recs = raw[:c.d.Len()]
	} else {
		recs = append([]byte(nil), b[len(b)-c.d.Len():]...)
	}
	return &cachedBlock{id: id, h: c.h, raw: recs}, nil
}

// cursor returns a cursor on the block's first record.
func (b *cachedBlock) cursor() *blockCursor {
	return &blockCursor{h: b.h, d: record.NewDecoder(b.raw)}
}
