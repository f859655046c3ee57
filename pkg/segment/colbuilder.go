package segment

import (
	"bytes"
	"fmt"
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

	// view is the body being appended; attrScratch and metricScratch its
	// kept map entries, which alias it.
	view          record.View
	attrScratch   []record.Attribute
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
	v := &b.view
	if err := v.Parse(body); err != nil {
		return err
	}
	flags := v.Flags
	// The time in Unix nanoseconds. The zero time is no time, as the
	// decoded event would have; a time outside what nanoseconds hold is
	// none either, as the rotator writes it (quarantined): never a
	// wrapped value.
	hasTime := v.HasTime()
	var nanos int64
	if hasTime {
		t := time.Unix(v.Seconds, int64(v.Nanos))
		hasTime = (v.Seconds != zeroTimeSec || v.Nanos != 0) && inRange(t)
		nanos = t.UnixNano()
	}
	w := &b.want
	attrs := b.attrScratch[:0]
	if w[fAttributes] {
		for k, val := range v.Attributes() {
			if keep(b.attrKeys, k) {
				attrs = append(attrs, record.Attribute{Key: k, Value: val})
			}
		}
	}
	b.attrScratch = attrs
	metrics := b.metricScratch[:0]
	if w[fMetrics] {
		for k, val := range v.Metrics() {
			if keep(b.metricKeys, k) {
				metrics = append(metrics, record.Metric{Key: k, Value: val})
			}
		}
	}
	b.metricScratch = metrics
	id, typ, source, subject, ct, data := v.ID, v.Type, v.Source, v.Subject, v.ContentType, v.Data
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
		sortAttributes(attrs)
		for _, a := range attrs {
			b.attrs.keys.add(a.Key)
			b.attrs.vals.add(a.Value)
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

// zeroTimeSec is time.Time{}'s Unix seconds: a body whose time is the
// zero time has none.
var zeroTimeSec = time.Time{}.Unix()

// sortAttributes sorts a row's attributes by key, stably: an insertion
// sort, as rows have a few, usually in order already or told apart by a
// first byte.
func sortAttributes(a []record.Attribute) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && keyAfter(a[j-1].Key, a[j].Key); j-- {
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
