package api

import (
	"context"
	"fmt"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/query"
)

// Querier runs typed queries (package query's Engine).
type Querier interface {
	Query(ctx context.Context, req query.Request) (*query.Result, error)
}

// Query implements silt.v1.QueryService.Query.
func (s *Service) Query(ctx context.Context, req *connect.Request[siltv1.QueryRequest]) (*connect.Response[siltv1.QueryResponse], error) {
	q, err := queryFromProto(req.Msg)
	if err != nil {
		return nil, s.code(err)
	}
	leave, err := s.queries.enter(q.Project, s.projectSettings(ctx, q.Project).Quotas.MaxConcurrentQueries)
	if err != nil {
		return nil, s.code(err)
	}
	defer leave()
	res, err := s.opts.Query.Query(ctx, q)
	if err != nil {
		return nil, s.code(err)
	}
	out, err := queryResultToProto(res)
	if err != nil {
		return nil, s.code(err)
	}
	return connect.NewResponse(out), nil
}

// queryFromProto converts a request; errors are *query.InvalidError.
func queryFromProto(m *siltv1.QueryRequest) (query.Request, error) {
	q := query.Request{
		Project:      m.GetProject(),
		Streams:      m.GetStreams(),
		StreamPrefix: m.GetStreamPrefix(),
		Limit:        int(m.GetLimit()),
		PageToken:    m.GetPageToken(),
		Explain:      m.GetExplain(),
	}
	q.From, q.To = rangeFromProto(m.GetTime())
	q.IngestFrom, q.IngestTo = rangeFromProto(m.GetIngestTime())
	if sr := m.GetSeq(); sr != nil {
		q.FromSeq, q.ToSeq = sr.GetFromSeq(), sr.GetToSeq()
	}
	switch m.GetOrder() {
	case siltv1.QueryOrder_QUERY_ORDER_UNSPECIFIED, siltv1.QueryOrder_QUERY_ORDER_TIME_ASC:
		q.Order = query.OrderTimeAsc
	case siltv1.QueryOrder_QUERY_ORDER_TIME_DESC:
		q.Order = query.OrderTimeDesc
	case siltv1.QueryOrder_QUERY_ORDER_SEQ_ASC:
		q.Order = query.OrderSeqAsc
	case siltv1.QueryOrder_QUERY_ORDER_SEQ_DESC:
		q.Order = query.OrderSeqDesc
	}
	if f := m.GetFilter(); f != nil {
		var err error
		if q.Filter, err = filterFromProto(f, "filter"); err != nil {
			return q, err
		}
	}
	for i, g := range m.GetGroupBy() {
		at := fmt.Sprintf("group_by[%d]", i)
		k := query.GroupKey{Name: g.GetName()}
		if tb := g.GetTimeBucket(); tb != nil {
			k.Field = query.Field{Kind: query.FieldTime}
			if tb.GetField() == "ingest_time" {
				k.Field.Kind = query.FieldIngestTime
			}
			b := &query.Bucket{Width: tb.GetWidth().AsDuration(), Unit: query.Calendar(tb.GetCalendar())}
			if tz := tb.GetTimeZone(); tz != "" {
				loc, err := time.LoadLocation(tz)
				if err != nil {
					return q, &query.InvalidError{Field: at + ".time_bucket.time_zone", Reason: fmt.Sprintf("unknown time zone %q", tz)}
				}
				b.Zone = loc
			}
			k.Bucket = b
		} else {
			f, err := fieldFromProto(g.GetField(), at+".field")
			if err != nil {
				return q, err
			}
			k.Field = f
		}
		q.GroupBy = append(q.GroupBy, k)
	}
	for i, a := range m.GetAggregations() {
		ag := query.Aggregate{Func: query.AggFunc(a.GetFunction()), Percentile: a.GetPercentile(), Name: a.GetName()}
		if a.GetField() != "" {
			f, err := fieldFromProto(a.GetField(), fmt.Sprintf("aggregations[%d].field", i))
			if err != nil {
				return q, err
			}
			ag.Field = &f
		}
		q.Aggregates = append(q.Aggregates, ag)
	}
	for i, name := range m.GetFields() {
		f, err := fieldFromProto(name, fmt.Sprintf("fields[%d]", i))
		if err != nil {
			return q, err
		}
		q.Fields = append(q.Fields, f)
	}
	return q, nil
}

