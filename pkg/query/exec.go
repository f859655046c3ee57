package query

import (
	"context"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/segment"
)

// sink takes the matching rows of each batch and makes the result.
type sink interface {
	// add takes the rows of b whose sel is true. b is valid only during
	// the call.
	add(b *Batch, sel []bool) error
	result() (*Result, error)
}

// executor runs a plan: the segments' row groups, then the hot ranges,
// each batch through the range checks, the filter and the sink.
type executor struct {
	c     *compiled
	p     *plan
	v     View
	opts  Options
	sink  sink
	stats Stats
	sel   []bool
}

func newExecutor(c *compiled, p *plan, v View, opts Options) *executor {
	x := &executor{c: c, p: p, v: v, opts: opts}
	x.stats.Segments, x.stats.SegmentsPruned = p.stats.Segments, p.stats.SegmentsPruned
	x.stats.RowGroups, x.stats.RowGroupsPruned = p.stats.RowGroups, p.stats.RowGroupsPruned
	if c.aggregating() {
		x.sink = newAggSink(c, opts)
	} else {
		ls := newListSink(c)
		ls.truncated = p.truncated
		x.sink = ls
	}
	return x
}

// columnNames are the segment columns a scan reads.
func (x *executor) columnNames() []string {
	out := []string{segment.ColumnStream, segment.ColumnSeq}
	for _, c := range []struct {
		bit  columnSet
		name string
	}{
		{colID, segment.ColumnID}, {colType, segment.ColumnType}, {colSource, segment.ColumnSource},
		{colSubject, segment.ColumnSubject}, {colTime, segment.ColumnTime}, {colIngestTime, segment.ColumnIngestTime},
		{colAttributes, segment.ColumnAttributes}, {colMetrics, segment.ColumnMetrics},
		{colContentType, segment.ColumnContentType}, {colData, segment.ColumnData}, {colDataBinary, segment.ColumnDataBinary},
	} {
		if x.c.cols&c.bit != 0 {
			out = append(out, c.name)
		}
	}
	return out
}

func (x *executor) run(ctx context.Context) error {
	cols := x.columnNames()
	for _, sp := range x.p.segments {
		if sp.seek {
			if err := x.seekSegment(ctx, sp); err != nil {
				return fmt.Errorf("query segment %s: %w", sp.seg.ID, err)
			}
			continue
		}
		st, err := sp.r.Scan(ctx, sp.rowGroups, cols, x.opts.BatchRows, func(_ int, rec arrow.RecordBatch) error {
			b, err := batchFromRecord(rec, x.c.req.Project)
			if err != nil {
				return err
			}
			sel := x.selection(b.Len)
			var cur string
			var r seqRange
			var ok, started bool
			for i := range b.Len {
				if s := b.Stream.Value(i); !started || s != cur {
					cur, started = s, true
					r, ok = sp.ranges[s]
				}
				seq := b.Seq.Value(i)
				sel[i] = ok && seq >= r.lo && seq <= r.hi
			}
			return x.process(ctx, &b, sel)
		})
		x.stats.ColdRows += st.Rows
		x.stats.ColdBytes += st.Bytes
		if err != nil {
			return fmt.Errorf("query segment %s: %w", sp.seg.ID, err)
		}
	}
	return x.runHot(ctx)
}

// seekSegment reads each stream's range of sp as events and runs them
// through the same batches as the hot tier's.
func (x *executor) seekSegment(ctx context.Context, sp segmentPlan) error {
	names := make([]string, 0, len(sp.ranges))
	for name := range sp.ranges {
		names = append(names, name)
	}
	slices.Sort(names)
	rb := segment.NewRecordBuilder(memory.DefaultAllocator)
	defer rb.Release()
	bb := eventBatches{x: x, rb: rb}
	for _, name := range names {
		r := sp.ranges[name]
		for next := r.lo; next <= r.hi; {
			evs, err := sp.r.Read(ctx, name, next, int(min(r.hi-next+1, uint64(x.opts.BatchRows))), 0)
			if err != nil {
				return err
			}
			if len(evs) == 0 {
				break
			}
			x.stats.ColdRows += int64(len(evs))
			for i := range evs {
				if evs[i].Seq > r.hi {
					break
				}
				x.stats.ColdBytes += int64(segment.EventSize(&evs[i]))
				if err := bb.add(ctx, &evs[i]); err != nil {
					return err
				}
			}
			next = evs[len(evs)-1].Seq + 1
		}
	}
	return bb.flush(ctx)
}

// eventBatches gathers events into Arrow batches of the segment schema and
// processes each full batch.
type eventBatches struct {
	x  *executor
	rb *segment.RecordBuilder
	n  int
}

