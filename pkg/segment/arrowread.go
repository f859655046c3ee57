package segment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/silt-io/silt/pkg/event"
)

// This file is Read and Scan through arrow-go's own readers (pqarrow),
// used instead of Silt's decoders in the arrowdecode build (see
// arrowDecoders). It favours plainness over speed: every row group is
// decoded from its first row, and every string is copied.

// arrowRecords decodes the leaves of row group rg with pqarrow, in record
// batches of at most batchRows rows, and calls fn with each until it
// returns an error (errStopRecords: stop, no error).
func (r *Reader) arrowRecords(ctx context.Context, rg int, leaves []int, batchRows int, fn func(arrow.RecordBatch) error) error {
	fr, err := pqarrow.NewFileReader(r.pf, pqarrow.ArrowReadProperties{BatchSize: int64(batchRows)}, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	rr, err := fr.GetRecordReader(ctx, leaves, []int{rg})
	if err != nil {
		return fmt.Errorf("row group %d: %w: %w", rg, ErrCorrupt, err)
	}
	defer rr.Release()
	for rr.Next() {
		if err := fn(rr.RecordBatch()); err != nil {
			if errors.Is(err, errStopRecords) {
				return nil
			}
			return err
		}
	}
	if err := rr.Err(); err != nil {
		return fmt.Errorf("row group %d: %w: %w", rg, ErrCorrupt, err)
	}
	return nil
}

// errStopRecords ends arrowRecords early.
var errStopRecords = errors.New("stop")

// scanRowGroupArrow is scanRowGroup through pqarrow. It delivers no
// dictionary arrays (ScanOptions allows that).
func (r *Reader) scanRowGroupArrow(ctx context.Context, rg int, fields []int, opts ScanOptions, fn func(int, arrow.RecordBatch) error, st *ScanStats) error {
	var leaves []int
	for _, f := range fields {
		leaves = append(leaves, leavesOf[Schema.Field(f).Name]...)
	}
	// A segment written with null times: read ingest_time to fill them,
	// as scanRowGroup does.
	fill := slices.Contains(leaves, leafTime) && timeNulls(r.pf.MetaData().RowGroup(rg))
	keepIngest := slices.Contains(leaves, leafIngestTime)
	if fill && !keepIngest {
		leaves = append(leaves, leafIngestTime)
	}
	rows := int64(0)
	err := r.arrowRecords(ctx, rg, leaves, opts.BatchRows, func(rec arrow.RecordBatch) error {
		rows += rec.NumRows()
		st.Rows += rec.NumRows()
		if fill {
			rec.Retain()
			rec = fillRecordTimes(rec, keepIngest)
			defer rec.Release()
		}
		return fn(rg, rec)
	})
	if err != nil {
		return fmt.Errorf("scan segment %s: %w", r.path, err)
	}
	if want := r.info.RowGroups[rg].Rows; rows != want {
		return fmt.Errorf("scan segment %s row group %d: %w: %d rows, want %d", r.path, rg, ErrCorrupt, rows, want)
	}
	return nil
}

// readArrow is Read of s from the file-wide row (which holds fromSeq) up
// to end, through pqarrow.
func (r *Reader) readArrow(ctx context.Context, s StreamRange, fromSeq uint64, row, end int64, maxBytes int) ([]event.Event, error) {
	leaves := make([]int, numLeaves)
	for i := range leaves {
		leaves[i] = i
	}
	out := make([]event.Event, 0, min(end-row, maxReadPrealloc))
	size, full := 0, false
	for rg := r.info.rowGroupOfRow(row); row < end && !full && rg < len(r.info.RowGroups); rg++ {
		g := r.info.RowGroups[rg]
		if err := r.verify(rg); err != nil {
			return nil, fmt.Errorf("read segment %s: %w", r.path, err)
		}
		r.stats.rowGroups.Add(1)
		r.stats.seeks.Add(1)
		from, stop := row-g.FirstRow, min(end, g.FirstRow+g.Rows)-g.FirstRow
		at := int64(0) // the row group's row that rec starts at
		err := r.arrowRecords(ctx, rg, leaves, batchRows, func(rec arrow.RecordBatch) error {
			lo, hi := max(from-at, 0), min(stop-at, rec.NumRows())
			at += rec.NumRows()
			if lo >= hi {
				if at >= stop {
					return errStopRecords
				}
				return nil
			}
			evs, err := eventsOf(rec, lo, hi, r.project)
			if err != nil {
				return fmt.Errorf("row group %d: %w: %w", rg, ErrCorrupt, err)
			}
			before := len(out)
			for _, e := range evs {
				if maxBytes > 0 && len(out) > 0 && size+len(e.Data) > maxBytes {
					full = true
					break
				}
				if e.Stream != s.Stream {
					return fmt.Errorf("%w: row group %d holds stream %q, want %q", ErrCorrupt, rg, e.Stream, s.Stream)
				}
				size += len(e.Data)
				out = append(out, e)
			}
			r.stats.rows.Add(int64(len(out) - before))
			row += int64(len(out) - before)
			if i, want := seqsOutOfOrder(out, before, fromSeq, s.Gapless()); i >= 0 {
				return fmt.Errorf("%w: event %d holds %s/%d, want %s/%d", ErrCorrupt, i, s.Stream, out[i].Seq, s.Stream, want)
			}
			if full || at >= stop {
				return errStopRecords
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read segment %s: %w", r.path, err)
		}
	}
	return out, nil
}

// eventsOf returns the events of rows [lo, hi) of rec, a record of every
// Schema field, of project. Strings and payloads are copies.
func eventsOf(rec arrow.RecordBatch, lo, hi int64, project string) ([]event.Event, error) {
	if rec.NumCols() != numFields {
		return nil, fmt.Errorf("%d columns, want %d", rec.NumCols(), numFields)
	}
	str := func(f int) (*array.String, error) {
		a, ok := rec.Column(f).(*array.String)
		if !ok {
			return nil, fmt.Errorf("column %s is %s", Schema.Field(f).Name, rec.Column(f).DataType())
		}
		return a, nil
	}
	var strs [numFields]*array.String
	for _, f := range []int{fStream, fID, fType, fSource, fSubject, fContentType, fData} {
		var err error
		if strs[f], err = str(f); err != nil {
			return nil, err
		}
	}
	seq, ok1 := rec.Column(fSeq).(*array.Uint64)
	tm, ok2 := rec.Column(fTime).(*array.Timestamp)
	ingest, ok3 := rec.Column(fIngestTime).(*array.Timestamp)
	attrs, ok4 := rec.Column(fAttributes).(*array.Map)
	metrics, ok5 := rec.Column(fMetrics).(*array.Map)
	bin, ok6 := rec.Column(fDataBinary).(*array.Binary)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return nil, fmt.Errorf("a column has a type other than Schema's")
	}
	attrKeys, ok1 := attrs.Keys().(*array.String)
	attrVals, ok2 := attrs.Items().(*array.String)
	metricKeys, ok3 := metrics.Keys().(*array.String)
	metricVals, ok4 := metrics.Items().(*array.Float64)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, fmt.Errorf("a map column has a type other than Schema's")
	}
	value := func(a *array.String, i int) string {
		if a.IsNull(i) {
			return ""
		}
		return strings.Clone(a.Value(i))
	}
	out := make([]event.Event, 0, hi-lo)
	for row := lo; row < hi; row++ {
		i := int(row)
		e := event.Event{
			Project: project, Stream: value(strs[fStream], i), Seq: seq.Value(i),
			ID: value(strs[fID], i), Type: value(strs[fType], i), Source: value(strs[fSource], i),
			Subject: value(strs[fSubject], i), ContentType: value(strs[fContentType], i),
			IngestTime: time.Unix(0, int64(ingest.Value(i))).UTC(),
		}
		if tm.IsValid(i) {
			e.Time = time.Unix(0, int64(tm.Value(i))).UTC()
		} else {
			e.Time = e.IngestTime // a segment written before times were defaulted
		}
		if a, b := attrs.ValueOffsets(i); b > a {
			e.Attributes = make(map[string]string, b-a)
			for j := int(a); j < int(b); j++ {
				e.Attributes[value(attrKeys, j)] = value(attrVals, j)
			}
		}
		if a, b := metrics.ValueOffsets(i); b > a {
			e.Metrics = make(map[string]float64, b-a)
			for j := int(a); j < int(b); j++ {
				e.Metrics[value(metricKeys, j)] = metricVals.Value(j)
			}
		}
		switch d := strs[fData]; {
		case d.IsValid(i) && bin.IsValid(i):
			return nil, fmt.Errorf("row %d has both %s and %s", i, colData, colDataBinary)
		case d.IsValid(i) && d.ValueLen(i) > 0:
			e.Data = []byte(d.Value(i))
		case bin.IsValid(i) && len(bin.Value(i)) > 0:
			e.Data = bytes.Clone(bin.Value(i))
		}
		// Null source, subject or payload: absent (decode_optional.go);
		// a required column (an older segment) is never null.
		e.SetPresent(strs[fSource].IsValid(i), strs[fSubject].IsValid(i), strs[fData].IsValid(i) || bin.IsValid(i))
		out = append(out, e)
	}
	return out, nil
}
