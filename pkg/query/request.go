package query

import "time"

// Request is one query over one project's events.
type Request struct {
	Project string
	// Scope: Streams lists streams by name; StreamPrefix takes every stream
	// whose name starts with it; neither means every stream of the project.
	Streams      []string
	StreamPrefix string
	// Time bounds event time: From <= time < To (zero: unbounded). Events
	// without a time match only an unbounded range.
	From, To time.Time
	// IngestFrom and IngestTo bound the ingest time the same way.
	IngestFrom, IngestTo time.Time
	// FromSeq and ToSeq bound seqs (inclusive, 0: unbounded); they need
	// exactly one stream in Streams.
	FromSeq, ToSeq uint64
	// Filter selects events; nil takes every event in range.
	Filter *Filter
	// GroupBy and Aggregates make an aggregate query: one row per group
	// (one row in all without GroupBy). Without Aggregates the query lists
	// events.
	GroupBy    []GroupKey
	Aggregates []Aggregate
	// Fields projects listed events (nil: every field).
	Fields []Field
	// Order, Limit and PageToken page through listed events, or through
	// the rows of an aggregate query, which come sorted by group key.
	Order     Order
	Limit     int
	PageToken string
	// Explain returns the plan as text with the result.
	Explain bool
}

// Order is the order of listed events.
type Order int

// Orders. By seq sorts by stream, then seq.
const (
	OrderTimeAsc Order = iota
	OrderTimeDesc
	OrderSeqAsc
	OrderSeqDesc
)

// GroupKey is one key of a group-by: a field, or a time bucket.
type GroupKey struct {
	// Field groups by its value; for a Bucket it is the time field
	// bucketed (FieldTime or FieldIngestTime).
	Field Field
	// Bucket, when set, groups the time field into buckets.
	Bucket *Bucket
	// Name is the result column's name ("" : derived from the key).
	Name string
}

// Calendar is a calendar bucket unit.
type Calendar int

// Calendar units: buckets start at midnight in the bucket's zone; weeks on
// Monday (ISO 8601).
const (
	CalendarNone Calendar = iota
	CalendarDay
	CalendarWeek
	CalendarMonth
)

// Bucket is a time bucket: a fixed Width (at least a second), or a
// calendar Unit in Zone.
type Bucket struct {
	Width time.Duration
	Unit  Calendar
	Zone  *time.Location
}

// AggFunc is an aggregate function.
type AggFunc int

// Aggregate functions.
const (
	AggCount AggFunc = iota + 1
	AggCountDistinct
	AggSum
	AggAvg
	AggMin
	AggMax
	AggPercentile
	// AggRate is the count per second of the group's time bucket (of the
	// query's time range without a bucket).
	AggRate
)

// Aggregate is one aggregate column.
type Aggregate struct {
	Func AggFunc
	// Field is what Sum, Avg, Min, Max and Percentile take (a metric, or a
	// JSON path with numeric values), and what CountDistinct counts. Count
	// with a Field counts events that have it.
	Field *Field
	// Percentile is in (0, 100] for AggPercentile.
	Percentile float64
	// Name is the result column's name ("": derived).
	Name string
}
