package hot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/oklog/ulid/v2"

	"github.com/silt-io/silt/pkg/event"
)

// preparedAppend is an Append with its records already encoded by the
// caller's goroutine and cut into chunks, one per future block.
type preparedAppend struct {
	count           int
	bytes           int // total encoded record bytes
	chunks          []chunk
	producer        *event.Producer
	expectedLastSeq *uint64
	autoCreate      bool
	// buf holds the encoded records and zbuf the compressed chunks; the
	// committer returns both to recordBufs once the request is done with
	// (committed or rejected).
	buf, zbuf *[]byte
}

// chunk is the records of one future block, after headerRoom bytes where
// the committer writes the block header once it knows the seqs.
type chunk struct {
	count int
	block []byte // headerRoom bytes, then the records
	// compressed says the records are one S2 block (blockVersionS2).
	compressed bool
	// raw is the records uncompressed (in the request's buffer).
	raw []byte
	// staged is the block as the committer wrote it: set once it is in the
	// group's transaction, for the query cache (blockCache.written).
	staged *cachedBlock
}

// headerRoom is the room left before each chunk's records for its block
// header: enough for any header whose content type has up to 64 bytes. A
// longer one costs the committer a copy (chunk.withHeader).
var headerRoom = maxBlockHeaderLen(64)

// records are the chunk's encoded records.
func (c *chunk) records() []byte { return c.block[headerRoom:] }

// withHeader returns the block: h encoded right before the records, in the
// room left for it, so the committer copies no event.
func (c *chunk) withHeader(h blockHeader) []byte {
	var room [128]byte
	hdr := appendBlockHeader(room[:0], h)
	if len(hdr) <= headerRoom {
		v := c.block[headerRoom-len(hdr):]
		copy(v, hdr)
		return v
	}
	v := make([]byte, 0, len(hdr)+len(c.block)-headerRoom)
	return append(append(v, hdr...), c.records()...)
}

// recordBufs recycles the buffers that prepared appends encode into: an
// append of 1,000 events needs ~300 KB, which a fresh allocation would zero
// and fault in every time.
var recordBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxRecycledBuf is the largest buffer recordBufs keeps.
const maxRecycledBuf = 8 << 20

// release returns a's buffer for reuse; a must not be used afterwards.
func (a *preparedAppend) release() {
	if a == nil {
		return
	}
	for _, b := range []*[]byte{a.buf, a.zbuf} {
		if b != nil && cap(*b) <= maxRecycledBuf {
			*b = (*b)[:0]
			recordBufs.Put(b)
		}
	}
	a.buf, a.zbuf, a.chunks = nil, nil, nil
}

// Append appends req.Events to a stream, all or none, and returns their seq
// range once the commit is durable under Options.Sync. Events without an ID
// get a ULID; events without a content type get the stream's. See the package
// documentation for producer and ExpectedLastSeq semantics.
//
// If ctx ends while the append waits for its ack, Append returns ctx's error
// and the append may still commit.
func (s *Store) Append(ctx context.Context, req event.AppendRequest) (event.AppendResult, error) {
	app, err := prepareAppend(req)
	if err != nil {
		return event.AppendResult{}, fmt.Errorf("append to %s/%s: %w", req.Project, req.Stream, err)
	}
	r := newRequest(opAppend, req.Project, req.Stream)
	r.app = app
	if err := s.submit(ctx, r); err != nil {
		return event.AppendResult{}, fmt.Errorf("append to %s/%s: %w", req.Project, req.Stream, err)
	}
	return r.result, nil
}

