package segment

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// ColumnBuilder builds record batches of some columns of [Schema] from
// hot-tier record bodies, for a query of the hot tier: it parses each body
// once and keeps only the asked columns, in buffers it reuses, so that a
// batch costs no allocation once warm. The rows are those RecordBuilder
// builds from the decoded events, restricted to the columns; map entries
// come in key order, stably when a (malformed) body repeats a key. The zero
// ColumnBuilder builds nothing until Select names its columns.
type ColumnBuilder struct {
	fields []int // Schema positions of the columns, in schema order
	want   [numFields]bool
	rows   int

	strs    [numFields]bytesColumn // the string and binary columns
	ints    [numFields]intColumn   // seq, time, ingest_time
	attrs   mapBuild
	metrics mapBuild

	attrScratch   []attrSpan
	metricScratch []record.Metric

	// attrKeys and metricKeys, when not nil, are the only map keys kept
	// (SelectKeys).
	attrKeys, metricKeys []string
}

// Select makes b a builder of the named columns, with no rows, keeping
// its buffers: a query reuses builders of earlier ones.
func (b *ColumnBuilder) Select(columns []string) error {
	fields := fieldsFor(columns)
	if len(fields) == 0 {
		return fmt.Errorf("no known column in %q", columns)
	}
	b.fields, b.want = fields, [numFields]bool{}
	for _, f := range fields {
		b.want[f] = true
	}
	b.attrKeys, b.metricKeys = nil, nil
	b.Reset()
	return nil
}

// SelectKeys keeps only the given keys of the attribute and metric maps
// (nil: every key), for a reader that looks up those keys alone: the rows
// then hold a map of just them.
func (b *ColumnBuilder) SelectKeys(attributes, metrics []string) {
	b.attrKeys, b.metricKeys = attributes, metrics
}

// keep reports whether a map entry with key k is kept, given the keys
// selected (nil: all).
func keep(keys []string, k []byte) bool {
	if keys == nil {
		return true
	}
	for _, s := range keys {
		if s == string(k) {
			return true
		}
	}
	return false
}

// Rows is the number of rows appended since the last Reset.
func (b *ColumnBuilder) Rows() int { return b.rows }

// Reset drops the rows appended, keeping the buffers.
func (b *ColumnBuilder) Reset() {
	b.rows = 0
	for i := range b.strs {
		b.strs[i].reset()
	}
	for i := range b.ints {
		b.ints[i].reset()
	}
	b.attrs.reset()
	b.metrics.reset()
}