func (bb *eventBatches) add(ctx context.Context, e *event.Event) error {
	bb.rb.Append(e)
	if bb.n++; bb.n >= bb.x.opts.BatchRows {
		return bb.flush(ctx)
	}
	return nil
}

func (bb *eventBatches) flush(ctx context.Context) error {
	if bb.n == 0 {
		return nil
	}
	rec := bb.rb.NewRecord()
	defer rec.Release()
	bb.n = 0
	b, err := batchFromRecord(rec, bb.x.c.req.Project)
	if err != nil {
		return err
	}
	sel := bb.x.selection(b.Len)
	for i := range sel {
		sel[i] = true
	}
	return bb.x.process(ctx, &b, sel)
}

// runHot reads the hot ranges into batches of the segment schema.
func (x *executor) runHot(ctx context.Context) error {
	if len(x.p.hot) == 0 {
		return nil
	}
	rb := segment.NewRecordBuilder(memory.DefaultAllocator)
	defer rb.Release()
	bb := eventBatches{x: x, rb: rb}
	for _, pt := range x.p.hot {
		err := x.v.ScanHot(ctx, pt.x, pt.hotLo, pt.hotHi, func(e *event.Event) error {
			x.stats.HotRows++
			return bb.add(ctx, e)
		})
		if err != nil {
			return fmt.Errorf("query hot %s/%s: %w", pt.x.Project, pt.x.Stream, err)
		}
	}
	return bb.flush(ctx)
}

// selection returns the executor's selection vector, sized n.
func (x *executor) selection(n int) []bool {
	if cap(x.sel) < n {
		x.sel = make([]bool, n)
	}
	return x.sel[:n]
}

// process applies the time ranges and the filter, then feeds the sink.
func (x *executor) process(ctx context.Context, b *Batch, sel []bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &x.c.req
	if !req.From.IsZero() || !req.To.IsZero() {
		timeMask(b.Time, req.From.UnixNano(), req.To.UnixNano(), !req.From.IsZero(), !req.To.IsZero(), sel)
	}
	if !req.IngestFrom.IsZero() || !req.IngestTo.IsZero() {
		timeMask(b.IngestTime, req.IngestFrom.UnixNano(), req.IngestTo.UnixNano(), !req.IngestFrom.IsZero(), !req.IngestTo.IsZero(), sel)
	}
	if x.c.pred != nil {
		x.c.pred.eval(b, sel)
	}
	for _, s := range sel {
		if s {
			x.stats.Matched++
		}
	}
	return x.sink.add(b, sel)
}

// timeMask clears the rows whose timestamp is null or outside [from, to).
func timeMask(col *array.Timestamp, from, to int64, hasFrom, hasTo bool, sel []bool) {
	vals := col.TimestampValues()
	nulls := col.NullN() > 0
	for i, s := range sel {
		if !s {
			continue
		}
		if nulls && col.IsNull(i) {
			sel[i] = false
			continue
		}
		t := int64(vals[i])
		if (hasFrom && t < from) || (hasTo && t >= to) {
			sel[i] = false
		}
	}
}

// batchFromRecord views a record of segment columns as a Batch.
func batchFromRecord(rec arrow.RecordBatch, project string) (Batch, error) {
	b := Batch{Len: int(rec.NumRows()), Project: project}
	for i, f := range rec.Schema().Fields() {
		col := rec.Column(i)
		var ok bool
		switch f.Name {
		case segment.ColumnStream:
			b.Stream, ok = col.(*array.String)
		case segment.ColumnSeq:
			b.Seq, ok = col.(*array.Uint64)
		case segment.ColumnID:
			b.ID, ok = col.(*array.String)
		case segment.ColumnType:
			b.Type, ok = col.(*array.String)
		case segment.ColumnSource:
			b.Source, ok = col.(*array.String)
		case segment.ColumnSubject:
			b.Subject, ok = col.(*array.String)
		case segment.ColumnTime:
			b.Time, ok = col.(*array.Timestamp)
		case segment.ColumnIngestTime:
			b.IngestTime, ok = col.(*array.Timestamp)
		case segment.ColumnAttributes:
			b.Attributes, ok = col.(*array.Map)
		case segment.ColumnMetrics:
			b.Metrics, ok = col.(*array.Map)
		case segment.ColumnContentType:
			b.ContentType, ok = col.(*array.String)
		case segment.ColumnData:
			b.Data, ok = col.(*array.String)
		case segment.ColumnDataBinary:
			b.DataBinary, ok = col.(*array.Binary)
		default:
			ok = true // a column this engine does not know: not read
		}
		if !ok {
			return b, fmt.Errorf("%w: column %s is %s", segment.ErrCorrupt, f.Name, col.DataType())
		}
	}
	return b, nil
}
