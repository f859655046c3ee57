package query

import (
	"container/heap"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/silt-io/silt/pkg/event"
)

// listSink keeps the first Limit events in the request's order after the
// page token: a bounded heap whose top is the worst event kept. It also
// keeps at most maxPageBytes of events: past that it drops the worst and
// lowers its limit to what it holds, so what it keeps is still the first
// events in order, a shorter page that the page token continues.
type listSink struct {
	c     *compiled
	order Order
	after *orderKey
	h     listHeap
	// limit is the page's size: the request's, lowered by the byte cap.
	limit int
	// bytes is the size of the kept events ((*event.Event).Size).
	bytes int
	// more is set once an event past the page was seen; truncated when
	// the plan left seqs past the page out.
	more, truncated bool
	err             error
	proj            projection
}

// projection says which fields a listed event carries.
type projection struct {
	all                                            bool
	id, typ, source, subject, tm, ingest, ct, data bool
	attrs, metrics                                 []string // keys; nil: none
}

func newListSink(c *compiled) *listSink {
	s := &listSink{c: c, order: c.req.Order, limit: c.limit}
	s.h.desc = c.req.Order == OrderTimeDesc || c.req.Order == OrderSeqDesc
	s.h.order = c.req.Order
	s.after = c.after
	p := &s.proj
	if len(c.req.Fields) == 0 {
		p.all = true
	}
	for _, f := range c.req.Fields {
		switch f.Kind {
		case FieldID:
			p.id = true
		case FieldType:
			p.typ = true
		case FieldSource:
			p.source = true
		case FieldSubject:
			p.subject = true
		case FieldTime:
			p.tm = true
		case FieldIngestTime:
			p.ingest = true
		case FieldContentType:
			p.ct = true
		case FieldData, FieldDataPath:
			p.data, p.ct = true, true
		case FieldAttribute:
			p.attrs = append(p.attrs, f.Key)
		case FieldMetric:
			p.metrics = append(p.metrics, f.Key)
		}
	}
	return s
}

func (s *listSink) add(b *Batch, sel []bool) error {
	if s.err != nil {
		return s.err
	}
	for i, ok := range sel {
		if !ok {
			continue
		}
		k := s.keyAt(b, i)
		if s.after != nil {
			c := k.compare(s.order, *s.after)
			if (!s.h.desc && c <= 0) || (s.h.desc && c >= 0) {
				continue
			}
		}
		if len(s.h.items) >= s.limit {
			s.more = true
			if !s.h.better(k, s.h.items[0].key) {
				continue
			}
			s.bytes -= heap.Pop(&s.h).(listItem).size
		}
		k.stream = strings.Clone(k.stream) // b's memory is not ours after the call
		it := listItem{key: k, e: s.eventAt(b, i, k)}
		it.size = it.e.Size()
		heap.Push(&s.h, it)
		s.bytes += it.size
		for s.bytes > s.c.maxPageBytes && len(s.h.items) > 1 {
			s.bytes -= heap.Pop(&s.h).(listItem).size
			s.limit = len(s.h.items)
			s.more = true
		}
	}
	return nil
}

// keyAt is row i's order key.
func (s *listSink) keyAt(b *Batch, i int) orderKey {
	k := orderKey{stream: b.Stream.Value(i), seq: b.Seq.Value(i)}
	if s.order == OrderTimeAsc || s.order == OrderTimeDesc {
		if b.Time.IsValid(i) {
			k.t = int64(b.Time.Value(i))
		} else {
			k.t = int64(b.IngestTime.Value(i))
		}
	}
	return k
}

