package query

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
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
	c    *compiled
	p    *plan
	v    View
	opts Options
	sink sink
	// mu serializes the listing sink and the stats.
	mu    sync.Mutex
	stats Stats
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

// columnNames are the segment columns a scan reads: those the query
// needs, and stream and seq unless the scan takes every row.
func (x *executor) columnNames(whole bool) []string {
	var out []string
	if !whole || x.c.cols&colStream != 0 {
		out = append(out, segment.ColumnStream)
	}
	if !whole || x.c.cols&colSeq != 0 {
		out = append(out, segment.ColumnSeq)
	}
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

// task is one unit of work: one row group of a segment to scan, a whole
// segment read another way, or one stream's hot range.
type task struct {
	sp   *segmentPlan
	kind taskKind
	rg   int   // taskScan's row group
	hot  *part // taskHot's stream
}

// taskKind says how a task reads its segment.
type taskKind int

const (
	taskScan     taskKind = iota // decode row group rg's columns
	taskSeek                     // seek to the ranges' events (segmentPlan.seek)
	taskSeekRows                 // seek to the ranges' rows (segmentPlan.seekRows)
	taskCount                    // count the selected row groups' rows from metadata
	taskHot                      // read a stream's hot range
)

// run reads the segments and the hot ranges on up to GOMAXPROCS workers,
// each decoding, filtering and aggregating its own batches (a listing's
// sink takes them one at a time).
func (x *executor) run(ctx context.Context) error {
	var tasks []task
	for i := range x.p.segments {
		sp := &x.p.segments[i]
		switch {
		case sp.seekRows:
			tasks = append(tasks, task{sp: sp, kind: taskSeekRows})
		case sp.seek:
			tasks = append(tasks, task{sp: sp, kind: taskSeek})
		case len(x.columnNames(sp.whole)) == 0:
			tasks = append(tasks, task{sp: sp, kind: taskCount})
		default:
			for _, rg := range sp.rowGroups {
				tasks = append(tasks, task{sp: sp, rg: rg})
			}
		}
	}
	for i := range x.p.hot {
		tasks = append(tasks, task{kind: taskHot, hot: &x.p.hot[i]})
	}
	n := min(len(tasks), runtime.GOMAXPROCS(0))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	queue := make(chan task)
	var wg sync.WaitGroup
	workers := make([]*worker, n)
	for i := range n {
		w := x.newWorker(ctx)
		workers[i] = w
		wg.Go(func() {
			defer x.addStats(&w.stats)
			for t := range queue {
				if err := w.do(ctx, t); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
feed:
	for _, t := range tasks {
		select {
		case queue <- t:
		case <-ctx.Done():
			break feed
		}
	}
	close(queue)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return x.merge(workers)
}

// newWorker makes a worker of the query whose context is ctx, with its
// own partial aggregation when the query aggregates.
func (x *executor) newWorker(ctx context.Context) *worker {
	w := &worker{x: x, stop: newStopper(ctx.Done())}
	if _, ok := x.sink.(*aggSink); ok {
		w.agg = newAggSink(x.c, x.opts)
	}
	return w
}

// merge folds the workers' partial aggregations into the query's, and
// pools their hot builders.
func (x *executor) merge(workers []*worker) error {
	for _, w := range workers {
		if w.hot != nil {
			hotBuilders.Put(w.hot)
			w.hot = nil
		}
	}
	s, ok := x.sink.(*aggSink)
	if !ok {
		return nil
	}
	for _, w := range workers {
		if err := s.merge(w.agg); err != nil {
			return err
		}
	}
	return nil
}

// addStats adds a worker's counts to the query's.
func (x *executor) addStats(st *Stats) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.stats.ColdRows += st.ColdRows
	x.stats.ColdBytes += st.ColdBytes
	x.stats.HotRows += st.HotRows
	x.stats.Matched += st.Matched
}

// worker is one goroutine's share of a query: its selection vector, its
// counts and, when the query aggregates, its groups (merged at the end, so
// that workers aggregate in parallel; listings share one sink).
type worker struct {
	x     *executor
	sel   []bool
	stats Stats
	agg   *aggSink
	hot   *segment.ColumnBuilder // the hot ranges' batches, made on first use
	// stop ends the filter of a batch when the query's context is done.
	stop *stopper
}

// do runs one task.
func (w *worker) do(ctx context.Context, t task) error {
	if t.kind == taskHot {
		if err := w.readHot(ctx, t.hot); err != nil {
			return fmt.Errorf("query hot %s/%s: %w", t.hot.x.Project, t.hot.x.Name, err)
		}
		return nil
	}
	if err := w.doCold(ctx, t); err != nil {
		return fmt.Errorf("query segment %s: %w", t.sp.seg.ID, lostSegment(t.sp.seg, t.sp.ranges, err))
	}
	return nil
}

// doCold runs one task of a segment.
func (w *worker) doCold(ctx context.Context, t task) error {
	switch t.kind {
	case taskSeek:
		return w.seekSegment(ctx, t.sp)
	case taskCount:
		for _, rg := range t.sp.rowGroups {
			if err := w.countRows(ctx, t.sp.seg.Info.RowGroups[rg].Rows); err != nil {
				return err
			}
		}
		return nil
	case taskSeekRows:
		return w.seekRows(ctx, t.sp)
	}
	x, sp := w.x, t.sp
	opts := segment.ScanOptions{BatchRows: x.opts.BatchRows}
	dicts := x.c.dictCols
	if !sp.whole {
		dicts &^= colStream // the seq ranges read the stream names
	}
	if dicts != 0 {
		opts.Dictionaries = dicts.names()
	}
	st, err := sp.r.Scan(ctx, []int{t.rg}, x.columnNames(sp.whole), opts, func(_ int, rec arrow.RecordBatch) error {
		b, err := batchFromRecord(rec, x.c.req.Project)
		if err != nil {
			return err
		}
		sel := w.all(b.Len)
		if !sp.whole {
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
		}
		return w.process(ctx, &b, sel)
	})
	w.stats.ColdRows += st.Rows
	w.stats.ColdBytes += st.Bytes
	return err
}

// countRows feeds the sink n rows as batches without columns: a count of
// rows every one of which is in range needs nothing decoded.
func (w *worker) countRows(ctx context.Context, n int64) error {
	for n > 0 {
		k := int(min(n, int64(w.x.opts.BatchRows)))
		n -= int64(k)
		w.stats.ColdRows += int64(k)
		if err := w.process(ctx, &Batch{Len: k, Project: w.x.c.req.Project}, w.all(k)); err != nil {
			return err
		}
	}
	return nil
}

// seekRows reads each stream's range of sp as rows of the needed columns:
// the streams have no holes, so a seq range is a row range.
func (w *worker) seekRows(ctx context.Context, sp *segmentPlan) error {
	cols := w.x.columnNames(true)
	for name, r := range sp.ranges {
		s, _ := sp.seg.Info.Stream(name)
		from := s.FirstRow + int64(r.lo-s.FirstSeq)
		to := s.FirstRow + int64(r.hi-s.FirstSeq) + 1
		if len(cols) == 0 {
			if err := w.countRows(ctx, to-from); err != nil {
				return err
			}
			continue
		}
		st, err := sp.r.ScanRows(ctx, from, to, cols, w.x.opts.BatchRows, func(rec arrow.RecordBatch) error {
			b, err := batchFromRecord(rec, w.x.c.req.Project)
			if err != nil {
				return err
			}
			return w.process(ctx, &b, w.all(b.Len))
		})
		w.stats.ColdRows += st.Rows
		w.stats.ColdBytes += st.Bytes
		if err != nil {
			return err
		}
	}
	return nil
}

// seekSegment reads each stream's range of sp as events and runs them
// through the same batches as the hot tier's.
func (w *worker) seekSegment(ctx context.Context, sp *segmentPlan) error {
	names := make([]string, 0, len(sp.ranges))
	for name := range sp.ranges {
		names = append(names, name)
	}
	slices.Sort(names)
	rb := segment.NewRecordBuilder(memory.DefaultAllocator)
	defer rb.Release()
	bb := eventBatches{w: w, rb: rb}
	for _, name := range names {
		r := sp.ranges[name]
		for next := r.lo; next <= r.hi; {
			evs, err := sp.r.Read(ctx, name, next, int(min(r.hi-next+1, uint64(w.x.opts.BatchRows))), 0)
			if err != nil {
				return err
			}
			if len(evs) == 0 {
				break
			}
			for i := range evs {
				if evs[i].Seq > r.hi {
					break
				}
				w.stats.ColdRows++
				w.stats.ColdBytes += int64(evs[i].Size())
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
	w  *worker
	rb *segment.RecordBuilder
	n  int
}

func (bb *eventBatches) add(ctx context.Context, e *event.Event) error {
	bb.rb.Append(e)
	if bb.n++; bb.n >= bb.w.x.opts.BatchRows {
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
	b, err := batchFromRecord(rec, bb.w.x.c.req.Project)
	if err != nil {
		return err
	}
	return bb.w.process(ctx, &b, bb.w.all(b.Len))
}

// hotBuilders keeps the hot-tier batch builders of finished queries, so
// that a query of the hot tier reuses their buffers.
var hotBuilders sync.Pool

// readHot reads one stream's hot range into batches of the columns the
// query needs.
func (w *worker) readHot(ctx context.Context, pt *part) error {
	if w.hot == nil {
		cols := w.x.columnNames(true)
		if len(cols) == 0 {
			cols = []string{segment.ColumnSeq} // a count: any column gives the rows
		}
		cb, _ := hotBuilders.Get().(*segment.ColumnBuilder)
		if cb == nil {
			cb = &segment.ColumnBuilder{}
		}
		if err := cb.Select(cols); err != nil {
			return err
		}
		cb.SelectKeys(w.x.c.attrKeys, w.x.c.metricKeys)
		w.hot = cb
	}
	cb := w.hot
	flush := func() error {
		if cb.Rows() == 0 {
			return nil
		}
		rec := cb.Build()
		defer rec.Release()
		b, err := batchFromRecord(rec, w.x.c.req.Project)
		if err != nil {
			return err
		}
		return w.process(ctx, &b, w.all(b.Len))
	}
	err := w.x.v.ScanHot(ctx, pt.x, pt.hotLo, pt.hotHi, func(r *record.Stored) error {
		w.stats.HotRows++
		if err := cb.AppendRecord(pt.x.Name, r.Seq, r.IngestTime, r.ContentType, r.Body); err != nil {
			return err
		}
		if cb.Rows() >= w.x.opts.BatchRows {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// all returns the worker's selection vector, sized n, every row selected.
func (w *worker) all(n int) []bool {
	if cap(w.sel) < n {
		w.sel = make([]bool, n)
	}
	sel := w.sel[:n]
	for i := range sel {
		sel[i] = true
	}
	return sel
}

// process applies the time ranges and the filter, then feeds the sink.
// It looks at ctx before the batch, and the filter looks at it within
// (stopper), so that a query whose client has gone ends within about a
// millisecond of filter work however long the batch's rows are.
func (w *worker) process(ctx context.Context, b *Batch, sel []bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &w.x.c.req
	if !req.From.IsZero() || !req.To.IsZero() {
		timeMask(b.Time, clampNanos(req.From), clampNanos(req.To), !req.From.IsZero(), !req.To.IsZero(), sel)
	}
	if !req.IngestFrom.IsZero() || !req.IngestTo.IsZero() {
		timeMask(b.IngestTime, clampNanos(req.IngestFrom), clampNanos(req.IngestTo), !req.IngestFrom.IsZero(), !req.IngestTo.IsZero(), sel)
	}
	if w.x.c.pred != nil {
		w.x.c.pred.eval(b, sel, w.stop)
		if err := ctx.Err(); err != nil {
			return err // the filter may have stopped half way
		}
	}
	for _, s := range sel {
		if s {
			w.stats.Matched++
		}
	}
	if w.agg != nil {
		return w.agg.add(b, sel)
	}
	w.x.mu.Lock()
	defer w.x.mu.Unlock()
	return w.x.sink.add(b, sel)
}

// clampNanos is t in Unix nanoseconds, saturated to the int64 range:
// UnixNano is undefined before 1678 and after 2262, and a bound there must
// still take every event on its side.
func clampNanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
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
		if d, ok := col.(*array.Dictionary); ok {
			bit := columnNamed(f.Name)
			if bit&dictColumns == 0 {
				return b, fmt.Errorf("%w: column %s is %s", segment.ErrCorrupt, f.Name, col.DataType())
			}
			if b.Codes == nil {
				b.Codes = map[columnSet]*array.Dictionary{}
			}
			b.Codes[bit] = d
			continue
		}
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
