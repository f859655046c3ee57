package segment

import (
	"slices"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/silt-io/silt/pkg/event"
)

// rowBuilder turns events into Arrow records of [Schema], one row group's
// worth at a time.
type rowBuilder struct {
	rb          *array.RecordBuilder
	stream      *array.StringBuilder
	seq         *array.Uint64Builder
	id          *array.StringBuilder
	typ         *array.StringBuilder
	source      *array.StringBuilder
	subject     *array.StringBuilder
	time        *array.TimestampBuilder
	ingestTime  *array.TimestampBuilder
	attrs       *array.MapBuilder
	attrKeys    *array.StringBuilder
	attrValues  *array.StringBuilder
	metrics     *array.MapBuilder
	metricKeys  *array.StringBuilder
	metricVals  *array.Float64Builder
	contentType *array.StringBuilder
	data        *array.StringBuilder
	dataBinary  *array.BinaryBuilder

	// keys is scratch space for sorting map keys.
	keys []string
}

// newRowBuilder returns a builder allocating from mem.
func newRowBuilder(mem memory.Allocator) *rowBuilder {
	rb := array.NewRecordBuilder(mem, Schema)
	b := &rowBuilder{
		rb:          rb,
		stream:      rb.Field(fStream).(*array.StringBuilder),
		seq:         rb.Field(fSeq).(*array.Uint64Builder),
		id:          rb.Field(fID).(*array.StringBuilder),
		typ:         rb.Field(fType).(*array.StringBuilder),
		source:      rb.Field(fSource).(*array.StringBuilder),
		subject:     rb.Field(fSubject).(*array.StringBuilder),
		time:        rb.Field(fTime).(*array.TimestampBuilder),
		ingestTime:  rb.Field(fIngestTime).(*array.TimestampBuilder),
		attrs:       rb.Field(fAttributes).(*array.MapBuilder),
		metrics:     rb.Field(fMetrics).(*array.MapBuilder),
		contentType: rb.Field(fContentType).(*array.StringBuilder),
		data:        rb.Field(fData).(*array.StringBuilder),
		dataBinary:  rb.Field(fDataBinary).(*array.BinaryBuilder),
	}
	b.attrKeys = b.attrs.KeyBuilder().(*array.StringBuilder)
	b.attrValues = b.attrs.ItemBuilder().(*array.StringBuilder)
	b.metricKeys = b.metrics.KeyBuilder().(*array.StringBuilder)
	b.metricVals = b.metrics.ItemBuilder().(*array.Float64Builder)
	return b
}

// bytesOf views s as bytes without copying; the builders copy what they append.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// appendString appends s to a string column without converting it.
func appendString(b *array.StringBuilder, s string) { b.BinaryBuilder.Append(bytesOf(s)) }

// append adds one row. The event was validated by the Writer. Map entries
// are written in key order so that equal maps encode equally.
func (b *rowBuilder) append(e *event.Event) {
	appendString(b.stream, e.Stream)
	b.seq.Append(e.Seq)
	appendString(b.id, e.ID)
	appendString(b.typ, e.Type)
	appendOptional(b.source, e.Source, e.HasSource())
	appendOptional(b.subject, e.Subject, e.HasSubject())
	b.time.Append(arrow.Timestamp(eventTime(e).UnixNano()))
	b.ingestTime.Append(arrow.Timestamp(e.IngestTime.UnixNano()))

	b.attrs.Append(true)
	b.keys = b.keys[:0]
	for k := range e.Attributes {
		b.keys = append(b.keys, k)
	}
	slices.Sort(b.keys)
	for _, k := range b.keys {
		appendString(b.attrKeys, k)
		appendString(b.attrValues, e.Attributes[k])
	}

	b.metrics.Append(true)
	b.keys = b.keys[:0]
	for k := range e.Metrics {
		b.keys = append(b.keys, k)
	}
	slices.Sort(b.keys)
	for _, k := range b.keys {
		appendString(b.metricKeys, k)
		b.metricVals.Append(e.Metrics[k])
	}

	if !e.HasPayload() { // no content type, and null data and data_binary
		appendString(b.contentType, "")
		b.data.AppendNull()
		b.dataBinary.AppendNull()
		return
	}
	appendString(b.contentType, e.ContentType)
	if e.IsJSON() && utf8.Valid(e.Data) {
		b.data.BinaryBuilder.Append(e.Data)
		b.dataBinary.AppendNull()
	} else {
		b.data.AppendNull()
		b.dataBinary.Append(e.Data)
	}
}

// newRecord returns the rows appended so far and resets the builder.
func (b *rowBuilder) newRecord() arrow.RecordBatch { return b.rb.NewRecordBatch() }

// release frees the builder's buffers.
func (b *rowBuilder) release() { b.rb.Release() }

// RecordBuilder turns events into Arrow records of [Schema], the form a
// query reads segments in, so that events from elsewhere (the hot tier)
// go through the same column-wise code. Events must be valid.
type RecordBuilder struct {
	b *rowBuilder
}

// NewRecordBuilder returns a builder allocating from mem.
func NewRecordBuilder(mem memory.Allocator) *RecordBuilder {
	return &RecordBuilder{b: newRowBuilder(mem)}
}

// Append adds one row.
func (b *RecordBuilder) Append(e *event.Event) { b.b.append(e) }

// NewRecord returns the rows appended since the last call; the caller
// releases it.
func (b *RecordBuilder) NewRecord() arrow.RecordBatch { return b.b.newRecord() }

// Release frees the builder.
func (b *RecordBuilder) Release() { b.b.release() }