// eventAt copies row i into an event with the projected fields.
func (s *listSink) eventAt(b *Batch, i int, k orderKey) event.Event {
	p := &s.proj
	e := event.Event{Project: b.Project, Stream: k.stream, Seq: k.seq}
	if p.all || p.id {
		e.ID = strings.Clone(b.ID.Value(i))
	}
	if p.all || p.typ {
		e.Type = strings.Clone(b.Type.Value(i))
	}
	if (p.all || p.source) && b.Source.IsValid(i) { // null: the event has none
		e.Source = strings.Clone(b.Source.Value(i))
		e.Present |= presentIfEmpty(e.Source, event.PartSource)
	}
	if (p.all || p.subject) && b.Subject.IsValid(i) {
		e.Subject = strings.Clone(b.Subject.Value(i))
		e.Present |= presentIfEmpty(e.Subject, event.PartSubject)
	}
	if (p.all || p.tm) && b.Time.IsValid(i) {
		e.Time = time.Unix(0, int64(b.Time.Value(i))).UTC()
	}
	if p.all || p.ingest {
		e.IngestTime = time.Unix(0, int64(b.IngestTime.Value(i))).UTC()
	}
	if p.all || p.ct {
		e.ContentType = strings.Clone(b.ContentType.Value(i))
	}
	if p.all || p.data {
		if b.Data.IsValid(i) {
			e.Data = []byte(b.Data.Value(i))
			// Empty only when binary data on a JSON stream was (unchecked).
			e.Present |= presentIfEmpty(b.Data.Value(i), event.PartPayload)
		} else if b.DataBinary != nil && b.DataBinary.IsValid(i) {
			e.Data = slices.Clone(b.DataBinary.Value(i))
			e.Present |= presentIfEmpty(string(e.Data), event.PartPayload)
		}
	}
	if p.all || len(p.attrs) > 0 {
		e.Attributes = mapStrings(b.Attributes, i, p.all, p.attrs)
	}
	if p.all || len(p.metrics) > 0 {
		e.Metrics = mapFloats(b.Metrics, i, p.all, p.metrics)
	}
	return e
}

// mapStrings copies row i's string map entries (all, or those keys).
func mapStrings(m *array.Map, i int, all bool, keys []string) map[string]string {
	lo, hi := m.ValueOffsets(i)
	if lo == hi {
		return nil
	}
	ks, vs := m.Keys().(*array.String), m.Items().(*array.String)
	out := make(map[string]string, hi-lo)
	for j := int(lo); j < int(hi); j++ {
		if k := ks.Value(j); all || slices.Contains(keys, k) {
			out[strings.Clone(k)] = strings.Clone(vs.Value(j))
		}
	}
	return out
}

// mapFloats copies row i's number map entries (all, or those keys).
func mapFloats(m *array.Map, i int, all bool, keys []string) map[string]float64 {
	lo, hi := m.ValueOffsets(i)
	if lo == hi {
		return nil
	}
	ks, vs := m.Keys().(*array.String), m.Items().(*array.Float64)
	out := make(map[string]float64, hi-lo)
	for j := int(lo); j < int(hi); j++ {
		if k := ks.Value(j); all || slices.Contains(keys, k) {
			out[strings.Clone(k)] = vs.Value(j)
		}
	}
	return out
}

func (s *listSink) result() (*Result, error) {
	if s.err != nil {
		return nil, s.err
	}
	items := s.h.items
	slices.SortFunc(items, func(a, b listItem) int {
		c := a.key.compare(s.order, b.key)
		if s.h.desc {
			return -c
		}
		return c
	})
	res := &Result{Events: make([]event.Event, len(items))}
	for i := range items {
		res.Events[i] = items[i].e
	}
	if (s.more || s.truncated) && len(items) > 0 {
		res.NextPageToken = encodeKey(s.order, items[len(items)-1].key)
	}
	return res, nil
}

type listItem struct {
	key  orderKey
	e    event.Event
	size int
}

// listHeap is a heap whose top is the worst kept item in the order.
type listHeap struct {
	items []listItem
	order Order
	desc  bool
}

// better reports whether a comes before b in the listing's order.
func (h *listHeap) better(a, b orderKey) bool {
	c := a.compare(h.order, b)
	if h.desc {
		return c > 0
	}
	return c < 0
}

func (h *listHeap) Len() int           { return len(h.items) }
func (h *listHeap) Less(i, j int) bool { return h.better(h.items[j].key, h.items[i].key) }
func (h *listHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *listHeap) Push(x any)         { h.items = append(h.items, x.(listItem)) }
func (h *listHeap) Pop() any {
	it := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return it
}

// presentIfEmpty is part's bit of event.Event.Present for a present value
// v: set only when v is empty.
func presentIfEmpty(v string, part event.Parts) event.Parts {
	if v == "" {
		return part
	}
	return 0
}
