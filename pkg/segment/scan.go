package segment

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Column names of [Schema] that [Reader.Scan] takes.
const (
	ColumnStream      = colStream
	ColumnSeq         = colSeq
	ColumnID          = colID
	ColumnType        = colType
	ColumnSource      = colSource
	ColumnSubject     = colSubject
	ColumnTime        = colTime
	ColumnIngestTime  = colIngestTime
	ColumnAttributes  = colAttributes
	ColumnMetrics     = colMetrics
	ColumnContentType = colContentType
	ColumnData        = colData
	ColumnDataBinary  = colDataBinary
)

// leavesOf maps each column of Schema to its Parquet leaves.
var leavesOf = map[string][]int{
	colStream: {leafStream}, colSeq: {leafSeq}, colID: {leafID}, colType: {leafType},
	colSource: {leafSource}, colSubject: {leafSubject}, colTime: {leafTime},
	colIngestTime: {leafIngestTime}, colAttributes: {leafAttrKey, leafAttrValue},
	colMetrics: {leafMetricKey, leafMetricValue}, colContentType: {leafContentType},
	colData: {leafData}, colDataBinary: {leafDataBinary},
}

// leavesFor returns the Parquet leaves of columns, in schema order whatever
// the order asked; maps says whether the map columns may be among them.
func leavesFor(columns []string, maps bool) ([]int, error) {
	var leaves []int
	for _, f := range Schema.Fields() {
		if !slices.Contains(columns, f.Name) {
			continue
		}
		if !maps && (f.Name == colAttributes || f.Name == colMetrics) {
			return nil, fmt.Errorf("column %s cannot seek", f.Name)
		}
		leaves = append(leaves, leavesOf[f.Name]...)
	}
	if len(leaves) == 0 {
		return nil, fmt.Errorf("no known column in %q", columns)
	}
	return leaves, nil
}

// fieldsFor returns the positions in Schema of columns, in schema order.
func fieldsFor(columns []string) []int {
	var out []int
	for i, f := range Schema.Fields() {
		if slices.Contains(columns, f.Name) {
			out = append(out, i)
		}
	}
	return out
}

// ScanOptions say how Scan delivers its rows.
type ScanOptions struct {
	// BatchRows is the most rows in one record batch.
	BatchRows int
	// Dictionaries names columns to deliver as dictionary arrays (int32
	// indices into the row group's strings) wherever the row group stores
	// them dictionary-encoded, as it does stream, type, source and
	// content_type; every other column has its Schema type.
	Dictionaries []string
}

// ScanStats is what one Scan read.
type ScanStats struct {
	// Rows is the rows decoded.
	Rows int64
	// Bytes is the compressed size of the column chunks decoded.
	Bytes int64
}

// Scan decodes the named columns of each of rowGroups, in order, as Arrow
// record batches of at most opts.BatchRows rows whose fields are those
// columns in Schema order, and calls fn with each. A record is valid only during
// its call. Each row group's CRC is checked before its first decode.
// Scan is for column-wise work (queries); Read is the faster way to get
// whole events.
func (r *Reader) Scan(ctx context.Context, rowGroups []int, columns []string, opts ScanOptions, fn func(rg int, rec arrow.RecordBatch) error) (st ScanStats, err error) {
	defer recoverCorrupt(&err, "scan segment", r.path)
	leaves, err := leavesFor(columns, true)
	if err != nil {
		return st, fmt.Errorf("scan segment %s: %w", r.path, err)
	}
	fields := fieldsFor(columns)
	opts.BatchRows = max(opts.BatchRows, 1)
	for _, rg := range rowGroups {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if rg < 0 || rg >= len(r.info.RowGroups) {
			return st, fmt.Errorf("scan segment %s: no row group %d", r.path, rg)
		}
		if err := r.verify(rg); err != nil {
			return st, fmt.Errorf("scan segment %s: %w", r.path, err)
		}
		rgm := r.pf.MetaData().RowGroup(rg)
		for _, l := range leaves {
			cc, err := rgm.ColumnChunk(l)
			if err != nil {
				return st, fmt.Errorf("scan segment %s: %w: %w", r.path, ErrCorrupt, err)
			}
			st.Bytes += cc.TotalCompressedSize()
		}
		scan := r.scanRowGroup
		if arrowDecoders {
			scan = r.scanRowGroupArrow
		}
		if err := scan(ctx, rg, fields, opts, fn, &st); err != nil {
			return st, err
		}
		r.stats.rowGroups.Add(1)
	}
	r.stats.rows.Add(st.Rows)
	return st, nil
}

