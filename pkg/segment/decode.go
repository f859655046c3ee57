package segment

import (
	"fmt"
	"slices"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/silt-io/silt/pkg/event"
)

// internCap bounds the strings an interner keeps: low-cardinality columns
// (type, source, attribute keys …) share one string per distinct value.
const internCap = 1 << 14

// interner hands out one Go string per distinct value, so that decoding a
// page of events with twenty types allocates twenty type strings.
type interner map[string]string

// get returns the string of b, shared with earlier calls where possible.
func (in interner) get(b []byte) string {
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in) < internCap {
		in[s] = s
	}
	return s
}

// dictStrings turns the values of one dictionary-encoded column into
// interned strings. Values decoded from one dictionary share their bytes,
// so a value's address finds its string without hashing the value; the
// string is compared with the value before it is reused, so an address
// that now holds other bytes can never give a wrong string.
type dictStrings struct {
	slots [dictSlots]struct {
		p *byte
		s string
	}
}

// dictSlots is the size of a dictStrings cache, a power of two: the
// columns that use one have fewer distinct values than that.
const (
	dictBits  = 6
	dictSlots = 1 << dictBits
)

// get returns the string of b, from the cache or from in.
func (d *dictStrings) get(b []byte, in interner) string {
	if len(b) == 0 {
		return ""
	}
	p := unsafe.SliceData(b)
	slot := &d.slots[(uint64(uintptr(unsafe.Pointer(p)))*0x9E3779B97F4A7C15)>>(64-dictBits)]
	if slot.p == p && slot.s == string(b) {
		return slot.s
	}
	s := in.get(b)
	slot.p, slot.s = p, s
	return s
}

