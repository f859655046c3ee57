package tiered

import (
	"context"
	"errors"
	"fmt"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/hot"
	"github.com/silt-io/silt/pkg/manifest"
)

// Read returns a page of a stream's events from both tiers, with the
// semantics of hot.Store.Read: events from req.FromSeq (or from the first
// event ingested at or after req.FromTime), at most req.Limit of them and,
// when req.MaxBytes > 0, no more than that of events (their Size; at least
// one event when one is available). Segments stop early by payload bytes,
// which they know before decoding; the page then keeps only what fits.
func (s *Store) Read(ctx context.Context, req event.ReadRequest) (event.ReadResult, error) {
	var res event.ReadResult
	err := s.hot.View(ctx, func(sn *hot.Snapshot) error {
		x, err := sn.Stream(req.Project, req.Stream)
		if err != nil {
			return err
		}
		if x.ColdSeq < x.FirstSeq || (req.FromTime.IsZero() && hotOnly(x, req.FromSeq)) {
			res, err = sn.Read(ctx, req)
			return err
		}
		v := s.man.Acquire()
		defer v.Release()
		res, err = s.stitch(ctx, sn, v, x, req)
		return err
	})
	if err != nil {
		return event.ReadResult{}, fmt.Errorf("read %s/%s: %w", req.Project, req.Stream, err)
	}
	return res, nil
}

// stitch reads seqs up to the Version's extent from segments and the rest
// from the Snapshot.
func (s *Store) stitch(ctx context.Context, sn *hot.Snapshot, v *manifest.Version, x hot.Extent, req event.ReadRequest) (event.ReadResult, error) {
	if req.FromSeq > 1 && req.FromSeq < x.FirstSeq {
		return event.ReadResult{}, &event.ConflictError{Err: event.ErrOutOfRange, Expected: x.FirstSeq, Got: req.FromSeq}
	}
	coldLast, err := sealedIn(v, x)
	if err != nil {
		return event.ReadResult{}, err
	}
	p := page{res: event.ReadResult{FirstSeq: x.FirstSeq, LastSeq: x.LastSeq, StreamID: x.ID}, limit: req.Limit, maxBytes: req.MaxBytes}
	next := max(req.FromSeq, x.FirstSeq)
	if !req.FromTime.IsZero() {
		seq, found, err := s.seekTime(ctx, v, x, req)
		if err != nil {
			return event.ReadResult{}, err
		}
		if !found {
			return sn.Read(ctx, req)
		}
		next = seq
	}
	p.res.NextSeq = next
	for i, h := range v.Find(x.Project, x.Stream, x.ID, next) {
		if p.full() {
			break
		}
		// Between two segments of a page nothing may be missing. Before the
		// first, seqs may be missing legitimately: a retention that ran
		// after our hot snapshot dropped them as expired.
		if i > 0 && h.Range.FirstSeq > next {
			return p.fail(&event.RangeError{Project: x.Project, Stream: x.Stream, FirstSeq: next, LastSeq: h.Range.FirstSeq - 1, Where: "history tier",
				Err: fmt.Errorf("%w: no segment holds them", event.ErrMissingHistory)})
		}
		evs, err := s.readSegment(ctx, h, x, next, p.limit-len(p.res.Events), p.bytesLeft())
		if err != nil {
			return p.fail(err)
		}
		if !p.take(evs) {
			break
		}
		if n := len(evs); n > 0 && evs[n-1].Seq < h.Range.LastSeq {
			p.stopped = true // the segment stopped at MaxBytes
			break
		}
		next = h.Range.LastSeq + 1
	}
	if !p.full() && next > coldLast {
		hr, err := sn.Read(ctx, event.ReadRequest{Project: x.Project, Stream: x.Stream, FromSeq: coldLast + 1,
			Limit: p.limit - len(p.res.Events), MaxBytes: p.bytesLeft()})
		if err != nil {
			return p.fail(err)
		}
		p.take(hr.Events)
		if len(p.res.Events) == 0 {
			p.res.NextSeq = hr.NextSeq
		}
	}
	return p.res, nil
}

// readSegment reads up to limit events of the stream from seq next on out
// of the segment of hit h. The segment checks the seqs it returns against
// its own metadata; this checks that it returns some. A segment that is
// damaged or gone is the range of the stream it holds from next, as an
// *event.RangeError.
func (s *Store) readSegment(ctx context.Context, h manifest.Hit, x hot.Extent, next uint64, limit, maxBytes int) ([]event.Event, error) {
	lost := func(err error) error {
		return event.LostSegment(x.Project, x.Stream, next, h.Range.LastSeq, h.Segment.ID, err)
	}
	r, err := s.readers.get(h.Segment)
	if err != nil {
		return nil, lost(err)
	}
	evs, err := r.Read(ctx, x.Stream, next, limit, maxBytes)
	if err != nil {
		return nil, lost(fmt.Errorf("read segment %s: %w", h.Segment.ID, err))
	}
	if len(evs) == 0 && next <= h.Range.LastSeq {
		return nil, lost(fmt.Errorf("%w: segment %s returned no events of %s", event.ErrCorrupt, h.Segment.ID, x.Stream))
	}
	return evs, nil
}

// seekTime finds, in the segments, the first seq of the stream ingested at
// or after req.FromTime; false means the hot tier holds it, if anyone does.
func (s *Store) seekTime(ctx context.Context, v *manifest.Version, x hot.Extent, req event.ReadRequest) (uint64, bool, error) {
	for _, h := range v.Find(x.Project, x.Stream, x.ID, x.FirstSeq) {
		if h.Range.MaxIngestTime.Before(req.FromTime) {
			continue
		}
		r, err := s.readers.get(h.Segment)
		if err != nil {
			return 0, false, err
		}
		seq, ok, err := r.SeekTime(ctx, x.Stream, req.FromTime)
		if err != nil {
			return 0, false, fmt.Errorf("seek segment %s: %w", h.Segment.ID, err)
		}
		if ok {
			return max(seq, x.FirstSeq), true, nil
		}
	}
	return 0, false, nil
}

// page collects a Read's events under its limits.
type page struct {
	res      event.ReadResult
	limit    int
	maxBytes int
	size     int
	stopped  bool
}

// fail ends the page at a lost range (an *event.RangeError): the events
// taken before it are the page, and the next read starts at the range and
// fails there; with none, or with any other error, the read fails.
func (p *page) fail(err error) (event.ReadResult, error) {
	var lost *event.RangeError
	if len(p.res.Events) == 0 || !errors.As(err, &lost) {
		return event.ReadResult{}, err
	}
	return p.res, nil
}

// full reports whether the page may take no more events.
func (p *page) full() bool { return p.stopped || len(p.res.Events) >= p.limit }

// bytesLeft is the MaxBytes to ask the next source for (0: no cap). A
// source returns one event even past it; take drops that one unless the
// page is still empty.
func (p *page) bytesLeft() int {
	if p.maxBytes <= 0 {
		return 0
	}
	return max(p.maxBytes-p.size, 1)
}

// take appends events in order until a limit is reached and reports
// whether the page can take more.
func (p *page) take(evs []event.Event) bool {
	for i := range evs {
		if len(p.res.Events) >= p.limit {
			p.stopped = true
			break
		}
		n := evs[i].Size()
		if p.maxBytes > 0 && len(p.res.Events) > 0 && p.size+n > p.maxBytes {
			p.stopped = true
			break
		}
		p.size += n
		p.res.Events = append(p.res.Events, evs[i])
		p.res.NextSeq = evs[i].Seq + 1
	}
	return !p.full()
}