// prepareAppend copies req's packed events, with their ids, into
// block-sized chunks.
func prepareAppend(req event.AppendRequest) (*preparedAppend, error) {
	n := len(req.Events)
	if n == 0 {
		return nil, errors.New("no events")
	}
	if req.Producer != nil && req.Producer.ID == "" {
		return nil, errors.New("producer without an id")
	}
	a := &preparedAppend{count: n, autoCreate: req.AutoCreate, expectedLastSeq: req.ExpectedLastSeq}
	if req.Producer != nil {
		p := *req.Producer
		a.producer = &p
	}
	const idRoom = 40 // room for a ULID and the length prefix
	size := n*idRoom + headerRoom*(1+n/64)
	for i := range req.Events {
		size += 1 + len(req.Events[i].Tail) + len(req.Events[i].ID)
	}
	a.buf = recordBufs.Get().(*[]byte)
	buf := slices.Grow((*a.buf)[:0], size)
	// Chunks as offsets into buf: buf may move as it grows.
	type span struct{ start, end, count int }
	var spans []span
	buf = append(buf, make([]byte, headerRoom)...)
	start, inChunk := 0, 0
	for i := range n {
		before := len(buf)
		p := &req.Events[i]
		buf = appendRecord(buf, p, eventID(p.ID))
		recLen := len(buf) - before
		if recLen > maxRecordBytes {
			a.release()
			return nil, fmt.Errorf("event %d is %d bytes encoded, over %d: %w", i, recLen, maxRecordBytes, event.ErrAppendTooLarge)
		}
		if inChunk > 0 && len(buf)-start-headerRoom > maxBlockBytes {
			// The record opens the next chunk: move it past that chunk's room.
			spans = append(spans, span{start, before, inChunk})
			buf = append(buf, make([]byte, headerRoom)...)
			copy(buf[before+headerRoom:], buf[before:before+recLen])
			start, inChunk = before, 0
		}
		inChunk++
	}
	spans = append(spans, span{start, len(buf), inChunk})
	*a.buf = buf

	// Compress each chunk's records into zbuf, after the same header room.
	// S2 shrinks typical JSON events ~4×, which saves more CPU in Badger's
	// copy into its memory-mapped value log and in its syncs than it costs
	// here; a chunk that does not shrink by an eighth stays as it is.
	need := 0
	for _, sp := range spans {
		need += headerRoom + s2.MaxEncodedLen(sp.end-sp.start-headerRoom)
	}
	a.zbuf = recordBufs.Get().(*[]byte)
	zb := slices.Grow((*a.zbuf)[:0], need)[:need]
	pos := 0
	for _, sp := range spans {
		raw := buf[sp.start+headerRoom : sp.end]
		a.bytes += len(raw)
		enc := s2.Encode(zb[pos+headerRoom:pos+headerRoom+s2.MaxEncodedLen(len(raw))], raw)
		if len(enc) > len(raw)-len(raw)/8 {
			a.chunks = append(a.chunks, chunk{count: sp.count, block: buf[sp.start:sp.end:sp.end], raw: raw})
			continue
		}
		end := pos + headerRoom + len(enc)
		a.chunks = append(a.chunks, chunk{count: sp.count, block: zb[pos:end:end], compressed: true, raw: raw})
		pos = end
	}
	*a.zbuf = zb
	return a, nil
}

// eventID is id, or a new ULID when the client gave none.
func eventID(id string) string {
	if id == "" {
		return ulid.Make().String()
	}
	return id
}

// append stages an Append: checks, then blocks and time index into the
// transaction; metadata and producer state are written at commit.
func (g *stage) append(r *request) error {
	a := r.app
	st := g.lookup(r.key)
	if st == nil && !g.mayAutoCreate(r.key.project, a.autoCreate) {
		r.err = event.ErrStreamNotFound
		return nil
	}
	// Check against the stream as it is, or as it would be if created now.
	var ps *producerState
	var lastSeq uint64
	if st != nil {
		lastSeq = st.lastSeq
		if a.producer != nil {
			ps = st.producer(a.producer.ID)
		}
	}
	if a.producer != nil {
		decision, dup, err := checkProducer(ps, a.producer)
		if err != nil {
			r.err = err
			return nil //nolint:nilerr // the request fails alone; an error returned here fails the whole group
		}
		if decision == producerDuplicate {
			r.result = dup
			return nil
		}
	}
	if a.expectedLastSeq != nil && *a.expectedLastSeq != lastSeq {
		r.err = &event.ConflictError{Err: event.ErrLastSeqMismatch, Expected: lastSeq, Got: *a.expectedLastSeq}
		return nil
	}
	if st == nil {
		p, _, err := g.streamProject(r.key.project)
		if err != nil {
			return err
		}
		st = g.create(r.key, p.settings.ApplyDefaults(event.StreamSettings{}))
	}

	ingest := maxTime(g.now, st.lastIngest)
	first := st.lastSeq + 1
	seq := first
	for i := range a.chunks {
		c := &a.chunks[i]
		h := blockHeader{FirstSeq: seq, Count: uint64(c.count), IngestTime: ingest, ContentType: st.settings.ContentType, Compressed: c.compressed}
		v := c.withHeader(h)
		seq += uint64(c.count)
		if err := g.set(blockKey(st.id, h.LastSeq()), v); err != nil {
			return err
		}
		c.staged = &cachedBlock{id: blockID{stream: st.id, lastSeq: h.LastSeq()}, h: h}
	}
	if err := g.set(timeKey(st.id, ingest, first), nil); err != nil {
		return err
	}
	st.lastSeq = seq - 1
	st.count += uint64(a.count)
	st.bytes += uint64(a.bytes)
	st.lastIngest = ingest
	r.result = event.AppendResult{FirstSeq: first, LastSeq: st.lastSeq, IngestTime: ingest}
	pid := ""
	if a.producer != nil {
		pid = a.producer.ID
		if st.staged == nil {
			st.staged = make(map[string]*producerState)
		}
		st.staged[pid] = st.producer(pid).advance(a.producer, r.result)
	}
	g.markDirty(st, pid)
	if !g.appendedSet[st] {
		if g.appendedSet == nil {
			g.appendedSet = make(map[*streamState]bool)
		}
		g.appendedSet[st] = true
		g.appended = append(g.appended, st)
	}
	return nil
}

// mayAutoCreate reports whether an append may create a missing stream of
// project: the project's setting, or else the server's (def); never in a
// project being deleted.
func (g *stage) mayAutoCreate(project string, def bool) bool {
	p := g.project(project)
	switch {
	case p == nil:
		return def
	case p.deleting:
		return false
	case p.settings.AutoCreateStreams != nil:
		return *p.settings.AutoCreateStreams
	}
	return def
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
