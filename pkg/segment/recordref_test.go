package segment

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// appendRecordRef adds one row to b from a hot-tier record body
// (pkg/record's encoding), walking the body with record.Decoder: the row
// the decoded event would give b.Append. It is the plain reading that
// ColumnBuilder.AppendRecord's tests compare the fast parser against.
func appendRecordRef(b *RecordBuilder, stream string, seq uint64, ingest time.Time, contentType string, body []byte) error {
	rb := b.b
	var attrs []record.Attribute
	var metrics []record.Metric
	d := record.NewDecoder(body)
	flags := d.Byte()
	id, typ, source, subject := d.Bytes(), d.Bytes(), d.Bytes(), d.Bytes()
	var t time.Time
	if flags&record.FlagHasTime != 0 {
		t = d.Time()
	}
	for range d.Count(2) {
		attrs = append(attrs, record.Attribute{Key: d.Bytes(), Value: d.Bytes()})
	}
	for range d.Count(9) {
		metrics = append(metrics, record.Metric{Key: d.Bytes(), Value: math.Float64frombits(d.Uint64())})
	}
	ct, data := d.Bytes(), d.Bytes()
	if err := d.Err(); err != nil {
		return err
	}
	if d.Len() != 0 {
		return fmt.Errorf("%w: %d trailing record bytes", record.ErrCorrupt, d.Len())
	}
	appendString(rb.stream, stream)
	rb.seq.Append(seq)
	rb.id.BinaryBuilder.Append(id)
	rb.typ.BinaryBuilder.Append(typ)
	appendOptional(rb.source, string(source), flags&record.FlagNoSource == 0)
	appendOptional(rb.subject, string(subject), flags&record.FlagNoSubject == 0)
	if t.IsZero() || !inRange(t) {
		t = ingest // no time: the ingest time
	}
	rb.time.Append(arrow.Timestamp(t.UnixNano()))
	rb.ingestTime.Append(arrow.Timestamp(ingest.UnixNano()))
	// Map entries in key order, as Append writes them; a body that repeats
	// a key (not one AppendBody writes) keeps its entries' order.
	slices.SortStableFunc(attrs, func(x, y record.Attribute) int { return bytes.Compare(x.Key, y.Key) })
	rb.attrs.Append(true)
	for _, a := range attrs {
		rb.attrKeys.BinaryBuilder.Append(a.Key)
		rb.attrValues.BinaryBuilder.Append(a.Value)
	}
	slices.SortStableFunc(metrics, func(x, y record.Metric) int { return bytes.Compare(x.Key, y.Key) })
	rb.metrics.Append(true)
	for _, m := range metrics {
		rb.metricKeys.BinaryBuilder.Append(m.Key)
		rb.metricVals.Append(m.Value)
	}
	if !record.HasPayload(flags) {
		appendString(rb.contentType, "")
		rb.data.AppendNull()
		rb.dataBinary.AppendNull()
		return nil
	}
	if len(ct) == 0 {
		appendString(rb.contentType, contentType)
	} else {
		rb.contentType.BinaryBuilder.Append(ct)
	}
	isJSON := string(ct) == event.ContentTypeJSON || (len(ct) == 0 && contentType == event.ContentTypeJSON)
	if isJSON && utf8.Valid(data) {
		rb.data.BinaryBuilder.Append(data)
		rb.dataBinary.AppendNull()
	} else {
		rb.data.AppendNull()
		rb.dataBinary.Append(data)
	}
	return nil
}