// concat copies vals back to back into one new string, so that a batch of
// N values costs one allocation; callers slice it in the same order.
func concat(vals []parquet.ByteArray) string {
	n := 0
	for _, v := range vals {
		n += len(v)
	}
	if n == 0 {
		return ""
	}
	b := make([]byte, 0, n)
	for _, v := range vals {
		b = append(b, v...)
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// payloadColumns reads the data and data_binary columns into windows of
// rows decoded ahead of the other columns, so that Read applies maxBytes
// before it decodes them, and so that the payloads of the next batch can be
// decompressed while the current batch is decoded.
type payloadColumns struct {
	data, binary *file.ByteArrayColumnChunkReader
	// cur holds the rows from the cursor's row on; ahead, when it holds
	// rows, the rows right after cur's.
	cur, ahead payloadWindow

	dataDefs, binDefs []int16
	dataVals, binVals []parquet.ByteArray
}

// payloadWindow is the payloads of consecutive rows. Events keep slices of
// buf, so each fill allocates a new one.
type payloadWindow struct {
	buf     []byte
	offs    []int32 // row i of the window is buf[offs[i]:offs[i+1]]
	none    []bool  // row i has no payload (data and data_binary null)
	next, n int     // rows [next, n) are not taken yet
}

// buffered is the number of rows in the window not taken yet.
func (w *payloadWindow) buffered() int { return w.n - w.next }

// size is the payload size of the i-th row not taken yet.
func (w *payloadWindow) size(i int) int {
	j := w.next + i
	return int(w.offs[j+1] - w.offs[j])
}

// take returns the payload of the next row: nil when empty, capped so that
// appending to it cannot overwrite the next row's; ok is false when the
// row has no payload.
func (w *payloadWindow) take() (data []byte, ok bool) {
	lo, hi := w.offs[w.next], w.offs[w.next+1]
	ok = !w.none[w.next]
	w.next++
	if lo == hi {
		return nil, ok
	}
	return w.buf[lo:hi:hi], ok
}

// ready makes cur hold rows: the ones read ahead, or n rows read now.
func (p *payloadColumns) ready(n int) error {
	if p.cur.buffered() > 0 {
		return nil
	}
	if p.ahead.buffered() > 0 {
		p.cur, p.ahead = p.ahead, p.cur
		p.ahead.next, p.ahead.n = 0, 0
		return nil
	}
	return p.fill(&p.cur, n)
}

// fill decodes the payloads of the next n rows into w, which must be empty.
func (p *payloadColumns) fill(w *payloadWindow, n int) error {
	if cap(p.dataVals) < n {
		p.dataVals, p.binVals = make([]parquet.ByteArray, n), make([]parquet.ByteArray, n)
		p.dataDefs, p.binDefs = make([]int16, n), make([]int16, n)
	}
	if cap(w.offs) < n+1 {
		w.offs, w.none = make([]int32, n+1), make([]bool, n+1)
	}
	dv, dd, bv, bd := p.dataVals[:n], p.dataDefs[:n], p.binVals[:n], p.binDefs[:n]
	total, nd, err := p.data.ReadBatch(int64(n), dv, dd, nil)
	if err != nil {
		return err
	}
	total2, nb, err := p.binary.ReadBatch(int64(n), bv, bd, nil)
	if err != nil {
		return err
	}
	if total != int64(n) || total2 != int64(n) {
		return fmt.Errorf("%w: payload columns ended after %d and %d of %d rows", ErrCorrupt, total, total2, n)
	}
	size := 0
	for _, v := range dv[:nd] {
		size += len(v)
	}
	for _, v := range bv[:nb] {
		size += len(v)
	}
	if size > 1<<31-1 {
		return fmt.Errorf("%w: %d payload bytes in %d rows", ErrCorrupt, size, n)
	}
	buf := make([]byte, 0, size)
	offs, none := w.offs[:n+1], w.none[:n]
	offs[0] = 0
	di, bi := 0, 0
	for i := range n {
		none[i] = false
		switch {
		case dd[i] == 1 && bd[i] == 1:
			return fmt.Errorf("%w: row has both %s and %s", ErrCorrupt, colData, colDataBinary)
		case dd[i] == 1:
			buf = append(buf, dv[di]...)
			di++
		case bd[i] == 1:
			buf = append(buf, bv[bi]...)
			bi++
		default:
			none[i] = true
		}
		offs[i+1] = int32(len(buf))
	}
	w.buf, w.offs, w.none, w.next, w.n = buf, offs, none, 0, n
	return nil
}

// decodeWorkers is how many goroutines decode a batch (fewer when
// GOMAXPROCS is lower).
const decodeWorkers = 2

// decode appends the next n rows of the cursor to out as events of project
// and stream, checking that every row belongs to stream. The current
// payload window must hold at least n rows. When ahead > 0 and no rows are
// read ahead yet, it also reads the payloads of the ahead rows after the
// window, in parallel.
func (c *cursor) decode(n int, project, stream string, out []event.Event, ahead int) ([]event.Event, error) {
	if n <= 0 {
		return out, nil
	}
	base := len(out)
	out = slices.Grow(out, n)[:base+n]
	evs := out[base:]
	for i := range evs {
		evs[i] = event.Event{Project: project, Stream: stream}
	}
	tasks := []func() error{
		func() error { return c.attrs.decodeAttributes(evs) },
		func() error { return c.flat.decode(evs, stream, c.rg, c.row) },
		func() error { return c.metrics.decodeMetrics(evs) },
	}
	if ahead > 0 && c.payload.ahead.buffered() == 0 {
		tasks = append(tasks, func() error { return c.payload.fill(&c.payload.ahead, ahead) })
	}
	workers := decodeWorkers
	if n < minParallelRows {
		workers = 1
	}
	if err := runTasks(workers, tasks); err != nil {
		return nil, err
	}
	for i := range evs {
		data, ok := c.payload.cur.take()
		evs[i].Data = data
		if ok && len(data) == 0 {
			evs[i].Present |= event.PartPayload
		}
	}
	c.row += int64(n)
	return out, nil
}

// minParallelRows is the smallest batch decoded on several goroutines.
const minParallelRows = 256

// decode sets the flat fields of evs, the next len(evs) rows, and checks
// that they belong to stream (rows from row of row group rg on).
func (c *flatColumns) decode(evs []event.Event, stream string, rg int, row int64) error {
	n := len(evs)
	vals, _, err := c.readBytes(c.stream, n, nil)
	if err != nil {
		return err
	}
	for i, v := range vals {
		if string(v) != stream {
			return fmt.Errorf("%w: row %d of row group %d holds stream %q, want %q", ErrCorrupt, row+int64(i), rg, v, stream)
		}
	}
	seqs, err := c.readInts(c.seq, n, nil)
	if err != nil {
		return err
	}
	for i := range evs {
		evs[i].Seq = uint64(seqs[i])
	}
	if vals, _, err = c.readBytes(c.id, n, nil); err != nil {
		return err
	}
	s, off := concat(vals), 0
	for i, v := range vals {
		evs[i].ID = s[off : off+len(v)]
		off += len(v)
	}
	if vals, _, err = c.readBytes(c.typ, n, nil); err != nil {
		return err
	}
	for i, v := range vals {
		evs[i].Type = c.types.get(v, c.strs)
	}
	if err := c.decodeSource(evs); err != nil {
		return err
	}
	if err := c.decodeSubject(evs); err != nil {
		return err
	}
	if vals, _, err = c.readBytes(c.contentType, n, nil); err != nil {
		return err
	}
	for i, v := range vals {
		evs[i].ContentType = c.contentTypes.get(v, c.strs)
	}
	defs := c.levels(n)
	times, err := c.readInts(c.time, n, defs)
	if err != nil {
		return err
	}
	j := 0
	for i := range evs {
		if defs[i] == 1 {
			if j == len(times) {
				return fmt.Errorf("%w: column %s has fewer values than levels", ErrCorrupt, colTime)
			}
			evs[i].Time = time.Unix(0, times[j]).UTC()
			j++
		}
	}
	ingest, err := c.readInts(c.ingestTime, n, nil)
	if err != nil {
		return err
	}
	for i := range evs {
		evs[i].IngestTime = time.Unix(0, ingest[i]).UTC()
		if evs[i].Time.IsZero() { // a segment written before times were defaulted
			evs[i].Time = evs[i].IngestTime
		}
	}
	return nil
}

// decodeAttributes sets the Attributes of evs, the next len(evs) rows.
func (m *mapColumn[V]) decodeAttributes(evs []event.Event) error {
	var err error
	if m.spans, err = m.rows(len(evs), m.spans); err != nil {
		return err
	}
	k, ok := any(m.v).([]parquet.ByteArray)
	if !ok {
		return fmt.Errorf("attribute values are %T", m.v)
	}
	lo, hi := m.spans[0].lo, m.spans[len(evs)-1].hi
	if hi == lo {
		return nil
	}
	s, off := concat(k[lo:hi]), 0
	for i, sp := range m.spans {
		if sp.hi == sp.lo {
			continue
		}
		attrs := make(map[string]string, sp.hi-sp.lo)
		for e := sp.lo; e < sp.hi; e++ {
			attrs[m.keyStrs.get(m.k[e], m.strs)] = s[off : off+len(k[e])]
			off += len(k[e])
		}
		evs[i].Attributes = attrs
	}
	return nil
}

// decodeMetrics sets the Metrics of evs, the next len(evs) rows.
func (m *mapColumn[V]) decodeMetrics(evs []event.Event) error {
	var err error
	if m.spans, err = m.rows(len(evs), m.spans); err != nil {
		return err
	}
	v, ok := any(m.v).([]float64)
	if !ok {
		return fmt.Errorf("metric values are %T", m.v)
	}
	for i, sp := range m.spans {
		if sp.hi == sp.lo {
			continue
		}
		metrics := make(map[string]float64, sp.hi-sp.lo)
		for e := sp.lo; e < sp.hi; e++ {
			metrics[m.keyStrs.get(m.k[e], m.strs)] = v[e]
		}
		evs[i].Metrics = metrics
	}
	return nil
}
