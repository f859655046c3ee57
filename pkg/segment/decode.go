package segment

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/silt-io/silt/pkg/event"
)

// columns are the typed arrays of one record batch of [Schema].
type columns struct {
	stream, id, typ, source, subject, contentType, data *array.String
	seq                                                 *array.Uint64
	time, ingestTime                                    *array.Timestamp
	attrs, metrics                                      *array.Map
	attrKeys, attrValues, metricKeys                    *array.String
	metricVals                                          *array.Float64
	dataBinary                                          *array.Binary
}

// columnsOf types the columns of rec, which must have the segment schema.
func columnsOf(rec arrow.RecordBatch) (c columns, err error) {
	if rec.NumCols() != numFields {
		return c, fmt.Errorf("%w: record has %d columns, want %d", ErrCorrupt, rec.NumCols(), numFields)
	}
	ok := true
	str := func(i int) *array.String {
		a, k := rec.Column(i).(*array.String)
		ok = ok && k
		return a
	}
	c.stream, c.id, c.typ, c.source, c.subject = str(fStream), str(fID), str(fType), str(fSource), str(fSubject)
	c.contentType, c.data = str(fContentType), str(fData)
	var k bool
	c.seq, k = rec.Column(fSeq).(*array.Uint64)
	ok = ok && k
	c.time, k = rec.Column(fTime).(*array.Timestamp)
	ok = ok && k
	c.ingestTime, k = rec.Column(fIngestTime).(*array.Timestamp)
	ok = ok && k
	c.dataBinary, k = rec.Column(fDataBinary).(*array.Binary)
	ok = ok && k
	c.attrs, k = rec.Column(fAttributes).(*array.Map)
	ok = ok && k
	c.metrics, k = rec.Column(fMetrics).(*array.Map)
	ok = ok && k
	if ok {
		c.attrKeys, k = c.attrs.Keys().(*array.String)
		ok = ok && k
		c.attrValues, k = c.attrs.Items().(*array.String)
		ok = ok && k
		c.metricKeys, k = c.metrics.Keys().(*array.String)
		ok = ok && k
		c.metricVals, k = c.metrics.Items().(*array.Float64)
		ok = ok && k
	}
	if !ok {
		return c, fmt.Errorf("%w: columns do not have the segment schema: %v", ErrCorrupt, rec.Schema())
	}
	return c, nil
}

// internCap bounds the strings an interner keeps: low-cardinality columns
// (stream, type, attribute keys …) share one string per distinct value,
// high-cardinality ones stop being interned past it.
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

// blob copies the values of rows [lo, hi) of a string or binary column into
// one allocation and slices them, so a page of N events costs one allocation
// per column rather than N.
type blob struct {
	offs []int32
	base int32
	text string
	raw  []byte
}

// newBlob copies rows [lo, hi) of a; asText chooses a string or a []byte copy.
func newBlob(a arrow.Array, lo, hi int, asText bool) blob {
	var (
		offs []int32
		vals []byte
	)
	switch a := a.(type) {
	case *array.String:
		offs = a.ValueOffsets()
		if bufs := a.Data().Buffers(); len(bufs) > 2 && bufs[2] != nil {
			vals = bufs[2].Bytes()
		}
	case *array.Binary:
		offs = a.ValueOffsets()
		if bufs := a.Data().Buffers(); len(bufs) > 2 && bufs[2] != nil {
			vals = bufs[2].Bytes()
		}
	}
	b := blob{offs: offs, base: offs[lo]}
	part := vals[offs[lo]:offs[hi]]
	if asText {
		b.text = string(part)
	} else {
		b.raw = append([]byte(nil), part...)
	}
	return b
}

// str is row i's value as a string.
func (b *blob) str(i int) string { return b.text[b.offs[i]-b.base : b.offs[i+1]-b.base] }

// bytes is row i's value as bytes (nil when empty), capped so appending to
// it cannot overwrite the next value.
func (b *blob) bytes(i int) []byte {
	lo, hi := b.offs[i]-b.base, b.offs[i+1]-b.base
	if lo == hi {
		return nil
	}
	return b.raw[lo:hi:hi]
}

// decoder turns rows of record batches into events.
type decoder struct {
	project string
	strs    interner
}

// newDecoder returns a decoder stamping events with project.
func newDecoder(project string) *decoder {
	return &decoder{project: project, strs: make(interner, 64)}
}

// dataLen is the payload size of row i, counted by Read's maxBytes.
func (c *columns) dataLen(i int) int {
	if c.data.IsValid(i) {
		return c.data.ValueLen(i)
	}
	return c.dataBinary.ValueLen(i)
}

// decode appends rows [lo, hi) of c to out.
func (d *decoder) decode(c *columns, lo, hi int, out []event.Event) []event.Event {
	if hi <= lo {
		return out
	}
	ids := newBlob(c.id, lo, hi, true)
	subjects := newBlob(c.subject, lo, hi, true)
	data := newBlob(c.data, lo, hi, false)
	bin := newBlob(c.dataBinary, lo, hi, false)
	for i := lo; i < hi; i++ {
		e := event.Event{
			Project:     d.project,
			Stream:      d.strs.get(bytesOf(c.stream.Value(i))),
			Seq:         c.seq.Value(i),
			ID:          ids.str(i),
			Type:        d.strs.get(bytesOf(c.typ.Value(i))),
			Source:      d.strs.get(bytesOf(c.source.Value(i))),
			Subject:     subjects.str(i),
			IngestTime:  time.Unix(0, int64(c.ingestTime.Value(i))).UTC(),
			ContentType: d.strs.get(bytesOf(c.contentType.Value(i))),
		}
		if c.time.IsValid(i) {
			e.Time = time.Unix(0, int64(c.time.Value(i))).UTC()
		}
		if c.data.IsValid(i) {
			e.Data = data.bytes(i)
		} else {
			e.Data = bin.bytes(i)
		}
		if lo, hi := c.attrs.ValueOffsets(i); hi > lo {
			e.Attributes = make(map[string]string, hi-lo)
			for j := int(lo); j < int(hi); j++ {
				e.Attributes[d.strs.get(bytesOf(c.attrKeys.Value(j)))] = d.strs.get(bytesOf(c.attrValues.Value(j)))
			}
		}
		if lo, hi := c.metrics.ValueOffsets(i); hi > lo {
			e.Metrics = make(map[string]float64, hi-lo)
			for j := int(lo); j < int(hi); j++ {
				e.Metrics[d.strs.get(bytesOf(c.metricKeys.Value(j)))] = c.metricVals.Value(j)
			}
		}
		out = append(out, e)
	}
	return out
}