func rangeFromProto(r *siltv1.TimeRange) (from, to time.Time) {
	if r == nil {
		return
	}
	if r.GetStart() != nil {
		from = r.GetStart().AsTime()
	}
	if r.GetEnd() != nil {
		to = r.GetEnd().AsTime()
	}
	return
}

func fieldFromProto(name, at string) (query.Field, error) {
	f, err := query.ParseField(name)
	if err != nil {
		return f, &query.InvalidError{Field: at, Reason: err.Error()}
	}
	return f, nil
}

// filterFromProto converts a filter tree; at is its path in the request.
func filterFromProto(m *siltv1.Filter, at string) (*query.Filter, error) {
	list := func(l *siltv1.FilterList, op query.Op, name string) (*query.Filter, error) {
		f := &query.Filter{Op: op}
		for i, c := range l.GetFilters() {
			a, err := filterFromProto(c, fmt.Sprintf("%s.%s[%d]", at, name, i))
			if err != nil {
				return nil, err
			}
			f.Args = append(f.Args, a)
		}
		return f, nil
	}
	switch k := m.GetKind().(type) {
	case *siltv1.Filter_And:
		return list(k.And, query.OpAnd, "and")
	case *siltv1.Filter_Or:
		return list(k.Or, query.OpOr, "or")
	case *siltv1.Filter_Not:
		a, err := filterFromProto(k.Not, at+".not")
		if err != nil {
			return nil, err
		}
		return &query.Filter{Op: query.OpNot, Args: []*query.Filter{a}}, nil
	case *siltv1.Filter_Compare:
		f, err := fieldFromProto(k.Compare.GetField(), at+".compare.field")
		if err != nil {
			return nil, err
		}
		return &query.Filter{Op: query.OpCompare, Field: f, Cmp: query.Cmp(k.Compare.GetOp()), Value: valueFromProto(k.Compare.GetValue())}, nil
	case *siltv1.Filter_In:
		f, err := fieldFromProto(k.In.GetField(), at+".in.field")
		if err != nil {
			return nil, err
		}
		out := &query.Filter{Op: query.OpIn, Field: f}
		for _, v := range k.In.GetValues() {
			out.Values = append(out.Values, valueFromProto(v))
		}
		return out, nil
	case *siltv1.Filter_Exists:
		f, err := fieldFromProto(k.Exists, at+".exists")
		if err != nil {
			return nil, err
		}
		return &query.Filter{Op: query.OpExists, Field: f}, nil
	case *siltv1.Filter_Contains:
		f, err := fieldFromProto(k.Contains.GetField(), at+".contains.field")
		if err != nil {
			return nil, err
		}
		return &query.Filter{Op: query.OpContains, Field: f, Value: query.String(k.Contains.GetText()), IgnoreCase: k.Contains.GetIgnoreCase()}, nil
	}
	return nil, &query.InvalidError{Field: at, Reason: "empty filter"}
}

func valueFromProto(v *siltv1.QueryValue) query.Value {
	switch k := v.GetKind().(type) {
	case *siltv1.QueryValue_StringValue:
		return query.String(k.StringValue)
	case *siltv1.QueryValue_IntValue:
		return query.Int(k.IntValue)
	case *siltv1.QueryValue_DoubleValue:
		return query.Float(k.DoubleValue)
	case *siltv1.QueryValue_TimeValue:
		return query.TimeValue(k.TimeValue.AsTime())
	case *siltv1.QueryValue_BoolValue:
		return query.Bool(k.BoolValue)
	}
	return query.Value{}
}