// AppendRecord adds one row from a record body (pkg/record's encoding) of
// stream: contentType is the block's, used when the body names none. It
// checks the body as it parses it; on error no row is added.
func (b *ColumnBuilder) AppendRecord(stream string, seq uint64, ingest time.Time, contentType string, body []byte) error {
	// The body is walked by offset: a length under 128 (nearly every
	// one) is read inline, others by varField.
	var sp [6][2]int // id, type, source, subject, content type, data
	if len(body) == 0 {
		return fmt.Errorf("%w: empty record", record.ErrCorrupt)
	}
	flags, p := body[0], 1
	next := func(i int) bool {
		lo, hi := shortField(body, p)
		if hi < 0 {
			var ok bool
			if lo, hi, ok = varField(body, p); !ok {
				return false
			}
		}
		sp[i], p = [2]int{lo, hi}, hi
		return true
	}
	for i := range 4 {
		if !next(i) {
			return fmt.Errorf("%w: bad string", record.ErrCorrupt)
		}
	}
	// The time, as record.Decoder.Time reads it, in Unix nanoseconds.
	hasTime := flags&record.FlagHasTime != 0
	var nanos int64
	if hasTime {
		if p > len(body) {
			return fmt.Errorf("%w: bad time", record.ErrCorrupt)
		}
		sec, k := binary.Varint(body[p:])
		if k <= 0 {
			return fmt.Errorf("%w: bad time", record.ErrCorrupt)
		}
		p += k
		nsec, k := binary.Uvarint(body[p:])
		if k <= 0 || nsec >= 1e9 {
			return fmt.Errorf("%w: bad time", record.ErrCorrupt)
		}
		p += k
		// The zero time is no time, as the decoded event would have; a
		// time outside what nanoseconds hold is none either, as the
		// rotator writes it (quarantined): never a wrapped value.
		t := time.Unix(sec, int64(nsec))
		hasTime = (sec != zeroTimeSec || nsec != 0) && inRange(t)
		nanos = t.UnixNano()
	}
	w := &b.want
	// Attributes as offsets into body: no pointers to store.
	attrs := b.attrScratch[:0]
	n, ok := count(body, &p, 2)
	if !ok {
		return fmt.Errorf("%w: bad attribute count", record.ErrCorrupt)
	}
	for range n {
		if !next(4) || !next(5) {
			return fmt.Errorf("%w: bad attribute", record.ErrCorrupt)
		}
		if w[fAttributes] && keep(b.attrKeys, body[sp[4][0]:sp[4][1]]) {
			attrs = append(attrs, attrSpan{int32(sp[4][0]), int32(sp[4][1]), int32(sp[5][0]), int32(sp[5][1])})
		}
	}
	b.attrScratch = attrs
	metrics := b.metricScratch[:0]
	m, ok := count(body, &p, 9)
	if !ok {
		return fmt.Errorf("%w: bad metric count", record.ErrCorrupt)
	}
	for range m {
		if !next(4) || p+8 > len(body) {
			return fmt.Errorf("%w: bad metric", record.ErrCorrupt)
		}
		if w[fMetrics] && keep(b.metricKeys, body[sp[4][0]:sp[4][1]]) {
			v := math.Float64frombits(binary.LittleEndian.Uint64(body[p:]))
			metrics = append(metrics, record.Metric{Key: body[sp[4][0]:sp[4][1]:sp[4][1]], Value: v})
		}
		p += 8
	}
	b.metricScratch = metrics
	if !next(4) || !next(5) {
		return fmt.Errorf("%w: bad payload", record.ErrCorrupt)
	}
	if p != len(body) {
		return fmt.Errorf("%w: %d trailing record bytes", record.ErrCorrupt, len(body)-p)
	}
	field := func(i int) []byte { return body[sp[i][0]:sp[i][1]:sp[i][1]] }
	id, typ, source, subject, ct, data := field(0), field(1), field(2), field(3), field(4), field(5)
	row := b.rows
	b.rows++
	if w[fStream] {
		b.strs[fStream].add(bytesOf(stream))
	}
	if w[fSeq] {
		b.ints[fSeq].add(int64(seq))
	}
	for _, c := range [...]struct {
		f    int
		v    []byte
		null bool
	}{{fID, id, false}, {fType, typ, false}, {fSource, source, flags&record.FlagNoSource != 0}, {fSubject, subject, flags&record.FlagNoSubject != 0}} {
		if w[c.f] && c.null {
			b.strs[c.f].addNull(row)
		} else if w[c.f] {
			b.strs[c.f].add(c.v)
		}
	}
	if w[fTime] {
		if !hasTime { // no time: its ingest time (nullable.go)
			nanos = ingest.UnixNano()
		}
		b.ints[fTime].add(nanos)
	}
	if w[fIngestTime] {
		b.ints[fIngestTime].add(ingest.UnixNano())
	}
	if w[fAttributes] {
		// Map entries in key order, as Append writes them.
		sortAttributes(body, attrs)
		for _, a := range attrs {
			b.attrs.keys.add(body[a.klo:a.khi])
			b.attrs.vals.add(body[a.vlo:a.vhi])
		}
		b.attrs.endRow()
	}
	if w[fMetrics] {
		if !slices.IsSortedFunc(metrics, func(x, y record.Metric) int { return bytes.Compare(x.Key, y.Key) }) {
			slices.SortStableFunc(metrics, func(x, y record.Metric) int { return bytes.Compare(x.Key, y.Key) })
		}
		for _, m := range metrics {
			b.metrics.keys.add(m.Key)
			b.metrics.nums = append(b.metrics.nums, m.Value)
		}
		b.metrics.endRow()
	}
	if !record.HasPayload(flags) { // no payload (nullable.go)
		ct, data = nil, nil
	}
	if w[fContentType] {
		if len(ct) == 0 && record.HasPayload(flags) {
			b.strs[fContentType].add(bytesOf(contentType))
		} else {
			b.strs[fContentType].add(ct)
		}
	}
	if (w[fData] || w[fDataBinary]) && !record.HasPayload(flags) {
		if w[fData] {
			b.strs[fData].addNull(row)
		}
		if w[fDataBinary] {
			b.strs[fDataBinary].addNull(row)
		}
	} else if w[fData] || w[fDataBinary] {
		isJSON := string(ct) == event.ContentTypeJSON || (len(ct) == 0 && contentType == event.ContentTypeJSON)
		text := isJSON && utf8.Valid(data)
		if w[fData] {
			if text {
				b.strs[fData].add(data)
			} else {
				b.strs[fData].addNull(row)
			}
		}
		if w[fDataBinary] {
			if text {
				b.strs[fDataBinary].addNull(row)
			} else {
				b.strs[fDataBinary].add(data)
			}
		}
	}
	return nil
}

