package segment

import (
	"slices"
	"sync"
)

// DefaultCursorCacheSize is how many idle cursors the cache shared by
// every Reader keeps.
const DefaultCursorCacheSize = 8

// defaultCursors is the cache every Reader uses (a test may give one its
// own). It is package state so that the memory idle cursors hold stays bounded
// however many Readers a process keeps open.
var defaultCursors = NewCursorCache(DefaultCursorCacheSize)

// CursorCache keeps the cursors that Reads leave inside a row group: open
// column readers positioned at the row after the last event returned, with
// the current page of every column decompressed (about 7 MiB with the
// default 1 MiB pages). A Read that starts at that row, as the next page of
// a catch-up reader does, continues with the cursor instead of seeking,
// which costs a page of every column and the maps up to the row.
//
// A cache holds at most its size in cursors across all the Readers that
// share it, and drops the least recently left one first. It is safe for
// concurrent use.
type CursorCache struct {
	size int
	// mu protects idle, oldest first. A cursor taken out of idle belongs
	// to the Read that took it until that Read puts it back.
	mu   sync.Mutex
	idle []idleCursor
}

// idleCursor is a cursor of one Reader's file.
type idleCursor struct {
	r *Reader
	c *cursor
}

// NewCursorCache returns a cache of at most size cursors; 0 keeps none,
// so every Read seeks.
func NewCursorCache(size int) *CursorCache {
	return &CursorCache{size: max(size, 0)}
}

// take removes and returns r's cursor at row offset of row group rg, or nil.
func (cc *CursorCache) take(r *Reader, rg int, offset int64) *cursor {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	for i := len(cc.idle) - 1; i >= 0; i-- {
		if x := cc.idle[i]; x.r == r && x.c.rg == rg && x.c.row == offset {
			cc.idle = slices.Delete(cc.idle, i, i+1)
			return x.c
		}
	}
	return nil
}

// put keeps r's cursor c, dropping the oldest when the cache is full.
func (cc *CursorCache) put(r *Reader, c *cursor) {
	if cc.size == 0 {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if len(cc.idle) >= cc.size {
		cc.idle = slices.Delete(cc.idle, 0, len(cc.idle)-cc.size+1)
	}
	cc.idle = append(cc.idle, idleCursor{r, c})
}

// drop removes every cursor of r.
func (cc *CursorCache) drop(r *Reader) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.idle = slices.DeleteFunc(cc.idle, func(x idleCursor) bool { return x.r == r })
}

// Len is the number of idle cursors in the cache.
func (cc *CursorCache) Len() int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return len(cc.idle)
}
