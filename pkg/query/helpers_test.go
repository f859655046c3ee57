package query

import (
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/segment"
)

// batchBuilder builds Batches of the segment schema from events with Arrow
// builders, as segment's rowBuilder does: map entries in key order, a null
// time for an event without one, data null for payloads that are not JSON.
type batchBuilder struct {
	rb                            *array.RecordBuilder
	stream, id, typ, source, subj *array.StringBuilder
	contentType, data             *array.StringBuilder
	seq                           *array.Uint64Builder
	time, ingestTime              *array.TimestampBuilder
	attrs, metrics                *array.MapBuilder
	attrKeys, attrVals            *array.StringBuilder
	metricKeys                    *array.StringBuilder
	metricVals                    *array.Float64Builder
}

func newBatchBuilder(mem memory.Allocator) *batchBuilder {
	rb := array.NewRecordBuilder(mem, segment.Schema)
	field := func(name string) array.Builder { return rb.Field(segment.Schema.FieldIndices(name)[0]) }
	b := &batchBuilder{
		rb:          rb,
		stream:      field("stream").(*array.StringBuilder),
		seq:         field("seq").(*array.Uint64Builder),
		id:          field("id").(*array.StringBuilder),
		typ:         field("type").(*array.StringBuilder),
		source:      field("source").(*array.StringBuilder),
		subj:        field("subject").(*array.StringBuilder),
		time:        field("time").(*array.TimestampBuilder),
		ingestTime:  field("ingest_time").(*array.TimestampBuilder),
		attrs:       field("attributes").(*array.MapBuilder),
		metrics:     field("metrics").(*array.MapBuilder),
		contentType: field("content_type").(*array.StringBuilder),
		data:        field("data").(*array.StringBuilder),
	}
	b.attrKeys = b.attrs.KeyBuilder().(*array.StringBuilder)
	b.attrVals = b.attrs.ItemBuilder().(*array.StringBuilder)
	b.metricKeys = b.metrics.KeyBuilder().(*array.StringBuilder)
	b.metricVals = b.metrics.ItemBuilder().(*array.Float64Builder)
	return b
}

func (b *batchBuilder) append(e *event.Event) {
	b.stream.Append(e.Stream)
	b.seq.Append(e.Seq)
	b.id.Append(e.ID)
	b.typ.Append(e.Type)
	b.source.Append(e.Source)
	b.subj.Append(e.Subject)
	if e.Time.IsZero() {
		b.time.AppendNull()
	} else {
		b.time.Append(arrow.Timestamp(e.Time.UnixNano()))
	}
	b.ingestTime.Append(arrow.Timestamp(e.IngestTime.UnixNano()))
	b.attrs.Append(true)
	for _, k := range sortedKeys(e.Attributes) {
		b.attrKeys.Append(k)
		b.attrVals.Append(e.Attributes[k])
	}
	b.metrics.Append(true)
	for _, k := range sortedKeys(e.Metrics) {
		b.metricKeys.Append(k)
		b.metricVals.Append(e.Metrics[k])
	}
	b.contentType.Append(e.ContentType)
	if e.IsJSON() && utf8.Valid(e.Data) {
		b.data.Append(string(e.Data))
	} else {
		b.data.AppendNull()
	}
	// data_binary is not a Batch column; keep the record's columns even.
	b.rb.Field(segment.Schema.FieldIndices("data_binary")[0]).AppendNull()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// batchOf turns a record of the segment schema into a Batch.
func batchOf(rec arrow.RecordBatch) *Batch {
	col := func(name string) arrow.Array { return rec.Column(segment.Schema.FieldIndices(name)[0]) }
	return &Batch{
		Len:         int(rec.NumRows()),
		Stream:      col("stream").(*array.String),
		Seq:         col("seq").(*array.Uint64),
		ID:          col("id").(*array.String),
		Type:        col("type").(*array.String),
		Source:      col("source").(*array.String),
		Subject:     col("subject").(*array.String),
		Time:        col("time").(*array.Timestamp),
		IngestTime:  col("ingest_time").(*array.Timestamp),
		Attributes:  col("attributes").(*array.Map),
		Metrics:     col("metrics").(*array.Map),
		ContentType: col("content_type").(*array.String),
		Data:        col("data").(*array.String),
	}
}

// newBatch builds a Batch of evs. Its memory is checked for leaks and
// released when the test ends.
func newBatch(tb testing.TB, evs []event.Event) *Batch {
	tb.Helper()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	bb := newBatchBuilder(mem)
	for i := range evs {
		bb.append(&evs[i])
	}
	rec := bb.rb.NewRecordBatch()
	bb.rb.Release()
	tb.Cleanup(func() {
		rec.Release()
		mem.AssertSize(tb, 0)
	})
	return batchOf(rec)
}

// newSlicedBatch builds a Batch of evs whose arrays do not start at their
// buffers' beginning: the events sit between others, as in a slice of a
// larger record, so every offset the readers take into account is not 0.
// The map columns' entries are offset twice, by the list and by its
// entries struct.
func newSlicedBatch(tb testing.TB, evs []event.Event) *Batch {
	tb.Helper()
	pad := event.Event{
		Stream: "pad", ID: "pad", Type: "pad", IngestTime: evs[0].IngestTime,
		Attributes:  map[string]string{"a": "pad", "zz": "pad"},
		Metrics:     map[string]float64{"a": -1, "zz": -1},
		ContentType: event.ContentTypeJSON, Data: []byte(`{"pad":true}`),
	}
	all := slices.Concat([]event.Event{pad, pad, pad}, evs, []event.Event{pad, pad})
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	bb := newBatchBuilder(mem)
	for i := range all {
		bb.append(&all[i])
	}
	rec := bb.rb.NewRecordBatch()
	bb.rb.Release()
	// Drop the first pad row through the entries struct: the maps start at
	// their second row and their entries struct at the first pad's two
	// entries, which the key and item arrays do not see.
	cols := make([]arrow.Array, rec.NumCols())
	for i, c := range rec.Columns() {
		if m, ok := c.(*array.Map); ok {
			cols[i] = shiftEntries(mem, m)
		} else {
			cols[i] = array.NewSlice(c, 1, int64(c.Len()))
		}
	}
	rec.Release()
	shifted := array.NewRecordBatch(segment.Schema, cols, int64(len(all)-1))
	for _, c := range cols {
		c.Release()
	}
	sliced := shifted.NewSlice(2, int64(2+len(evs)))
	shifted.Release()
	tb.Cleanup(func() {
		sliced.Release()
		mem.AssertSize(tb, 0)
	})
	return batchOf(sliced)
}

// shiftEntries drops m's first row by offsetting its entries struct by the
// row's entries and rebasing the list offsets on it.
func shiftEntries(mem memory.Allocator, m *array.Map) *array.Map {
	offs := m.Offsets()
	first := offs[1]
	rebased := make([]int32, m.Len())
	for i := range rebased {
		rebased[i] = offs[i+1] - first
	}
	entries := m.Data().Children()[0]
	child := array.NewSliceData(entries, int64(first), int64(entries.Len()))
	defer child.Release()
	buf := memory.NewResizableBuffer(mem)
	defer buf.Release()
	buf.Resize(len(rebased) * 4)
	copy(arrow.Int32Traits.CastFromBytes(buf.Bytes()), rebased)
	data := array.NewData(m.DataType(), m.Len()-1, []*memory.Buffer{nil, buf}, []arrow.ArrayData{child}, 0, 0)
	defer data.Release()
	return array.NewMapData(data)
}