// scanRowGroup is Scan of one row group, decoded by arrowColumns.
func (r *Reader) scanRowGroup(ctx context.Context, rg int, fields []int, opts ScanOptions, fn func(int, arrow.RecordBatch) error, st *ScanStats) error {
	rgr := r.rowGroup(rg)
	cols := make([]arrowColumn, 0, len(fields))
	afs := make([]arrow.Field, len(fields))
	defer func() {
		for i, c := range cols {
			putArrowColumn(fields[i], c)
		}
	}()
	for i, f := range fields {
		c, err := newArrowColumn(rgr, f, slices.Contains(opts.Dictionaries, Schema.Field(f).Name))
		if err != nil {
			return fmt.Errorf("scan segment %s row group %d: %w", r.path, rg, err)
		}
		cols, afs[i] = append(cols, c), Schema.Field(f)
	}
	filler, err := newIngestFiller(rgr, fields) // a segment written with null times
	if err != nil {
		return fmt.Errorf("scan segment %s row group %d: %w", r.path, rg, err)
	}
	defer filler.release()
	arrs := make([]arrow.Array, len(cols))
	for left := rgr.NumRows(); left > 0; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := int(min(left, int64(opts.BatchRows)))
		for i, c := range cols {
			d, err := c.next(n)
			if err == nil {
				d, err = filler.fill(fields[i], d, n)
			}
			if err != nil {
				return fmt.Errorf("scan segment %s row group %d: %w: %w", r.path, rg, ErrCorrupt, err)
			}
			arrs[i] = array.MakeFromData(d)
			d.Release()
			afs[i].Type = arrs[i].DataType() // a dictionary, or the field's type
		}
		rec := array.NewRecordBatch(arrow.NewSchema(afs, nil), arrs, int64(n))
		for _, a := range arrs {
			a.Release()
		}
		st.Rows += int64(n)
		left -= int64(n)
		err := fn(rg, rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// ColumnStats are the Parquet statistics of one row group that a query
// prunes with.
type ColumnStats struct {
	// HasTime is false when the row group has no time statistics. The
	// bounds are of the times readers return: an event without a time
	// (a null in segments written before times were defaulted) counts
	// with its ingest time.
	HasTime          bool
	MinTime, MaxTime time.Time
	// HasType is false when the writer stored no bounds for type.
	HasType          bool
	MinType, MaxType string
}

// RowGroupStats returns the pruning statistics of row group rg.
func (r *Reader) RowGroupStats(rg int) (st ColumnStats, err error) {
	defer recoverCorrupt(&err, "read statistics of segment", r.path)
	if rg < 0 || rg >= len(r.info.RowGroups) {
		return st, fmt.Errorf("segment %s: no row group %d", r.path, rg)
	}
	rgm := r.pf.MetaData().RowGroup(rg)
	lo, hi, ok, err := int64Stats(rgm, leafTime)
	if err != nil {
		return st, fmt.Errorf("segment %s: %w: %w", r.path, ErrCorrupt, err)
	}
	if ok {
		st.HasTime, st.MinTime, st.MaxTime = true, fromNanos(lo), fromNanos(hi)
	}
	if timeNulls(rgm) { // written before times were defaulted: its null rows read as their ingest times
		ilo, ihi, iok, err := int64Stats(rgm, leafIngestTime)
		if err != nil {
			return st, fmt.Errorf("segment %s: %w: %w", r.path, ErrCorrupt, err)
		}
		if iok {
			if ok {
				ilo, ihi = min(ilo, lo), max(ihi, hi)
			}
			st.HasTime, st.MinTime, st.MaxTime = true, fromNanos(ilo), fromNanos(ihi)
		}
	}
	cc, err := rgm.ColumnChunk(leafType)
	if err != nil {
		return st, fmt.Errorf("segment %s: %w: %w", r.path, ErrCorrupt, err)
	}
	if set, err := cc.StatsSet(); err == nil && set {
		s, err := cc.Statistics()
		if err != nil {
			return st, fmt.Errorf("segment %s: %w: %w", r.path, ErrCorrupt, err)
		}
		if bs, ok := s.(*metadata.ByteArrayStatistics); ok && bs.HasMinMax() {
			st.HasType, st.MinType, st.MaxType = true, string(bs.Min()), string(bs.Max())
		}
	}
	return st, nil
}

// ScanRows is Scan of the file-wide rows [from, to) only, for flat columns:
// each row group it touches is entered with a seek (the page index skips
// whole pages) rather than decoded from its start. Map columns have no page
// index, so asking for attributes or metrics is an error; Read serves them.
func (r *Reader) ScanRows(ctx context.Context, from, to int64, columns []string, batchRows int, fn func(rec arrow.RecordBatch) error) (st ScanStats, err error) {
	defer recoverCorrupt(&err, "scan segment", r.path)
	leaves, err := leavesFor(columns, false)
	if err != nil {
		return st, fmt.Errorf("scan rows of segment %s: %w", r.path, err)
	}
	if from < 0 || to > r.info.Rows || from > to {
		return st, fmt.Errorf("scan rows of segment %s: rows %d..%d outside 0..%d", r.path, from, to, r.info.Rows)
	}
	fr, err := pqarrow.NewFileReader(r.pf, pqarrow.ArrowReadProperties{BatchSize: int64(batchRows)}, memory.DefaultAllocator)
	if err != nil {
		return st, fmt.Errorf("scan rows of segment %s: %w", r.path, err)
	}
	for rg := r.info.rowGroupOfRow(from); from < to && rg < len(r.info.RowGroups); rg++ {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		g := r.info.RowGroups[rg]
		if err := r.verify(rg); err != nil {
			return st, fmt.Errorf("scan rows of segment %s: %w", r.path, err)
		}
		end := min(to, g.FirstRow+g.Rows)
		if err := r.scanRange(ctx, fr, rg, leaves, from-g.FirstRow, end-from, fn, &st); err != nil {
			return st, err
		}
		from = end
	}
	r.stats.rows.Add(st.Rows)
	return st, nil
}

// scanRange decodes n rows of row group rg from its row offset.
func (r *Reader) scanRange(ctx context.Context, fr *pqarrow.FileReader, rg int, leaves []int, offset, n int64, fn func(arrow.RecordBatch) error, st *ScanStats) error {
	// A segment written with null times: read ingest_time to fill them.
	fillTimes := slices.Contains(leaves, leafTime) && timeNulls(r.pf.MetaData().RowGroup(rg))
	keepIngest := slices.Contains(leaves, leafIngestTime)
	if fillTimes && !keepIngest {
		i := slices.Index(leaves, leafTime)
		leaves = slices.Insert(slices.Clone(leaves), i+1, leafIngestTime)
	}
	rr, err := fr.GetRecordReader(ctx, leaves, []int{rg})
	if err != nil {
		return fmt.Errorf("scan segment %s row group %d: %w", r.path, rg, err)
	}
	defer rr.Release()
	if offset > 0 {
		if err := rr.SeekToRow(offset); err != nil {
			return fmt.Errorf("scan segment %s row group %d: %w: seek to row %d: %w", r.path, rg, ErrCorrupt, offset, err)
		}
	}
	r.stats.rowGroups.Add(1)
	r.stats.seeks.Add(1)
	for n > 0 && rr.Next() {
		rec := rr.RecordBatch()
		if rec.NumRows() > n {
			rec = rec.NewSlice(0, n)
			defer rec.Release()
		}
		if fillTimes {
			rec.Retain()
			rec = fillRecordTimes(rec, keepIngest)
			defer rec.Release()
		}
		n -= rec.NumRows()
		st.Rows += rec.NumRows()
		for _, l := range leaves {
			cc, err := r.pf.MetaData().RowGroup(rg).ColumnChunk(l)
			if err == nil && cc.NumValues() > 0 {
				st.Bytes += cc.TotalCompressedSize() * rec.NumRows() / cc.NumValues()
			}
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	if err := rr.Err(); err != nil {
		return fmt.Errorf("scan segment %s row group %d: %w: %w", r.path, rg, ErrCorrupt, err)
	}
	if n > 0 {
		return fmt.Errorf("scan segment %s row group %d: %w: %d rows short", r.path, rg, ErrCorrupt, n)
	}
	return nil
}
