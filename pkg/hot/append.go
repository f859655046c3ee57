package hot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/silt-io/silt/pkg/event"
)

// preparedAppend is an Append with its records already encoded by the
// caller's goroutine; the committer only adds seqs and ingest time (block
// headers).
type preparedAppend struct {
	count           int
	bytes           int // total encoded record bytes
	chunks          []chunk
	producer        *event.Producer
	expectedLastSeq *uint64
	autoCreate      bool
}

// chunk is the records of one future block.
type chunk struct {
	count   int
	records []byte
}

// Append appends req.Events to a stream, all or none, and returns their seq
// range once the commit is durable under Options.Sync. Events without an ID
// get a ULID; events without a ContentType get the stream's. See the package
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

// prepareAppend encodes req's events (or copies its packed ones) into
// block-sized chunks.
func prepareAppend(req event.AppendRequest) (*preparedAppend, error) {
	n := req.Len()
	if n == 0 {
		return nil, errors.New("no events")
	}
	if req.Events != nil && req.Packed != nil {
		return nil, errors.New("both events and packed events")
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
	size := n * idRoom
	for i := range req.Events {
		size += recordLen(&req.Events[i], "")
	}
	for i := range req.Packed {
		size += 1 + len(req.Packed[i].Tail) + len(req.Packed[i].ID)
	}
	buf := make([]byte, 0, size)
	start, inChunk := 0, 0
	for i := range n {
		before := len(buf)
		if req.Packed != nil {
			p := &req.Packed[i]
			buf = appendPacked(buf, p, eventID(p.ID))
		} else {
			e := &req.Events[i]
			buf = appendRecord(buf, e, eventID(e.ID))
		}
		if len(buf)-before > maxRecordBytes {
			return nil, fmt.Errorf("event %d is %d bytes encoded, over %d: %w", i, len(buf)-before, maxRecordBytes, ErrTooLarge)
		}
		if inChunk > 0 && len(buf)-start > maxBlockBytes {
			a.chunks = append(a.chunks, chunk{count: inChunk, records: buf[start:before:before]})
			start, inChunk = before, 0
		}
		inChunk++
	}
	a.chunks = append(a.chunks, chunk{count: inChunk, records: buf[start:]})
	a.bytes = len(buf)
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
	if st == nil && !a.autoCreate {
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
			return nil
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
		st = g.create(r.key, event.StreamSettings{})
	}

	ingest := maxTime(g.now, st.lastIngest)
	first := st.lastSeq + 1
	seq := first
	for _, c := range a.chunks {
		h := blockHeader{FirstSeq: seq, Count: uint64(c.count), IngestTime: ingest, ContentType: st.settings.ContentType}
		v := make([]byte, 0, maxBlockHeaderLen(len(h.ContentType))+len(c.records))
		v = appendBlockHeader(v, h)
		v = append(v, c.records...)
		seq += uint64(c.count)
		if err := g.set(blockKey(st.id, h.LastSeq()), v); err != nil {
			return err
		}
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

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
