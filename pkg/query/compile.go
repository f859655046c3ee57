package query

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Limits of a request.
const (
	// DefaultLimit is the page size when Request.Limit is 0.
	DefaultLimit = 1000
	// MaxLimit caps Request.Limit.
	MaxLimit = 100_000
)

// compiled is a checked request, ready to plan.
type compiled struct {
	req  Request
	pred *predicate // nil: every event in range
	keys []groupKey
	aggs []aggregate
	// cols are the columns execution reads besides stream and seq.
	cols columnSet
	// dictCols are the columns of cols that only group keys read, and
	// that a scan may therefore deliver as dictionary indices alone.
	dictCols columnSet
	// attrKeys and metricKeys are the only map keys the query reads (nil:
	// it needs whole maps).
	attrKeys, metricKeys []string
	// types, when not nil, are the only event types the filter can take
	// (from a top-level type = or type in): row groups whose statistics
	// exclude them all are skipped.
	types []string
	limit int
	// maxPageBytes caps a listing page (Options.MaxPageBytes).
	maxPageBytes int
	// after is the page token's order key of a listing (nil: first page).
	after *orderKey
}

// aggregating reports whether the request aggregates rather than lists.
func (c *compiled) aggregating() bool { return len(c.aggs) > 0 }

// compile checks req against the engine's options.
func compile(req Request, opts Options) (*compiled, error) {
	c := &compiled{req: req, limit: req.Limit, maxPageBytes: opts.MaxPageBytes}
	if req.Project == "" {
		return nil, invalid("project", "required")
	}
	if c.limit == 0 {
		c.limit = DefaultLimit
	}
	if c.limit < 0 || c.limit > MaxLimit {
		return nil, invalid("limit", "must be between 0 and %d", MaxLimit)
	}
	if len(req.Streams) > 0 && req.StreamPrefix != "" {
		return nil, invalid("stream_prefix", "give streams or stream_prefix, not both")
	}
	if (req.FromSeq > 0 || req.ToSeq > 0) && len(req.Streams) != 1 {
		return nil, invalid("seq", "a seq range needs exactly one stream in streams")
	}
	if req.ToSeq > 0 && req.FromSeq > req.ToSeq {
		return nil, invalid("seq", "from_seq %d is after to_seq %d", req.FromSeq, req.ToSeq)
	}
	if err := checkRange("time", req.From, req.To); err != nil {
		return nil, err
	}
	if err := checkRange("ingest_time", req.IngestFrom, req.IngestTo); err != nil {
		return nil, err
	}
	if opts.MaxTimeRange > 0 && req.FromSeq == 0 && req.ToSeq == 0 {
		if span, ok := c.span(); !ok || span > opts.MaxTimeRange {
			return nil, invalid("time", "a query may span at most %v of time or ingest_time (the server's --query-max-range); this one spans %s", opts.MaxTimeRange, spanText(span, ok))
		}
	}
	if req.Filter != nil {
		p, err := compileFilter(req.Filter)
		if err != nil {
			field := "filter"
			if fe := (*filterError)(nil); errors.As(err, &fe) {
				field = fe.path()
			}
			return nil, &InvalidError{Field: field, Reason: err.Error()}
		}
		c.pred = p
		c.cols |= p.columns()
		c.types = typeConstraint(req.Filter)
	}
	if !req.From.IsZero() || !req.To.IsZero() {
		c.cols |= colTime
	}
	if !req.IngestFrom.IsZero() || !req.IngestTo.IsZero() {
		c.cols |= colIngestTime
	}
	if len(req.Aggregates) == 0 {
		if len(req.GroupBy) > 0 {
			return nil, invalid("group_by", "grouping needs at least one aggregation")
		}
		return c, c.compileListing()
	}
	if req.Order != OrderTimeAsc {
		return nil, invalid("order", "an aggregate query returns rows sorted by group key; order applies to listed events")
	}
	if _, err := decodeOffset(req.PageToken); err != nil {
		return nil, err
	}
	if len(req.Fields) > 0 {
		return nil, invalid("fields", "fields project listed events; an aggregate query returns its group keys and aggregates")
	}
	names := map[string]string{}
	for i, k := range req.GroupBy {
		gk, err := compileGroupKey(k, fmt.Sprintf("group_by[%d]", i))
		if err != nil {
			return nil, err
		}
		if prev, dup := names[gk.name]; dup {
			return nil, invalid(fmt.Sprintf("group_by[%d].name", i), "column %q is also %s", gk.name, prev)
		}
		names[gk.name] = fmt.Sprintf("group_by[%d]", i)
		c.keys = append(c.keys, gk)
		c.cols |= columnOf(gk.field.Kind)
	}
	for i, a := range req.Aggregates {
		ag, err := compileAggregate(a, fmt.Sprintf("aggregations[%d]", i), c)
		if err != nil {
			return nil, err
		}
		if prev, dup := names[ag.name]; dup {
			return nil, invalid(fmt.Sprintf("aggregations[%d].name", i), "column %q is also %s; name one of them", ag.name, prev)
		}
		names[ag.name] = fmt.Sprintf("aggregations[%d]", i)
		c.aggs = append(c.aggs, ag)
		if ag.field != nil {
			c.cols |= columnOf(ag.field.Kind)
		}
	}
	c.dictCols = c.keyOnlyColumns()
	c.attrKeys, c.metricKeys = c.mapKeys()
	return c, nil
}

