package duckcheck

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
	"github.com/silt-io/silt/pkg/event"
)

// This file turns the answers of Silt and of DuckDB into comparable Go
// values and compares them; and builds query requests tersely.

// epochNS is a time in a result row, as nanoseconds since 1970: a type of
// its own, so that a time never equals an int.
type epochNS int64

// floatTolerance is the relative difference allowed between two doubles:
// sums, means and interpolated percentiles may round differently.
const floatTolerance = 1e-9

// siltValue is a result value of Silt as a Go value: nil, string, int64,
// float64, epochNS or bool.
func siltValue(v *siltv1.QueryValue) any {
	switch k := v.GetKind().(type) {
	case *siltv1.QueryValue_StringValue:
		return k.StringValue
	case *siltv1.QueryValue_IntValue:
		return k.IntValue
	case *siltv1.QueryValue_DoubleValue:
		return k.DoubleValue
	case *siltv1.QueryValue_TimeValue:
		return epochNS(k.TimeValue.AsTime().UnixNano())
	case *siltv1.QueryValue_BoolValue:
		return k.BoolValue
	}
	return nil
}

// duckValue is a value DuckDB scanned as the same Go values as siltValue.
// Other types (UBIGINT, HUGEINT, DECIMAL…) are an error: the SQL must cast
// to what Silt returns (BIGINT for counts, DOUBLE for numbers).
func duckValue(v any) (any, error) {
	switch v := v.(type) {
	case nil, string, int64, float64, bool:
		return v, nil
	case time.Time:
		return epochNS(v.UnixNano()), nil
	}
	return nil, fmt.Errorf("DuckDB returned %T %v: cast it in the SQL", v, v)
}

// sameValue reports whether a and b are equal; doubles within floatTolerance.
func sameValue(a, b any) bool {
	fa, ok1 := a.(float64)
	fb, ok2 := b.(float64)
	if ok1 && ok2 {
		if fa == fb {
			return true
		}
		return math.Abs(fa-fb) <= floatTolerance*math.Max(math.Abs(fa), math.Abs(fb))
	}
	return a == b
}

// diffRows describes the first difference between Silt's rows and
// DuckDB's, or returns "".
func diffRows(silt, duck [][]any) string {
	for i := range min(len(silt), len(duck)) {
		if len(silt[i]) != len(duck[i]) {
			return fmt.Sprintf("row %d: Silt has %d columns, DuckDB %d", i, len(silt[i]), len(duck[i]))
		}
		for j := range silt[i] {
			if !sameValue(silt[i][j], duck[i][j]) {
				return fmt.Sprintf("row %d, column %d: Silt %s, DuckDB %s\n  Silt row:   %s\n  DuckDB row: %s",
					i, j, show(silt[i][j]), show(duck[i][j]), showRow(silt[i]), showRow(duck[i]))
			}
		}
	}
	if len(silt) != len(duck) {
		n := min(len(silt), len(duck))
		extra, who := duck, "DuckDB"
		if len(silt) > len(duck) {
			extra, who = silt, "Silt"
		}
		return fmt.Sprintf("Silt has %d rows, DuckDB %d; first extra row (%s): %s", len(silt), len(duck), who, showRow(extra[n]))
	}
	return ""
}

// show prints a value with its type.
func show(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case epochNS:
		return "time " + time.Unix(0, int64(v)).UTC().Format(time.RFC3339Nano)
	case string:
		return fmt.Sprintf("%q", v)
	case float64:
		return fmt.Sprintf("double %.17g", v)
	}
	return fmt.Sprintf("%T %v", v, v)
}