// Build returns the rows appended since the last Reset as a record batch
// of the columns, in schema order, and resets. The batch's buffers are the
// builder's: it is valid until the next AppendRecord.
func (b *ColumnBuilder) Build() arrow.RecordBatch {
	n := b.rows
	afs := make([]arrow.Field, len(b.fields))
	arrs := make([]arrow.Array, len(b.fields))
	for i, f := range b.fields {
		afs[i] = Schema.Field(f)
		var d arrow.ArrayData
		switch f {
		case fSeq, fTime, fIngestTime:
			d = b.ints[f].data(afs[i].Type, n)
		case fAttributes:
			d = b.attrs.data(afs[i].Type, n, false)
		case fMetrics:
			d = b.metrics.data(afs[i].Type, n, true)
		default:
			d = b.strs[f].data(afs[i].Type, n)
		}
		arrs[i] = array.MakeFromData(d)
		d.Release()
	}
	rec := array.NewRecordBatch(arrow.NewSchema(afs, nil), arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	b.Reset()
	return rec
}

// shortField returns the bounds of the string at body[p:] when its length
// takes one byte and it fits; otherwise hi is -1.
func shortField(body []byte, p int) (lo, hi int) {
	if p < len(body) {
		if n := int(body[p]); n < 0x80 && p+1+n <= len(body) {
			return p + 1, p + 1 + n
		}
	}
	return 0, -1
}

// varField returns the bounds of the string at body[p:] whose length is a
// uvarint of any size.
func varField(body []byte, p int) (lo, hi int, ok bool) {
	if p > len(body) {
		return 0, 0, false
	}
	n, k := binary.Uvarint(body[p:])
	if k <= 0 || n > uint64(len(body)-p-k) {
		return 0, 0, false
	}
	return p + k, p + k + int(n), true
}

// count reads an element count at body[*p:], checking that at least
// minSize bytes per element remain (as record.Decoder.Count does).
func count(body []byte, p *int, minSize int) (int, bool) {
	if *p >= len(body) {
		return 0, false
	}
	n, k := uint64(body[*p]), 1
	if n >= 0x80 {
		n, k = binary.Uvarint(body[*p:])
	}
	if k <= 0 {
		return 0, false
	}
	*p += k
	if n > uint64((len(body)-*p)/minSize) {
		return 0, false
	}
	return int(n), true
}

// zeroTimeSec is time.Time{}'s Unix seconds: a body whose time is the
// zero time has none.
var zeroTimeSec = time.Time{}.Unix()

// attrSpan is an attribute's key and value as offsets into its body.
type attrSpan struct{ klo, khi, vlo, vhi int32 }

// sortAttributes sorts a row's attributes by key, stably: an insertion
// sort, as rows have a few, usually in order already or told apart by a
// first byte.
func sortAttributes(body []byte, a []attrSpan) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && keyAfter(body[a[j-1].klo:a[j-1].khi], body[a[j].klo:a[j].khi]); j-- {
			a[j-1], a[j] = a[j], a[j-1]
		}
	}
}

