package query

import (
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/segment"
)

// batchOf views a record of the segment schema as a Batch, as the
// executor does.
func batchOf(tb testing.TB, rec arrow.RecordBatch) *Batch {
	tb.Helper()
	b, err := batchFromRecord(rec, "")
	if err != nil {
		tb.Fatal(err)
	}
	return &b
}

// buildRecord builds a record of evs with segment.RecordBuilder, the
// builder the executor feeds hot events through.
func buildRecord(mem memory.Allocator, evs []event.Event) arrow.RecordBatch {
	rb := segment.NewRecordBuilder(mem)
	defer rb.Release()
	for i := range evs {
		rb.Append(&evs[i])
	}
	return rb.NewRecord()
}

// newBatch builds a Batch of evs. Its memory is checked for leaks and
// released when the test ends.
func newBatch(tb testing.TB, evs []event.Event) *Batch {
	tb.Helper()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	rec := buildRecord(mem, evs)
	tb.Cleanup(func() {
		rec.Release()
		mem.AssertSize(tb, 0)
	})
	return batchOf(tb, rec)
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
	rec := buildRecord(mem, all)
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
	return batchOf(tb, sliced)
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