func showRow(r []any) string {
	s := make([]string, len(r))
	for i, v := range r {
		s[i] = show(v)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// siltAnswer is Silt's answer to an aggregate query: every page's rows.
type siltAnswer struct {
	rows  [][]any
	cols  []*siltv1.Column
	stats *siltv1.QueryStats // of the first page
	plan  string             // of the first page, when asked for
	pages int
}

// siltRows runs an aggregate query through the API, following page tokens
// (at most 1,000 pages). Every page but the last must be full, and no
// column approximate: the data set keeps every group in the exact regime.
func siltRows(ctx context.Context, c siltv1connect.QueryServiceClient, req *siltv1.QueryRequest) (siltAnswer, error) {
	var a siltAnswer
	limit := int(req.GetLimit())
	if limit == 0 {
		limit = 1000
	}
	for page := 0; page < 1000; page++ {
		res, err := c.Query(ctx, connect.NewRequest(req))
		if err != nil {
			return a, err
		}
		m := res.Msg
		a.pages++
		if page == 0 {
			a.cols, a.stats, a.plan = m.GetColumns(), m.GetStats(), m.GetPlan()
		} else if len(m.GetColumns()) != len(a.cols) {
			return a, fmt.Errorf("page %d has %d columns, page 0 had %d", page, len(m.GetColumns()), len(a.cols))
		}
		if len(m.GetEvents()) > 0 {
			return a, fmt.Errorf("an aggregate query returned %d events", len(m.GetEvents()))
		}
		for _, r := range m.GetRows() {
			if len(r.GetValues()) != len(a.cols) {
				return a, fmt.Errorf("row of %d values, %d columns", len(r.GetValues()), len(a.cols))
			}
			row := make([]any, len(a.cols))
			for i, v := range r.GetValues() {
				row[i] = siltValue(v)
			}
			a.rows = append(a.rows, row)
		}
		for _, col := range m.GetColumns() {
			if col.GetApproximate() {
				return a, fmt.Errorf("column %s is approximate", col.GetName())
			}
		}
		if m.GetNextPageToken() == "" {
			return a, nil
		}
		if len(m.GetRows()) != limit {
			return a, fmt.Errorf("page %d has %d rows and a next page; want %d", page, len(m.GetRows()), limit)
		}
		req = proto.CloneOf(req)
		req.PageToken = m.GetNextPageToken()
	}
	return a, fmt.Errorf("more than 1000 pages")
}

// duckRows runs a query in DuckDB and returns its rows as siltValue does.
func duckRows(ctx context.Context, db *sql.DB, q string) ([][]any, error) {
	rs, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]any
	for rs.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i := range row {
			if row[i], err = duckValue(row[i]); err != nil {
				return nil, fmt.Errorf("column %s: %w", cols[i], err)
			}
		}
		out = append(out, row)
	}
	return out, rs.Err()
}

// eventKey names an event of the data set.
type eventKey struct {
	stream string
	seq    uint64
}

