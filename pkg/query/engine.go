package query

import (
	"context"
	"time"

	"github.com/silt-io/silt/pkg/event"
)

// Options configure an Engine; zero fields take defaults.
type Options struct {
	// MaxTimeRange, when positive, rejects queries that do not bound time
	// or ingest_time to at most this span (seq-range queries excepted).
	MaxTimeRange time.Duration
	// MaxGroups caps the groups of an aggregate query (default 100,000);
	// more is a ResourceExhausted error, never a partial answer.
	MaxGroups int
	// MaxAggregateBytes bounds the memory of an aggregation's state (group
	// keys, exact distinct sets and percentile values) in each of its
	// partial aggregations (default DefaultMaxAggregateBytes). Past it,
	// exact distinct counts and percentiles switch to their sketches
	// (Column.Approximate); if that is not enough, the query fails with
	// ResourceExhausted, never a partial answer.
	MaxAggregateBytes int
	// BatchRows is the rows of each Arrow batch (default 16,384).
	BatchRows int
	// MaxPageBytes caps a listing page's events (their encoded size, as
	// event.Event.Size counts it; default DefaultMaxPageBytes): a page
	// stops early, with a page token, rather than hold more. One event is
	// always returned.
	MaxPageBytes int
}

// DefaultMaxAggregateBytes is Options.MaxAggregateBytes' default.
const DefaultMaxAggregateBytes = 256 << 20

// DefaultMaxPageBytes is Options.MaxPageBytes' default.
const DefaultMaxPageBytes = 4 << 20

// Stats say what a query read.
type Stats struct {
	// Segments of the project, and those the manifest ruled out.
	Segments, SegmentsPruned int
	// RowGroups of the segments not ruled out, and those their ranges and
	// statistics ruled out.
	RowGroups, RowGroupsPruned int
	// ColdRows and ColdBytes are the rows decoded from segments and the
	// compressed bytes of their column chunks.
	ColdRows, ColdBytes int64
	// HotRows is the events read from the hot tier.
	HotRows int64
	// Matched is the events that passed the ranges and the filter.
	Matched int64
	// Elapsed is the time the query took.
	Elapsed time.Duration
}

// Column describes a result column.
type Column struct {
	Name string
	// Type of the values; TypeNull for a JSON path, whose values' types
	// vary row by row.
	Type ValueType
	// Approximate is set when a sketch gave some of the values.
	Approximate bool
}

// Result is a page of a query's answer.
type Result struct {
	// Columns and Rows answer an aggregate query: rows sorted by group key.
	Columns []Column
	Rows    [][]Value
	// Events answer a listing query, with only the requested fields set.
	Events []event.Event
	// NextPageToken continues after this page ("" on the last).
	NextPageToken string
	Stats         Stats
	// Plan is the plan as text, when the request asked to explain.
	Plan string
}

// Engine runs queries over a Source.
type Engine struct {
	src  Source
	opts Options
}

// New returns an Engine over src.
func New(src Source, opts Options) *Engine {
	if opts.MaxGroups <= 0 {
		opts.MaxGroups = 100_000
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = 16 << 10
	}
	if opts.MaxAggregateBytes <= 0 {
		opts.MaxAggregateBytes = DefaultMaxAggregateBytes
	}
	if opts.MaxPageBytes <= 0 {
		opts.MaxPageBytes = DefaultMaxPageBytes
	}
	return &Engine{src: src, opts: opts}
}

// Query runs req. Errors are *InvalidError for requests the engine cannot
// run, event.ErrResultTooLarge (wrapped) for results past a cap, event.ErrStreamNotFound
// for a named stream that does not exist, and the context's error when it
// ends first.
func (e *Engine) Query(ctx context.Context, req Request) (*Result, error) {
	start := time.Now()
	c, err := compile(req, e.opts)
	if err != nil {
		return nil, err
	}
	var res *Result
	err = e.src.View(ctx, func(v View) error {
		p, err := (&planner{c: c, v: v}).plan(ctx)
		if err != nil {
			return err
		}
		x := newExecutor(c, p, v, e.opts)
		if err := x.run(ctx); err != nil {
			return err
		}
		res, err = x.sink.result()
		if err != nil {
			return err
		}
		res.Stats = x.stats
		if req.Explain {
			res.Plan = p.String()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Stats.Elapsed = time.Since(start)
	return res, nil
}