// mapKeys are the attribute and metric keys an aggregating query reads, so
// that hot batches keep only them; a listing returns whole maps (nil: every
// key).
func (c *compiled) mapKeys() (attrs, metrics []string) {
	if !c.aggregating() {
		return nil, nil
	}
	attrs, metrics = []string{}, []string{}
	add := func(f Field) {
		switch f.Kind {
		case FieldAttribute:
			attrs = append(attrs, f.Key)
		case FieldMetric:
			metrics = append(metrics, f.Key)
		}
	}
	var walk func(f *Filter)
	walk = func(f *Filter) {
		if f == nil {
			return
		}
		add(f.Field)
		for _, a := range f.Args {
			walk(a)
		}
	}
	walk(c.req.Filter)
	for _, k := range c.keys {
		add(k.field)
	}
	for _, a := range c.aggs {
		if a.field != nil {
			add(*a.field)
		}
	}
	return attrs, metrics
}

// dictColumns are the columns a segment may store dictionary-encoded.
const dictColumns = colStream | colType | colSource | colContentType

// keyOnlyColumns are the dictionary-encoded columns that group keys read
// and nothing else does: not the filter, not an aggregate.
func (c *compiled) keyOnlyColumns() columnSet {
	var keys, others columnSet
	for _, gk := range c.keys {
		if gk.bucket == nil {
			keys |= columnOf(gk.field.Kind)
		}
	}
	if c.pred != nil {
		others |= c.pred.columns()
	}
	for _, a := range c.aggs {
		if a.field != nil {
			others |= columnOf(a.field.Kind)
		}
	}
	return keys & dictColumns &^ others
}

// checkRange fails when a range's end is not after its start.
func checkRange(field string, from, to time.Time) error {
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return invalid(field, "end %s is not after start %s", to.Format(time.RFC3339Nano), from.Format(time.RFC3339Nano))
	}
	return nil
}

// span is the longer of the request's two time ranges when one is bounded
// on both ends (false: neither is).
func (c *compiled) span() (time.Duration, bool) {
	var d time.Duration
	ok := false
	if !c.req.From.IsZero() && !c.req.To.IsZero() {
		d, ok = c.req.To.Sub(c.req.From), true
	}
	if !c.req.IngestFrom.IsZero() && !c.req.IngestTo.IsZero() {
		if e := c.req.IngestTo.Sub(c.req.IngestFrom); !ok || e < d {
			d, ok = e, true
		}
	}
	return d, ok
}

func spanText(d time.Duration, ok bool) string {
	if !ok {
		return "an unbounded range"
	}
	return d.String()
}

// compileListing checks the fields and order of a listing query.
func (c *compiled) compileListing() error {
	for i, f := range c.req.Fields {
		if f.Kind == 0 {
			return invalid(fmt.Sprintf("fields[%d]", i), "unknown field")
		}
	}
	switch c.req.Order {
	case OrderTimeAsc, OrderTimeDesc, OrderSeqAsc, OrderSeqDesc:
	default:
		return invalid("order", "unknown order %d", c.req.Order)
	}
	if c.req.PageToken != "" {
		k, err := decodeKey(c.req.Order, c.req.PageToken)
		if err != nil {
			return err
		}
		c.after = &k
	}
	c.cols |= colStream | colSeq | colTime | colIngestTime // the order key, and the page token
	if len(c.req.Fields) == 0 {
		c.cols |= colID | colType | colSource | colSubject | colAttributes | colMetrics | colContentType | colData | colDataBinary
	}
	for _, f := range c.req.Fields {
		c.cols |= columnOf(f.Kind)
		if f.Kind == FieldData || f.Kind == FieldDataPath {
			c.cols |= colContentType | colDataBinary
		}
	}
	return nil
}

// typeConstraint returns the types a filter limits events to through a
// type = or type in at its top level (or under a top-level and), or nil.
func typeConstraint(f *Filter) []string {
	switch f.Op {
	case OpCompare:
		if f.Field.Kind == FieldType && f.Cmp == Eq && f.Value.Type == TypeString {
			return []string{f.Value.Str}
		}
	case OpIn:
		if f.Field.Kind != FieldType {
			return nil
		}
		var out []string
		for _, v := range f.Values {
			if v.Type != TypeString {
				return nil
			}
			out = append(out, v.Str)
		}
		return out
	case OpAnd:
		for _, a := range f.Args {
			if t := typeConstraint(a); t != nil {
				return t
			}
		}
	}
	return nil
}

// groupKey is a compiled GroupKey.
type groupKey struct {
	field  Field
	spec   *fieldSpec // nil for a bucket
	bucket *Bucket
	name   string
	typ    ValueType
}