// keyAfter reports whether key a sorts after key b.
func keyAfter(a, b []byte) bool {
	if len(a) > 0 && len(b) > 0 && a[0] != b[0] {
		return a[0] > b[0]
	}
	return bytes.Compare(a, b) > 0
}

// bytesColumn accumulates the rows of a string or binary column.
type bytesColumn struct {
	stringBuffers
	nulls []int // rows that are null
	valid []byte
}

func (c *bytesColumn) reset() {
	c.offs = append(c.offs[:0], 0)
	c.buf, c.nulls = c.buf[:0], c.nulls[:0]
}

func (c *bytesColumn) add(v []byte) {
	c.buf = append(c.buf, v...)
	c.offs = append(c.offs, int32(len(c.buf)))
}

func (c *bytesColumn) addNull(row int) {
	c.nulls = append(c.nulls, row)
	c.offs = append(c.offs, int32(len(c.buf)))
}

func (c *bytesColumn) data(typ arrow.DataType, n int) arrow.ArrayData {
	return c.finish(typ, n, c.offs, c.buf, validBitmap(&c.valid, n, c.nulls), len(c.nulls))
}

// intColumn accumulates the rows of an INT64-backed column.
type intColumn struct {
	vals  []int64
	nulls []int
	valid []byte
}

func (c *intColumn) reset() { c.vals, c.nulls = c.vals[:0], c.nulls[:0] }

func (c *intColumn) add(v int64) { c.vals = append(c.vals, v) }

func (c *intColumn) data(typ arrow.DataType, n int) arrow.ArrayData {
	var vb *memory.Buffer
	if v := validBitmap(&c.valid, n, c.nulls); v != nil {
		vb = memory.NewBufferBytes(v)
	}
	return array.NewData(typ, n, []*memory.Buffer{vb, memory.NewBufferBytes(asBytes(c.vals))}, nil, len(c.nulls), 0)
}

// validBitmap is the validity bitmap of n rows of which nulls are null, in
// *buf; nil when none is.
func validBitmap(buf *[]byte, n int, nulls []int) []byte {
	if len(nulls) == 0 {
		return nil
	}
	size := int(bitutil.BytesForBits(int64(n)))
	*buf = grow(*buf, size)
	v := (*buf)[:size]
	for i := range v {
		v[i] = 0xff
	}
	for _, r := range nulls {
		bitutil.ClearBit(v, r)
	}
	return v
}

// mapBuild accumulates the rows of a map column: string keys, and string
// (vals) or float64 (nums) items.
type mapBuild struct {
	offs []int32
	keys bytesColumn
	vals bytesColumn
	nums []float64
}

func (m *mapBuild) reset() {
	m.offs = append(m.offs[:0], 0)
	m.keys.reset()
	m.vals.reset()
	m.nums = m.nums[:0]
}

// endRow ends a row after its entries.
func (m *mapBuild) endRow() { m.offs = append(m.offs, int32(len(m.keys.offs)-1)) }

func (m *mapBuild) data(typ arrow.DataType, n int, numbers bool) arrow.ArrayData {
	mt := typ.(*arrow.MapType)
	entries := len(m.keys.offs) - 1
	keys := m.keys.data(mt.KeyType(), entries)
	defer keys.Release()
	var items arrow.ArrayData
	if numbers {
		items = array.NewData(mt.ItemType(), entries, []*memory.Buffer{nil, memory.NewBufferBytes(asBytes(m.nums))}, nil, 0, 0)
	} else {
		items = m.vals.data(mt.ItemType(), entries)
	}
	defer items.Release()
	st := array.NewData(mt.Elem(), entries, []*memory.Buffer{nil}, []arrow.ArrayData{keys, items}, 0, 0)
	defer st.Release()
	return array.NewData(typ, n, []*memory.Buffer{nil, memory.NewBufferBytes(asBytes(m.offs))}, []arrow.ArrayData{st}, 0, 0)
}
