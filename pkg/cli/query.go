package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// queryFlags are the flags of `silt query` that build a request.
type queryFlags struct {
	body         string
	streams      []string
	prefix       string
	since, until string
	where        []string
	groupBy      []string
	bucket       string
	aggs         []string
	fields       []string
	order        string
	limit        uint32
	pageToken    string
	explain      bool
}

// newQueryCommand is `silt query`.
func newQueryCommand() *cobra.Command {
	var c clientFlags
	var q queryFlags
	cmd := &cobra.Command{
		Use:   "query",
		Short: "Query events: list them, or group and aggregate them (docs/query.md)",
		Long: `Query a project's events across the hot tier and the Parquet history.

Build the request with flags, or pass a QueryRequest as JSON with --body
(a file name, or - for standard input); flags given as well override it.
Enum values in the body may be written short: "op":"eq" or "=", "order":"-seq",
"function":"count" or "p99", "calendar":"day".

Results go to stdout: a table, or with --json one JSON object per line (an
event in the shape silt append reads, or a row keyed by column name). The
plan, the statistics and the next page token go to stderr.

Fields are envelope fields (stream, seq, id, type, source, subject, time,
ingest_time, content_type, data), attributes.<key>, metrics.<key>, or a JSON
path into data such as $.user.plan.`,
		Example: `  silt query --since 24h --where attributes.org=acme --agg count
  silt query --since 168h --group-by type --agg count
  silt query --since 24h --bucket 1h --agg p50:metrics.duration --agg p99:metrics.duration
  silt query --stream orders --order -seq --limit 10
  silt query --body request.json --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := q.request(cmd.InOrStdin(), c.project, cmd.Flags().Changed("project"), time.Now())
			if err != nil {
				return err
			}
			res, err := c.query().Query(cmd.Context(), connect.NewRequest(req))
			if err != nil {
				return &inputError{err: err, flags: q.flagOf(req)}
			}
			return printQuery(cmd.OutOrStdout(), cmd.ErrOrStderr(), res.Msg, c.json)
		},
	}
	c.register(cmd)
	f := cmd.Flags()
	f.StringVar(&q.body, "body", "", "a QueryRequest as JSON: a file, or - for standard input")
	f.StringSliceVar(&q.streams, "stream", nil, "streams to query (repeatable; default: all)")
	f.StringVar(&q.prefix, "prefix", "", "query streams whose names start with this")
	f.StringVar(&q.since, "since", "", "events with time at or after this: RFC 3339, or a duration before now such as 24h")
	f.StringVar(&q.until, "until", "", "events with time before this: RFC 3339, or a duration before now")
	f.StringArrayVar(&q.where, "where", nil, "a condition FIELD OP VALUE, OP one of = != < <= > >= ~ (contains) ~~ (contains, any case) ? (exists, no value); repeatable, all must hold")
	f.StringSliceVar(&q.groupBy, "group-by", nil, "group by these fields")
	f.StringVar(&q.bucket, "bucket", "", "group by time buckets: a width such as 1h, or day, week or month, optionally @ZONE (day@Europe/Paris)")
	f.StringArrayVar(&q.aggs, "agg", nil, "an aggregate: count, count:FIELD, count_distinct:FIELD, sum|avg|min|max:FIELD, pNN:FIELD (p99:metrics.duration), rate (repeatable)")
	f.StringSliceVar(&q.fields, "fields", nil, "fields of listed events to return (default: all)")
	f.StringVar(&q.order, "order", "", "order of listed events: time, -time, seq or -seq (default time)")
	f.Uint32Var(&q.limit, "limit", 0, "events or rows per page (default 1000)")
	f.StringVar(&q.pageToken, "page-token", "", "continue after the page that printed this token")
	f.BoolVar(&q.explain, "explain", false, "print the plan: segments and row groups read or pruned")
	return cmd
}

// request builds the QueryRequest from --body and the flags.
func (q *queryFlags) request(stdin io.Reader, project string, projectSet bool, now time.Time) (*siltv1.QueryRequest, error) {
	req := &siltv1.QueryRequest{}
	if q.body != "" {
		var b []byte
		var err error
		if q.body == "-" {
			b, err = io.ReadAll(stdin)
		} else {
			b, err = os.ReadFile(q.body)
		}
		if err != nil {
			return nil, fmt.Errorf("--body: %w", err)
		}
		b, err = expandEnums(b, req.ProtoReflect().Descriptor())
		if err != nil {
			return nil, fmt.Errorf("--body: %w", err)
		}
		if err := protojson.Unmarshal(b, req); err != nil {
			return nil, fmt.Errorf("--body: %w", protojsonError(err))
		}
	}
	if req.Project == "" || projectSet {
		req.Project = project
	}
	if len(q.streams) > 0 {
		req.Streams = q.streams
	}
	if q.prefix != "" {
		req.StreamPrefix = q.prefix
	}
	if q.since != "" || q.until != "" {
		if req.Time == nil {
			req.Time = &siltv1.TimeRange{}
		}
		for _, b := range []struct {
			flag, v string
			dst     **timestamppb.Timestamp
		}{{"--since", q.since, &req.Time.Start}, {"--until", q.until, &req.Time.End}} {
			if b.v == "" {
				continue
			}
			t, err := parseWhen(b.v, now)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.flag, err)
			}
			*b.dst = timestamppb.New(t)
		}
	}
	var conds []*siltv1.Filter
	for _, w := range q.where {
		f, err := parseWhere(w, now)
		if err != nil {
			return nil, fmt.Errorf("--where %q: %w", w, err)
		}
		conds = append(conds, f)
	}
	if req.Filter != nil && len(conds) > 0 {
		conds = append([]*siltv1.Filter{req.Filter}, conds...)
	}
	switch len(conds) {
	case 0:
	case 1:
		req.Filter = conds[0]
	default:
		req.Filter = &siltv1.Filter{Kind: &siltv1.Filter_And{And: &siltv1.FilterList{Filters: conds}}}
	}
	if q.bucket != "" {
		tb, err := parseBucket(q.bucket)
		if err != nil {
			return nil, fmt.Errorf("--bucket: %w", err)
		}
		req.GroupBy = append(req.GroupBy, &siltv1.GroupBy{Kind: &siltv1.GroupBy_TimeBucket{TimeBucket: tb}})
	}
	for _, g := range q.groupBy {
		req.GroupBy = append(req.GroupBy, &siltv1.GroupBy{Kind: &siltv1.GroupBy_Field{Field: g}})
	}
	for _, a := range q.aggs {
		ag, err := parseAgg(a)
		if err != nil {
			return nil, fmt.Errorf("--agg %q: %w", a, err)
		}
		req.Aggregations = append(req.Aggregations, ag)
	}
	if len(q.fields) > 0 {
		req.Fields = q.fields
	}
	switch q.order {
	case "":
	case "time":
		req.Order = siltv1.QueryOrder_QUERY_ORDER_TIME_ASC
	case "-time":
		req.Order = siltv1.QueryOrder_QUERY_ORDER_TIME_DESC
	case "seq":
		req.Order = siltv1.QueryOrder_QUERY_ORDER_SEQ_ASC
	case "-seq":
		req.Order = siltv1.QueryOrder_QUERY_ORDER_SEQ_DESC
	default:
		return nil, fmt.Errorf("--order %q: want time, -time, seq or -seq", q.order)
	}
	if q.limit > 0 {
		req.Limit = q.limit
	}
	if q.pageToken != "" {
		req.PageToken = q.pageToken
	}
	if q.explain {
		req.Explain = true
	}
	return req, nil
}

// flagOf names the fields of req that flags set by those flags, for
// errors: "aggregations[2]" is "--agg p99:metrics.ms" when it came from
// the flag (after any aggregations of --body).
func (q *queryFlags) flagOf(req *siltv1.QueryRequest) map[string]string {
	names := map[string]string{}
	aggs := len(req.GetAggregations()) - len(q.aggs)
	for i, a := range q.aggs {
		names[fmt.Sprintf("aggregations[%d]", aggs+i)] = "--agg " + a
	}
	groups := len(req.GetGroupBy()) - len(q.groupBy)
	if q.bucket != "" {
		names[fmt.Sprintf("group_by[%d]", groups-1)] = "--bucket " + q.bucket
	}
	for i, g := range q.groupBy {
		names[fmt.Sprintf("group_by[%d]", groups+i)] = "--group-by " + g
	}
	for i, f := range q.fields {
		names[fmt.Sprintf("fields[%d]", i)] = "--fields " + f
	}
	for field, flag := range map[string]string{"time": "--since/--until", "limit": "--limit", "order": "--order", "stream_prefix": "--prefix", "filter": "--where"} {
		switch {
		case field == "time" && (q.since != "" || q.until != ""), field == "limit" && q.limit > 0,
			field == "order" && q.order != "", field == "stream_prefix" && q.prefix != "", field == "filter" && len(q.where) > 0:
			names[field] = flag
		}
	}
	if len(q.fields) > 0 {
		names["fields"] = "--fields"
	}
	if len(q.groupBy) > 0 || q.bucket != "" {
		names["group_by"] = "--group-by"
	}
	return names
}

// parseWhen parses an RFC 3339 time, or a duration before now.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration such as 24h", s)
	}
	return t, nil
}

// whereOps are the operators of --where, longest first so that <= wins over <.
var whereOps = []struct {
	op  string
	cmp siltv1.CompareOp
}{
	{"!=", siltv1.CompareOp_COMPARE_OP_NE}, {"<=", siltv1.CompareOp_COMPARE_OP_LE}, {">=", siltv1.CompareOp_COMPARE_OP_GE},
	{"~~", 0}, {"=", siltv1.CompareOp_COMPARE_OP_EQ}, {"<", siltv1.CompareOp_COMPARE_OP_LT},
	{">", siltv1.CompareOp_COMPARE_OP_GT}, {"~", 0},
}

// parseWhere parses FIELD OP VALUE (or FIELD?) into a filter. Values of
// metrics and seq are numbers; of time and ingest_time, times; of JSON
// paths, numbers, true/false or strings as they parse; else strings.
func parseWhere(s string, now time.Time) (*siltv1.Filter, error) {
	if field, ok := strings.CutSuffix(s, "?"); ok && !strings.ContainsAny(field, "=<>!~") {
		return &siltv1.Filter{Kind: &siltv1.Filter_Exists{Exists: strings.TrimSpace(field)}}, nil
	}
	at, op := -1, ""
	var cmp siltv1.CompareOp
	for i := 0; i < len(s) && at < 0; i++ {
		for _, o := range whereOps {
			if strings.HasPrefix(s[i:], o.op) {
				at, op, cmp = i, o.op, o.cmp
				break
			}
		}
	}
	if at <= 0 {
		return nil, fmt.Errorf("want FIELD OP VALUE with OP one of = != < <= > >= ~ ~~, or FIELD?")
	}
	field, raw := strings.TrimSpace(s[:at]), strings.TrimSpace(s[at+len(op):])
	if op == "~" || op == "~~" {
		return &siltv1.Filter{Kind: &siltv1.Filter_Contains{Contains: &siltv1.Contains{Field: field, Text: raw, IgnoreCase: op == "~~"}}}, nil
	}
	v, err := parseWhereValue(field, raw, now)
	if err != nil {
		return nil, err
	}
	return &siltv1.Filter{Kind: &siltv1.Filter_Compare{Compare: &siltv1.Comparison{Field: field, Op: cmp, Value: v}}}, nil
}

func parseWhereValue(field, raw string, now time.Time) (*siltv1.QueryValue, error) {
	num := func() (*siltv1.QueryValue, error) {
		if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
			return &siltv1.QueryValue{Kind: &siltv1.QueryValue_IntValue{IntValue: n}}, nil
		}
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return nil, fmt.Errorf("%s takes a number, not %q", field, raw)
		}
		return &siltv1.QueryValue{Kind: &siltv1.QueryValue_DoubleValue{DoubleValue: f}}, nil
	}
	switch {
	case field == "seq" || strings.HasPrefix(field, "metrics."):
		return num()
	case field == "time" || field == "ingest_time":
		t, err := parseWhen(raw, now)
		if err != nil {
			return nil, err
		}
		return &siltv1.QueryValue{Kind: &siltv1.QueryValue_TimeValue{TimeValue: timestamppb.New(t)}}, nil
	case strings.HasPrefix(field, "$"):
		if v, err := num(); err == nil {
			return v, nil
		}
		if b, err := strconv.ParseBool(raw); err == nil && (raw == "true" || raw == "false") {
			return &siltv1.QueryValue{Kind: &siltv1.QueryValue_BoolValue{BoolValue: b}}, nil
		}
	}
	return &siltv1.QueryValue{Kind: &siltv1.QueryValue_StringValue{StringValue: raw}}, nil
}

// parseBucket parses 1h, day, week@Europe/Paris …
func parseBucket(s string) (*siltv1.TimeBucket, error) {
	unit, zone, _ := strings.Cut(s, "@")
	tb := &siltv1.TimeBucket{TimeZone: zone}
	switch unit {
	case "day":
		tb.Calendar = siltv1.CalendarUnit_CALENDAR_UNIT_DAY
	case "week":
		tb.Calendar = siltv1.CalendarUnit_CALENDAR_UNIT_WEEK
	case "month":
		tb.Calendar = siltv1.CalendarUnit_CALENDAR_UNIT_MONTH
	default:
		d, err := time.ParseDuration(unit)
		if err != nil {
			return nil, fmt.Errorf("%q: want a duration such as 1h, or day, week or month", unit)
		}
		tb.Width = durationpb.New(d)
	}
	return tb, nil
}

// aggFuncs maps --agg names to functions.
var aggFuncs = map[string]siltv1.AggregateFunction{
	"count": siltv1.AggregateFunction_AGGREGATE_FUNCTION_COUNT, "count_distinct": siltv1.AggregateFunction_AGGREGATE_FUNCTION_COUNT_DISTINCT,
	"sum": siltv1.AggregateFunction_AGGREGATE_FUNCTION_SUM, "avg": siltv1.AggregateFunction_AGGREGATE_FUNCTION_AVG,
	"min": siltv1.AggregateFunction_AGGREGATE_FUNCTION_MIN, "max": siltv1.AggregateFunction_AGGREGATE_FUNCTION_MAX,
	"rate": siltv1.AggregateFunction_AGGREGATE_FUNCTION_RATE,
}

// parseAgg parses NAME[:FIELD], where NAME may be pNN for a percentile.
func parseAgg(s string) (*siltv1.Aggregation, error) {
	name, field, _ := strings.Cut(s, ":")
	ag := &siltv1.Aggregation{Field: field}
	if fn, ok := aggFuncs[name]; ok {
		ag.Function = fn
		return ag, nil
	}
	if p, ok := strings.CutPrefix(name, "p"); ok {
		v, err := strconv.ParseFloat(p, 64)
		if err == nil && v > 0 && v <= 100 {
			ag.Function = siltv1.AggregateFunction_AGGREGATE_FUNCTION_PERCENTILE
			ag.Percentile = v
			return ag, nil
		}
	}
	return nil, fmt.Errorf("want count, count_distinct, sum, avg, min, max, rate or pNN (p50, p99.9), then :FIELD")
}

// printQuery prints a result: a table of rows or events, or with asJSON one
// JSON object per row or event; the plan and what the query read go to errw.
func printQuery(w, errw io.Writer, res *siltv1.QueryResponse, asJSON bool) error {
	if p := res.GetPlan(); p != "" {
		fmt.Fprint(errw, p)
	}
	switch {
	case len(res.GetColumns()) > 0 && asJSON:
		for _, r := range res.GetRows() {
			if err := writeRowLine(w, res.GetColumns(), r); err != nil {
				return err
			}
		}
	case len(res.GetColumns()) > 0:
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		var head []string
		for _, c := range res.GetColumns() {
			n := c.GetName()
			if c.GetApproximate() {
				n += " (≈)"
			}
			head = append(head, n)
		}
		fmt.Fprintln(tw, strings.Join(head, "\t"))
		for _, r := range res.GetRows() {
			cells := make([]string, len(r.GetValues()))
			for i, v := range r.GetValues() {
				cells[i] = formatValue(v)
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	default:
		p := eventPrinter{w: w, json: asJSON, stream: true}
		for _, e := range res.GetEvents() {
			if err := p.print(e); err != nil {
				return err
			}
		}
	}
	st := res.GetStats()
	shown := fmt.Sprintf("%d rows", len(res.GetRows()))
	if len(res.GetColumns()) == 0 {
		shown = fmt.Sprintf("%d events", len(res.GetEvents()))
	}
	fmt.Fprintf(errw, "%s, %d events matched; segments %d (%d pruned), row groups %d (%d pruned), %d cold rows (%s), %d hot rows, %v\n",
		shown, st.GetMatchedRows(), st.GetSegments(), st.GetSegmentsPruned(), st.GetRowGroups(), st.GetRowGroupsPruned(),
		st.GetColdRows(), humanBytes(st.GetColdBytes()), st.GetHotRows(), st.GetElapsed().AsDuration())
	if t := res.GetNextPageToken(); t != "" {
		fmt.Fprintf(errw, "next page: --page-token %s\n", t)
	}
	return nil
}

// formatValue prints one cell for people.
func formatValue(v *siltv1.QueryValue) string {
	switch k := v.GetKind().(type) {
	case *siltv1.QueryValue_StringValue:
		return k.StringValue
	case *siltv1.QueryValue_IntValue:
		return strconv.FormatInt(k.IntValue, 10)
	case *siltv1.QueryValue_DoubleValue:
		return formatNumber(k.DoubleValue)
	case *siltv1.QueryValue_TimeValue:
		return k.TimeValue.AsTime().UTC().Format(time.RFC3339)
	case *siltv1.QueryValue_BoolValue:
		return strconv.FormatBool(k.BoolValue)
	}
	return "null"
}

// writeRowLine writes one result row as a JSON object keyed by column name.
func writeRowLine(w io.Writer, cols []*siltv1.Column, r *siltv1.Row) error {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range r.GetValues() {
		if i >= len(cols) {
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(cols[i].GetName())
		b.Write(name)
		b.WriteByte(':')
		var val any
		switch k := v.GetKind().(type) {
		case *siltv1.QueryValue_StringValue:
			val = k.StringValue
		case *siltv1.QueryValue_IntValue:
			val = k.IntValue
		case *siltv1.QueryValue_DoubleValue:
			if !math.IsNaN(k.DoubleValue) && !math.IsInf(k.DoubleValue, 0) {
				val = k.DoubleValue
			}
		case *siltv1.QueryValue_TimeValue:
			val = formatTime(k.TimeValue.AsTime())
		case *siltv1.QueryValue_BoolValue:
			val = k.BoolValue
		}
		cell, err := json.Marshal(val)
		if err != nil {
			return err
		}
		b.Write(cell)
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}