func compileGroupKey(k GroupKey, at string) (groupKey, error) {
	gk := groupKey{field: k.Field, bucket: k.Bucket, name: k.Name}
	if k.Bucket != nil {
		if k.Field.Kind != FieldTime && k.Field.Kind != FieldIngestTime {
			return gk, invalid(at+".time_bucket.field", "buckets take time or ingest_time, not %s", k.Field)
		}
		b := k.Bucket
		switch {
		case b.Unit == CalendarNone && b.Width < time.Second:
			return gk, invalid(at+".time_bucket", "give a width of at least 1s or a calendar unit")
		case b.Unit != CalendarNone && b.Width != 0:
			return gk, invalid(at+".time_bucket", "give a width or a calendar unit, not both")
		case b.Unit > CalendarMonth:
			return gk, invalid(at+".time_bucket.calendar", "unknown calendar unit %d", b.Unit)
		case b.Unit == CalendarNone && b.Zone != nil:
			return gk, invalid(at+".time_bucket.time_zone", "fixed-width buckets are aligned to the Unix epoch; a time zone applies only to calendar units")
		}
		if gk.name == "" {
			gk.name = "bucket"
		}
		gk.typ = TypeTime
		return gk, nil
	}
	if k.Field.Kind == 0 {
		return gk, invalid(at+".field", "unknown field")
	}
	if k.Field.Kind == FieldData {
		return gk, invalid(at+".field", "cannot group by the whole data text; group by a JSON path into it")
	}
	spec, err := compileField(k.Field)
	if err != nil {
		return gk, invalid(at+".field", "%v", err)
	}
	gk.spec = spec
	if gk.name == "" {
		gk.name = k.Field.String()
	}
	gk.typ = k.Field.Type()
	return gk, nil
}

// aggregate is a compiled Aggregate.
type aggregate struct {
	fn    AggFunc
	field *Field
	spec  *fieldSpec // of field
	p     float64    // percentile in [0, 1]
	name  string
	typ   ValueType
}

func compileAggregate(a Aggregate, at string, c *compiled) (aggregate, error) {
	ag := aggregate{fn: a.Func, field: a.Field, name: a.Name}
	numeric := func() error {
		if a.Field == nil {
			return invalid(at+".field", "%s needs a numeric field: a metric (metrics.<key>), seq or a JSON path to numbers", funcName(a.Func))
		}
		switch a.Field.Kind {
		case FieldMetric, FieldSeq, FieldDataPath:
			return nil
		}
		return invalid(at+".field", "%s needs a numeric field; %s holds %s values", funcName(a.Func), a.Field, a.Field.Type())
	}
	switch a.Func {
	case AggCount:
		ag.typ = TypeInt
	case AggCountDistinct:
		if a.Field == nil {
			return ag, invalid(at+".field", "count_distinct needs a field")
		}
		if a.Field.Kind == FieldData {
			return ag, invalid(at+".field", "count_distinct of the whole data text is not supported; count a JSON path")
		}
		ag.typ = TypeInt
	case AggSum, AggAvg, AggMin, AggMax:
		if err := numeric(); err != nil {
			return ag, err
		}
		ag.typ = TypeFloat
	case AggPercentile:
		if err := numeric(); err != nil {
			return ag, err
		}
		if !(a.Percentile > 0 && a.Percentile <= 100) {
			return ag, invalid(at+".percentile", "must be in (0, 100], got %v", a.Percentile)
		}
		ag.p = a.Percentile / 100
		ag.typ = TypeFloat
	case AggRate:
		if a.Field != nil {
			return ag, invalid(at+".field", "rate counts events; it takes no field")
		}
		if !c.hasBucket() {
			if c.req.From.IsZero() || c.req.To.IsZero() {
				return ag, invalid(at, "rate without a time bucket needs a time range with both ends")
			}
		}
		ag.typ = TypeFloat
	default:
		return ag, invalid(at+".function", "unknown aggregate function %d", a.Func)
	}
	if a.Field != nil {
		spec, err := compileField(*a.Field)
		if err != nil {
			return ag, invalid(at+".field", "%v", err)
		}
		ag.spec = spec
	}
	if ag.name == "" {
		ag.name = defaultAggName(a)
	}
	return ag, nil
}

// hasBucket reports whether a group key is a time bucket.
func (c *compiled) hasBucket() bool {
	for _, k := range c.req.GroupBy {
		if k.Bucket != nil {
			return true
		}
	}
	return false
}

func funcName(f AggFunc) string {
	switch f {
	case AggCount:
		return "count"
	case AggCountDistinct:
		return "count_distinct"
	case AggSum:
		return "sum"
	case AggAvg:
		return "avg"
	case AggMin:
		return "min"
	case AggMax:
		return "max"
	case AggPercentile:
		return "percentile"
	case AggRate:
		return "rate"
	}
	return fmt.Sprintf("aggregate(%d)", f)
}

// defaultAggName names an aggregate column: count, count(attributes.k),
// p99(metrics.duration), sum(metrics.bytes) …
func defaultAggName(a Aggregate) string {
	fn := funcName(a.Func)
	if a.Func == AggPercentile {
		fn = "p" + strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%f", a.Percentile), "0"), ".")
	}
	if a.Field == nil {
		return fn
	}
	return fn + "(" + a.Field.String() + ")"
}