func valueToProto(v query.Value) *siltv1.QueryValue {
	switch v.Type {
	case query.TypeString:
		return &siltv1.QueryValue{Kind: &siltv1.QueryValue_StringValue{StringValue: v.Str}}
	case query.TypeInt:
		return &siltv1.QueryValue{Kind: &siltv1.QueryValue_IntValue{IntValue: v.Int}}
	case query.TypeFloat:
		return &siltv1.QueryValue{Kind: &siltv1.QueryValue_DoubleValue{DoubleValue: v.F}}
	case query.TypeTime:
		return &siltv1.QueryValue{Kind: &siltv1.QueryValue_TimeValue{TimeValue: timestamppb.New(v.Time)}}
	case query.TypeBool:
		return &siltv1.QueryValue{Kind: &siltv1.QueryValue_BoolValue{BoolValue: v.Bool}}
	}
	return &siltv1.QueryValue{}
}

var columnTypes = map[query.ValueType]siltv1.ColumnType{
	query.TypeNull: siltv1.ColumnType_COLUMN_TYPE_ANY, query.TypeString: siltv1.ColumnType_COLUMN_TYPE_STRING,
	query.TypeInt: siltv1.ColumnType_COLUMN_TYPE_INT, query.TypeFloat: siltv1.ColumnType_COLUMN_TYPE_DOUBLE,
	query.TypeTime: siltv1.ColumnType_COLUMN_TYPE_TIME, query.TypeBool: siltv1.ColumnType_COLUMN_TYPE_BOOL,
}

func queryResultToProto(res *query.Result) (*siltv1.QueryResponse, error) {
	st := res.Stats
	out := &siltv1.QueryResponse{
		NextPageToken: res.NextPageToken,
		Plan:          res.Plan,
		Stats: &siltv1.QueryStats{
			Segments: int32(st.Segments), SegmentsPruned: int32(st.SegmentsPruned),
			RowGroups: int32(st.RowGroups), RowGroupsPruned: int32(st.RowGroupsPruned),
			ColdRows: st.ColdRows, ColdBytes: st.ColdBytes, HotRows: st.HotRows, MatchedRows: st.Matched,
			Elapsed: durationpb.New(st.Elapsed),
		},
	}
	for _, c := range res.Columns {
		out.Columns = append(out.Columns, &siltv1.Column{Name: c.Name, Type: columnTypes[c.Type], Approximate: c.Approximate})
	}
	for _, r := range res.Rows {
		row := &siltv1.Row{Values: make([]*siltv1.QueryValue, len(r))}
		for i, v := range r {
			row.Values[i] = valueToProto(v)
		}
		out.Rows = append(out.Rows, row)
	}
	for i := range res.Events {
		e, err := listedEventToProto(&res.Events[i])
		if err != nil {
			return nil, err
		}
		out.Events = append(out.Events, e)
	}
	return out, nil
}

// listedEventToProto converts a listed event, which may carry only some
// fields: unset times and a missing payload stay unset.
func listedEventToProto(e *event.Event) (*siltv1.Event, error) {
	if e.HasPayload() && e.ContentType != "" {
		out, err := eventToProto(e, false)
		if err != nil {
			return nil, err
		}
		if e.IngestTime.IsZero() {
			out.IngestTime = nil
		}
		return out, nil
	}
	out := &siltv1.Event{
		Project: e.Project, Stream: e.Stream, Seq: e.Seq, Id: e.ID, Type: e.Type,
		Source: optional(e.Source, e.HasSource()), Subject: optional(e.Subject, e.HasSubject()), Attributes: e.Attributes, Metrics: e.Metrics, ContentType: e.ContentType,
	}
	if !e.Time.IsZero() {
		out.Time = timestamppb.New(e.Time)
	}
	if !e.IngestTime.IsZero() {
		out.IngestTime = timestamppb.New(e.IngestTime)
	}
	return out, nil
}