// duckKeys runs a query that selects stream and seq, and returns them in order.
func duckKeys(ctx context.Context, db *sql.DB, q string) ([]eventKey, error) {
	rs, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []eventKey
	for rs.Next() {
		var k eventKey
		if err := rs.Scan(&k.stream, &k.seq); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rs.Err()
}

// diffListed describes how a listed event differs from the appended event
// want projected to fields (none: every field), or returns "". Fields not
// projected must be unset.
func diffListed(got *siltv1.Event, want *event.Event, fields []string) string {
	all := len(fields) == 0
	has := func(f string) bool { return all || slices.Contains(fields, f) }
	withData := all || slices.ContainsFunc(fields, func(f string) bool { return f == "data" || strings.HasPrefix(f, "$") })
	str := func(name, g, w string, projected bool) string {
		if !projected {
			w = ""
		}
		if g != w {
			return fmt.Sprintf("%s: got %q, want %q", name, g, w)
		}
		return ""
	}
	// presence tells an unset string (absent) from an empty one.
	presence := func(name string, g *string, w, projected bool) string {
		if projected && (g != nil) != w {
			return fmt.Sprintf("%s: got present %v, want %v", name, g != nil, w)
		}
		return ""
	}
	tm := func(name string, g *timestamppb.Timestamp, w time.Time, projected bool) string {
		switch {
		case !projected || w.IsZero():
			if g != nil {
				return fmt.Sprintf("%s: got %s, want none", name, g.AsTime().Format(time.RFC3339Nano))
			}
		case g == nil:
			return fmt.Sprintf("%s: got none, want %s", name, w.Format(time.RFC3339Nano))
		case !g.AsTime().Equal(w):
			return fmt.Sprintf("%s: got %s, want %s", name, g.AsTime().Format(time.RFC3339Nano), w.Format(time.RFC3339Nano))
		}
		return ""
	}
	if d := cmp.Or(
		str("project", got.GetProject(), want.Project, true),
		str("stream", got.GetStream(), want.Stream, true),
	); d != "" {
		return d
	}
	if got.GetSeq() != want.Seq {
		return fmt.Sprintf("seq: got %d, want %d", got.GetSeq(), want.Seq)
	}
	return cmp.Or(
		str("id", got.GetId(), want.ID, has("id")),
		str("type", got.GetType(), want.Type, has("type")),
		str("source", got.GetSource(), want.Source, has("source")),
		str("subject", got.GetSubject(), want.Subject, has("subject")),
		presence("source", got.Source, want.HasSource(), has("source")),
		presence("subject", got.Subject, want.HasSubject(), has("subject")),
		tm("time", got.GetTime(), cmp.Or(want.Time, want.IngestTime), has("time")), // none: the ingest time
		tm("ingest_time", got.GetIngestTime(), want.IngestTime, has("ingest_time")),
		diffProjectedMap("attributes", got.GetAttributes(), want.Attributes, all, keysOf(fields, "attributes."), func(a, b string) bool { return a == b }),
		diffProjectedMap("metrics", got.GetMetrics(), want.Metrics, all, keysOf(fields, "metrics."), func(a, b float64) bool { return a == b }),
		str("content_type", got.GetContentType(), want.ContentType, withData || has("content_type")),
		diffPayload(got, want, withData),
	)
}

// keysOf returns the keys of the fields named prefix+key.
func keysOf(fields []string, prefix string) []string {
	var keys []string
	for _, f := range fields {
		if k, ok := strings.CutPrefix(f, prefix); ok {
			keys = append(keys, k)
		}
	}
	return keys
}

// diffProjectedMap compares a listed map with want's entries of keys (all:
// every entry); an empty map equals none.
func diffProjectedMap[V any](name string, got, want map[string]V, all bool, keys []string, eq func(a, b V) bool) string {
	w := map[string]V{}
	for k, v := range want {
		if all || slices.Contains(keys, k) {
			w[k] = v
		}
	}
	if len(got) != len(w) || !maps.EqualFunc(got, w, eq) {
		return fmt.Sprintf("%s: got %v, want %v", name, got, w)
	}
	return ""
}

// diffPayload compares the listed payload with want's data: JSON by value
// (the API sends it as a google.protobuf.Value), anything else by bytes.
func diffPayload(got *siltv1.Event, want *event.Event, projected bool) string {
	switch p := got.GetPayload().(type) {
	case nil:
		if projected && want.HasPayload() {
			return "payload: got none"
		}
		return ""
	case *siltv1.Event_Data:
		if !projected || !want.IsJSON() {
			return fmt.Sprintf("payload: got JSON %v, want %s", p.Data.AsInterface(), payloadText(want, projected))
		}
		var w any
		if err := json.Unmarshal(want.Data, &w); err != nil {
			return fmt.Sprintf("payload: the test sent invalid JSON: %v", err)
		}
		if g := p.Data.AsInterface(); !reflect.DeepEqual(g, w) {
			return fmt.Sprintf("payload: got JSON %v, want %s", g, want.Data)
		}
	case *siltv1.Event_BinaryData:
		if !projected || want.IsJSON() || !want.HasPayload() || !bytes.Equal(p.BinaryData, want.Data) {
			return fmt.Sprintf("payload: got bytes %q, want %s", p.BinaryData, payloadText(want, projected))
		}
	}
	return ""
}

func payloadText(want *event.Event, projected bool) string {
	if !projected {
		return "none"
	}
	return fmt.Sprintf("%s %q", want.ContentType, want.Data)
}

// Request builders.

func strV(s string) *siltv1.QueryValue {
	return &siltv1.QueryValue{Kind: &siltv1.QueryValue_StringValue{StringValue: s}}
}

func intV(i int64) *siltv1.QueryValue {
	return &siltv1.QueryValue{Kind: &siltv1.QueryValue_IntValue{IntValue: i}}
}

func floatV(f float64) *siltv1.QueryValue {
	return &siltv1.QueryValue{Kind: &siltv1.QueryValue_DoubleValue{DoubleValue: f}}
}

func boolV(b bool) *siltv1.QueryValue {
	return &siltv1.QueryValue{Kind: &siltv1.QueryValue_BoolValue{BoolValue: b}}
}

func timeV(t time.Time) *siltv1.QueryValue {
	return &siltv1.QueryValue{Kind: &siltv1.QueryValue_TimeValue{TimeValue: timestamppb.New(t)}}
}

func compare(field string, op siltv1.CompareOp, v *siltv1.QueryValue) *siltv1.Filter {
	return &siltv1.Filter{Kind: &siltv1.Filter_Compare{Compare: &siltv1.Comparison{Field: field, Op: op, Value: v}}}
}

func eq(field string, v *siltv1.QueryValue) *siltv1.Filter {
	return compare(field, siltv1.CompareOp_COMPARE_OP_EQ, v)
}

func in(field string, vs ...*siltv1.QueryValue) *siltv1.Filter {
	return &siltv1.Filter{Kind: &siltv1.Filter_In{In: &siltv1.InList{Field: field, Values: vs}}}
}

func strs(ss ...string) []*siltv1.QueryValue {
	out := make([]*siltv1.QueryValue, len(ss))
	for i, s := range ss {
		out[i] = strV(s)
	}
	return out
}

func and(fs ...*siltv1.Filter) *siltv1.Filter {
	return &siltv1.Filter{Kind: &siltv1.Filter_And{And: &siltv1.FilterList{Filters: fs}}}
}

func or(fs ...*siltv1.Filter) *siltv1.Filter {
	return &siltv1.Filter{Kind: &siltv1.Filter_Or{Or: &siltv1.FilterList{Filters: fs}}}
}

func not(f *siltv1.Filter) *siltv1.Filter {
	return &siltv1.Filter{Kind: &siltv1.Filter_Not{Not: f}}
}

func exists(field string) *siltv1.Filter {
	return &siltv1.Filter{Kind: &siltv1.Filter_Exists{Exists: field}}
}

func contains(field, text string, ignoreCase bool) *siltv1.Filter {
	return &siltv1.Filter{Kind: &siltv1.Filter_Contains{Contains: &siltv1.Contains{Field: field, Text: text, IgnoreCase: ignoreCase}}}
}

func timeRange(from, to time.Time) *siltv1.TimeRange {
	return &siltv1.TimeRange{Start: timestamppb.New(from), End: timestamppb.New(to)}
}

func count() *siltv1.Aggregation {
	return &siltv1.Aggregation{Function: siltv1.AggregateFunction_AGGREGATE_FUNCTION_COUNT}
}

func agg(fn siltv1.AggregateFunction, field string) *siltv1.Aggregation {
	return &siltv1.Aggregation{Function: fn, Field: field}
}

func pct(field string, p float64) *siltv1.Aggregation {
	return &siltv1.Aggregation{Function: siltv1.AggregateFunction_AGGREGATE_FUNCTION_PERCENTILE, Field: field, Percentile: p}
}

func rate() *siltv1.Aggregation {
	return &siltv1.Aggregation{Function: siltv1.AggregateFunction_AGGREGATE_FUNCTION_RATE}
}

func aggs(as ...*siltv1.Aggregation) []*siltv1.Aggregation { return as }

func by(fields ...string) []*siltv1.GroupBy {
	out := make([]*siltv1.GroupBy, len(fields))
	for i, f := range fields {
		out[i] = &siltv1.GroupBy{Kind: &siltv1.GroupBy_Field{Field: f}}
	}
	return out
}

func bucket(field string, width time.Duration) *siltv1.GroupBy {
	return &siltv1.GroupBy{Kind: &siltv1.GroupBy_TimeBucket{TimeBucket: &siltv1.TimeBucket{Field: field, Width: durationpb.New(width)}}}
}

func calendarDay(zone string) *siltv1.GroupBy {
	return &siltv1.GroupBy{Kind: &siltv1.GroupBy_TimeBucket{TimeBucket: &siltv1.TimeBucket{
		Calendar: siltv1.CalendarUnit_CALENDAR_UNIT_DAY, TimeZone: zone,
	}}}
}
