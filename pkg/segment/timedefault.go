package segment

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// An event appended without a time has its ingest time as its time, in
// every reader. The writer stores it so (eventTime), but segments written
// before hold null in their time column; the readers here fill those rows
// from ingest_time, decoding it only for a row group whose time column has
// nulls, so segments written since cost nothing more.

// timeNulls reports whether the time column of row group rgm may hold
// nulls: its statistics count some, or it has none to say.
func timeNulls(rgm *metadata.RowGroupMetaData) bool {
	cc, err := rgm.ColumnChunk(leafTime)
	if err != nil {
		return true
	}
	if set, err := cc.StatsSet(); err != nil || !set {
		return true
	}
	st, err := cc.Statistics()
	if err != nil || !st.HasNullCount() {
		return true
	}
	return st.NullCount() > 0
}

// fillTimes returns time, an array of event times, with its null rows
// given the times of ingest (the same rows' ingest times); it releases
// time when it makes a new array.
func fillTimes(time, ingest arrow.ArrayData) arrow.ArrayData {
	if time.NullN() == 0 {
		return time
	}
	t, in := array.NewTimestampData(time), array.NewTimestampData(ingest)
	defer t.Release()
	defer in.Release()
	vals := make([]arrow.Timestamp, t.Len())
	for i := range vals {
		if t.IsNull(i) {
			vals[i] = in.Value(i)
		} else {
			vals[i] = t.Value(i)
		}
	}
	time.Release()
	return array.NewData(t.DataType(), len(vals), []*memory.Buffer{nil, memory.NewBufferBytes(arrow.TimestampTraits.CastToBytes(vals))}, nil, 0, 0)
}

// ingestFiller decodes a row group's ingest times alongside a Scan whose
// time column has nulls.
type ingestFiller struct {
	col arrowColumn
}

// newIngestFiller returns a filler for Scan of fields in rgr, or nil when
// the scan has no time column or the row group's has no nulls.
func newIngestFiller(rgr *file.RowGroupReader, fields []int) (*ingestFiller, error) {
	hasTime := false
	for _, f := range fields {
		hasTime = hasTime || f == fTime
	}
	if !hasTime || !timeNulls(rgr.MetaData()) {
		return nil, nil
	}
	c, err := newArrowColumn(rgr, fIngestTime, false)
	if err != nil {
		return nil, err
	}
	return &ingestFiller{col: c}, nil
}

// fill returns d, the next n rows of field f, with null times filled.
func (g *ingestFiller) fill(f int, d arrow.ArrayData, n int) (arrow.ArrayData, error) {
	if g == nil || f != fTime {
		return d, nil
	}
	in, err := g.col.next(n)
	if err != nil {
		d.Release()
		return nil, err
	}
	defer in.Release()
	return fillTimes(d, in), nil
}

// release gives the filler's column back.
func (g *ingestFiller) release() {
	if g != nil {
		putArrowColumn(fIngestTime, g.col)
	}
}

// fillRecordTimes returns rec, a batch of ScanRows that was given the
// ingest_time column for its time column's sake, with its null times
// filled and ingest_time dropped unless it was asked for (keepIngest).
// It releases rec when it makes a new batch.
func fillRecordTimes(rec arrow.RecordBatch, keepIngest bool) arrow.RecordBatch {
	sc := rec.Schema()
	ti, ii := sc.FieldIndices(colTime), sc.FieldIndices(colIngestTime)
	if len(ti) != 1 || len(ii) != 1 {
		return rec
	}
	var fields []arrow.Field
	var cols []arrow.Array
	for i, f := range sc.Fields() {
		col := rec.Column(i)
		switch i {
		case ii[0]:
			if !keepIngest {
				continue
			}
		case ti[0]:
			d := col.Data()
			d.Retain()
			filled := fillTimes(d, rec.Column(ii[0]).Data())
			col = array.MakeFromData(filled)
			filled.Release()
			defer col.Release()
		}
		fields, cols = append(fields, f), append(cols, col)
	}
	out := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows())
	rec.Release()
	return out
}
