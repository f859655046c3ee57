package duckcheck

import (
	"fmt"
	"testing"
	"time"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// The questions TestQuery_MatchesDuckDB asks both engines: each a request
// and the same question in DuckDB's SQL over table ev (querydata_test.go).

// aggregateCase is a question asked of both engines.
type aggregateCase struct {
	name string
	req  *siltv1.QueryRequest // the project is set by the test
	// sql asks DuckDB the same of table ev, with the columns of Silt's
	// answer (keys, then aggregates) and its rows in Silt's order.
	sql string
	// all: the one count of the answer may be every event.
	all bool
	// needsZone names a time zone that the case needs both engines to know.
	needsZone string
	// check looks at the stats of Silt's first page.
	check func(t *testing.T, stats *siltv1.QueryStats)
	// plan is a line of Silt's plan that shows the case takes the path it
	// is for (e.g. a seek); "" asks for no plan.
	plan string
}

// The operators and functions of the cases.
const (
	opNE = siltv1.CompareOp_COMPARE_OP_NE
	opGT = siltv1.CompareOp_COMPARE_OP_GT
	opGE = siltv1.CompareOp_COMPARE_OP_GE
	opLT = siltv1.CompareOp_COMPARE_OP_LT
	opLE = siltv1.CompareOp_COMPARE_OP_LE

	fnCount    = siltv1.AggregateFunction_AGGREGATE_FUNCTION_COUNT
	fnDistinct = siltv1.AggregateFunction_AGGREGATE_FUNCTION_COUNT_DISTINCT
	fnSum      = siltv1.AggregateFunction_AGGREGATE_FUNCTION_SUM
	fnAvg      = siltv1.AggregateFunction_AGGREGATE_FUNCTION_AVG
	fnMin      = siltv1.AggregateFunction_AGGREGATE_FUNCTION_MIN
	fnMax      = siltv1.AggregateFunction_AGGREGATE_FUNCTION_MAX
)

// stZone is the zone of the calendar cases: half-hour offsets, and
// daylight saving time that starts and ends at 02:00 local time.
const stZone = "America/St_Johns"

// aggregateCases are the aggregate questions about the data set d.
func aggregateCases(d *queryData) []aggregateCase {
	day := func(i int) time.Time { return d.base.AddDate(0, 0, i) }
	us := func(t time.Time) int64 { return t.UnixMicro() }
	// A seq range of web/clicks from the middle of its cold seqs to the
	// middle of its hot ones.
	clicksCold, clicks := d.coldSize["web/clicks"], d.streamSize["web/clicks"]
	seqFrom, seqTo := uint64(clicksCold/2), uint64((clicksCold+clicks)/2)
	ingestFrom, ingestTo := d.ingest[60], d.ingest[130]
	return []aggregateCase{
		{
			name: "count/all", all: true,
			req: &siltv1.QueryRequest{Aggregations: aggs(count())},
			sql: `SELECT count(*) FROM ev`,
			check: func(t *testing.T, st *siltv1.QueryStats) {
				// Both tiers, each event once.
				if st.GetColdRows() != int64(d.cold) || st.GetHotRows() != int64(len(d.events)-d.cold) ||
					st.GetMatchedRows() != int64(len(d.events)) || st.GetSegments() < 2 {
					t.Errorf("stats: %d segments, %d cold rows, %d hot rows, %d matched; want 2 or more segments, %d cold, %d hot, %d matched",
						st.GetSegments(), st.GetColdRows(), st.GetHotRows(), st.GetMatchedRows(), d.cold, len(d.events)-d.cold, len(d.events))
				}
			},
		},
		{
			name: "count/eq_attribute",
			req:  &siltv1.QueryRequest{Filter: eq("attributes.org", strV("Globex")), Aggregations: aggs(count())},
			sql:  `SELECT count(*) FROM ev WHERE attributes['org'] = 'Globex'`,
		},
		{
			name: "count/ne_skips_missing",
			req:  &siltv1.QueryRequest{Filter: compare("attributes.status", opNE, strV("ok")), Aggregations: aggs(count())},
			sql:  `SELECT count(*) FROM ev WHERE attributes['status'] <> 'ok'`,
		},
		{
			name: "count/in_type",
			req:  &siltv1.QueryRequest{Filter: in("type", strs("order.created", "order.paid", "error")...), Aggregations: aggs(count())},
			sql:  `SELECT count(*) FROM ev WHERE type IN ('order.created', 'order.paid', 'error')`,
		},
		{
			name: "count/not_matches_missing",
			req:  &siltv1.QueryRequest{Filter: not(eq("attributes.status", strV("ok"))), Aggregations: aggs(count())},
			sql:  `SELECT count(*) FROM ev WHERE NOT coalesce(attributes['status'] = 'ok', false)`,
		},
		{
			name: "count/and_or_not",
			req: &siltv1.QueryRequest{
				Filter: and(
					or(eq("type", strV("error")), eq("attributes.status", strV("error"))),
					not(in("attributes.org", strs("Acme", "Hooli")...)),
					compare("metrics.duration", opGE, intV(50)),
				),
				Aggregations: aggs(count()),
			},
			sql: `SELECT count(*) FROM ev WHERE coalesce(type = 'error' OR attributes['status'] = 'error', false)
				AND NOT coalesce(attributes['org'] IN ('Acme', 'Hooli'), false)
				AND coalesce(metrics['duration'] >= 50, false)`,
		},
		{
			name: "count/exists",
			req: &siltv1.QueryRequest{
				Filter:       and(exists("metrics.duration"), not(exists("attributes.status")), exists("time")),
				Aggregations: aggs(count()),
			},
			sql: `SELECT count(*) FROM ev WHERE map_contains(metrics, 'duration')
				AND NOT map_contains(attributes, 'status') AND time IS NOT NULL`,
		},
		{
			name: "count/exists_json_path",
			req:  &siltv1.QueryRequest{Filter: exists("$.user.plan"), Aggregations: aggs(count())},
			sql:  `SELECT count(*) FROM ev WHERE jexists(data, '$.user.plan')`,
		},
		{
			// "user" is sometimes a string, which exists but has no id.
			name: "count/exists_json_path_not_below",
			req:  &siltv1.QueryRequest{Filter: and(exists("$.user"), not(exists("$.user.id"))), Aggregations: aggs(count())},
			sql:  `SELECT count(*) FROM ev WHERE jexists(data, '$.user') AND NOT jexists(data, '$.user.id')`,
		},
		{
			name: "count/contains_data",
			req:  &siltv1.QueryRequest{Filter: contains("data", "needle", false), Aggregations: aggs(count())},
			sql:  `SELECT count(*) FROM ev WHERE contains(data, 'needle')`,
		},
		{
			name: "count/contains_data_ignore_case",
			req:  &siltv1.QueryRequest{Filter: contains("data", "NeedLE", true), Aggregations: aggs(count())},
			sql:  `SELECT count(*) FROM ev WHERE contains(lower(data), 'needle')`,
		},
		{
			name: "count/contains_data_ignore_case_non_ascii",
			req:  &siltv1.QueryRequest{Filter: contains("data", "kÖln", true), Aggregations: aggs(count())},
			sql:  `SELECT count(*) FROM ev WHERE contains(lower(data), 'köln')`,
		},
		{
			// Simple case folding: ẞ folds to ß (DuckDB's lower agrees here).
			name: "count/contains_data_ignore_case_sharp_s",
			req:  &siltv1.QueryRequest{Filter: contains("data", "STRAẞE", true), Aggregations: aggs(count())},
			sql:  `SELECT count(*) FROM ev WHERE contains(lower(data), 'straße')`,
		},
		{
			// The JSON array payload holds "needle" in data, not in $.note.
			name: "count/contains_json_path_and_subject",
			req: &siltv1.QueryRequest{
				Filter:       or(contains("$.note", "NEEDLE", true), contains("subject", "-123", false)),
				Aggregations: aggs(count()),
			},
			sql: `SELECT count(*) FROM ev WHERE coalesce(contains(lower(jstr(data, '$.note')), 'needle'), false) OR contains(subject, '-123')`,
		},
		{
			name: "count/contains_attribute",
			req: &siltv1.QueryRequest{
				Filter:       or(contains("attributes.org", "ER", true), contains("attributes.org", "ac", false)),
				Aggregations: aggs(count()),
			},
			sql: `SELECT count(*) FROM ev WHERE coalesce(contains(lower(attributes['org']), 'er') OR contains(attributes['org'], 'ac'), false)`,
		},
		{
			name: "count/json_path_string",
			req:  &siltv1.QueryRequest{Filter: eq("$.user.plan", strV("pro")), Aggregations: aggs(count())},
			sql:  `SELECT count(*) FROM ev WHERE jstr(data, '$.user.plan') = 'pro'`,
		},
		{
			name: "count/json_path_number",
			req:  &siltv1.QueryRequest{Filter: compare("$.level", opGE, intV(3)), Aggregations: aggs(count())},
			sql:  `SELECT count(*) FROM ev WHERE jnum(data, '$.level') >= 3`,
		},
		{
			// "3" the string matches only the string; 2 only numbers.
			name: "count/json_path_in_typed",
			req:  &siltv1.QueryRequest{Filter: in("$.level", intV(2), strV("3")), Aggregations: aggs(count())},
			sql:  `SELECT count(*) FROM ev WHERE coalesce(jnum(data, '$.level') = 2 OR jstr(data, '$.level') = '3', false)`,
		},
		{
			// Neither the string "3" nor a missing level is a number other than 3.
			name: "count/json_path_ne",
			req: &siltv1.QueryRequest{
				Filter:       and(compare("$.level", opNE, intV(3)), not(eq("$.user.plan", strV("pro")))),
				Aggregations: aggs(count()),
			},
			sql: `SELECT count(*) FROM ev WHERE jnum(data, '$.level') <> 3 AND NOT coalesce(jstr(data, '$.user.plan') = 'pro', false)`,
		},
		{
			name: "count/json_path_bool",
			req:  &siltv1.QueryRequest{Filter: eq("$.beta", boolV(true)), Aggregations: aggs(count())},
			sql:  `SELECT count(*) FROM ev WHERE jbool(data, '$.beta')`,
		},
		{
			name: "count/metrics",
			req: &siltv1.QueryRequest{
				Filter:       and(compare("metrics.duration", opGT, floatV(100.25)), compare("metrics.bytes", opLE, intV(3000))),
				Aggregations: aggs(count()),
			},
			sql: `SELECT count(*) FROM ev WHERE metrics['duration'] > 100.25 AND metrics['bytes'] <= 3000`,
		},
		{
			name: "count/metric_in",
			req:  &siltv1.QueryRequest{Filter: in("metrics.duration", floatV(10.25), intV(50), floatV(33.5)), Aggregations: aggs(count())},
			sql:  `SELECT count(*) FROM ev WHERE metrics['duration'] IN (10.25, 50, 33.5)`,
		},
		{
			name: "count/string_order_and_seq",
			req: &siltv1.QueryRequest{
				Filter: or(
					and(compare("subject", opGE, strV("user-5")), compare("subject", opLT, strV("user-6"))),
					in("seq", intV(1), intV(2), intV(3), intV(100)),
				),
				Aggregations: aggs(count()),
			},
			sql: `SELECT count(*) FROM ev WHERE (subject >= 'user-5' AND subject < 'user-6') OR seq IN (1, 2, 3, 100)`,
		},
		{
			name: "count/time_compare_or_missing",
			req: &siltv1.QueryRequest{
				Filter:       or(compare("time", opLT, timeV(day(1))), not(exists("time"))),
				Aggregations: aggs(count()),
			},
			sql: fmt.Sprintf(`SELECT count(*) FROM ev WHERE coalesce(epoch_us(time) < %d, false) OR time IS NULL`, us(day(1))),
		},
		{
			name: "count/time_range",
			req:  &siltv1.QueryRequest{Time: timeRange(day(3), day(10)), Aggregations: aggs(count())},
			sql:  fmt.Sprintf(`SELECT count(*) FROM ev WHERE epoch_us(time) >= %d AND epoch_us(time) < %d`, us(day(3)), us(day(10))),
		},
		{
			name: "count/ingest_time_range",
			req:  &siltv1.QueryRequest{IngestTime: timeRange(ingestFrom, ingestTo), Aggregations: aggs(count())},
			sql:  fmt.Sprintf(`SELECT count(*) FROM ev WHERE ingest_ns >= %d AND ingest_ns < %d`, ingestFrom.UnixNano(), ingestTo.UnixNano()),
		},
		{
			// A missing source is its own (null) group, apart from "".
			name: "count/by_source_with_null",
			req:  &siltv1.QueryRequest{GroupBy: by("source"), Aggregations: aggs(count(), agg(fnDistinct, "subject"))},
			sql:  `SELECT source, count(*), count(DISTINCT subject) FROM ev GROUP BY source ORDER BY source NULLS FIRST`,
		},
		{
			name: "count/exists_source_and_empty",
			req: &siltv1.QueryRequest{Filter: and(exists("source"), exists("subject"), compare("subject", opNE, strV(""))),
				GroupBy: by("source"), Aggregations: aggs(count())},
			sql: `SELECT source, count(*) FROM ev WHERE source IS NOT NULL AND subject IS NOT NULL AND subject <> '' GROUP BY source ORDER BY source`,
		},
		{
			// Only the first segment holds these: the second is pruned.
			// (The hot tier is not: a stream's extent knows only its last
			// ingest time, so it prunes only ranges that start later.)
			name: "count/ingest_time_range_early",
			req:  &siltv1.QueryRequest{IngestTime: timeRange(d.ingest[10], d.ingest[20]), GroupBy: by("stream"), Aggregations: aggs(count())},
			sql: fmt.Sprintf(`SELECT stream, count(*) FROM ev WHERE ingest_ns >= %d AND ingest_ns < %d GROUP BY stream ORDER BY stream`,
				d.ingest[10].UnixNano(), d.ingest[20].UnixNano()),
			check: func(t *testing.T, st *siltv1.QueryStats) {
				if st.GetSegmentsPruned() == 0 {
					t.Errorf("stats: %d of %d segments pruned; want some pruned", st.GetSegmentsPruned(), st.GetSegments())
				}
			},
		},
		{
			// Only the hot tier holds these: every segment is pruned.
			name: "count/ingest_time_range_late",
			req:  &siltv1.QueryRequest{IngestTime: timeRange(d.ingest[150], d.ingest[170]), GroupBy: by("stream"), Aggregations: aggs(count())},
			sql: fmt.Sprintf(`SELECT stream, count(*) FROM ev WHERE ingest_ns >= %d AND ingest_ns < %d GROUP BY stream ORDER BY stream`,
				d.ingest[150].UnixNano(), d.ingest[170].UnixNano()),
			check: func(t *testing.T, st *siltv1.QueryStats) {
				if st.GetSegmentsPruned() != st.GetSegments() || st.GetColdRows() != 0 {
					t.Errorf("stats: %d of %d segments pruned, %d cold rows; want every segment pruned", st.GetSegmentsPruned(), st.GetSegments(), st.GetColdRows())
				}
			},
		},
		{
			name: "rate/time_range",
			req:  &siltv1.QueryRequest{Time: timeRange(day(5), day(12)), Aggregations: aggs(rate(), count())},
			sql: fmt.Sprintf(`SELECT count(*) / (7 * 86400)::DOUBLE, count(*) FROM ev
				WHERE epoch_us(time) >= %d AND epoch_us(time) < %d`, us(day(5)), us(day(12))),
		},
		{
			name: "scope/streams",
			req: &siltv1.QueryRequest{
				Streams: []string{"web/pageviews", "api/v1/orders", "audit"}, GroupBy: by("stream"),
				Aggregations: aggs(count(), agg(fnAvg, "metrics.duration")),
			},
			sql: `SELECT stream, count(*), avg(metrics['duration']) FROM ev
				WHERE stream IN ('web/pageviews', 'api/v1/orders', 'audit') GROUP BY stream ORDER BY stream`,
		},
		{
			name: "scope/stream_prefix",
			req: &siltv1.QueryRequest{
				StreamPrefix: "api/", GroupBy: by("stream"),
				Aggregations: aggs(count(), agg(fnCount, "metrics.bytes")),
			},
			sql: `SELECT stream, count(*), count(metrics['bytes']) FROM ev
				WHERE starts_with(stream, 'api/') GROUP BY stream ORDER BY stream`,
		},
		{
			name: "scope/seq_range",
			req: &siltv1.QueryRequest{
				Streams: []string{"web/clicks"}, Seq: &siltv1.SeqRange{FromSeq: seqFrom, ToSeq: seqTo},
				Aggregations: aggs(count(), agg(fnMin, "seq"), agg(fnMax, "seq"), agg(fnSum, "metrics.duration")),
			},
			sql: fmt.Sprintf(`SELECT count(*), min(seq)::DOUBLE, max(seq)::DOUBLE, sum(metrics['duration']) FROM ev
				WHERE stream = 'web/clicks' AND seq BETWEEN %d AND %d`, seqFrom, seqTo),
		},
		{
			// Small streams: the segment reader seeks to their rows.
			name: "scope/small_streams_seek", plan: "seek to",
			req: &siltv1.QueryRequest{
				Streams: []string{"audit", "jobs/nightly", "email/bounced"}, GroupBy: by("stream"),
				Filter:       exists("metrics.duration"),
				Aggregations: aggs(count(), agg(fnSum, "metrics.duration"), agg(fnMax, "seq")),
			},
			sql: `SELECT stream, count(*), sum(metrics['duration']), max(seq)::DOUBLE FROM ev
				WHERE stream IN ('audit', 'jobs/nightly', 'email/bounced') AND map_contains(metrics, 'duration')
				GROUP BY stream ORDER BY stream`,
		},
		{
			name: "scope/small_stream_seq_range_count", plan: "seek to",
			req: &siltv1.QueryRequest{
				Streams: []string{"jobs/hourly"}, Aggregations: aggs(count()),
				Seq: &siltv1.SeqRange{FromSeq: uint64(d.coldSize["jobs/hourly"] / 3), ToSeq: uint64(d.coldSize["jobs/hourly"] + 7)},
			},
			sql: fmt.Sprintf(`SELECT count(*) FROM ev WHERE stream = 'jobs/hourly' AND seq BETWEEN %d AND %d`,
				d.coldSize["jobs/hourly"]/3, d.coldSize["jobs/hourly"]+7),
		},
		{
			name: "group/type",
			req: &siltv1.QueryRequest{GroupBy: by("type"), Aggregations: aggs(count(), agg(fnCount, "metrics.duration"),
				agg(fnSum, "metrics.duration"), agg(fnAvg, "metrics.duration"), agg(fnMin, "metrics.duration"), agg(fnMax, "metrics.duration"))},
			sql: `SELECT type, count(*), count(metrics['duration']), sum(metrics['duration']), avg(metrics['duration']),
				min(metrics['duration']), max(metrics['duration']) FROM ev GROUP BY type ORDER BY type`,
		},
		{
			// Groups with no duration at all: null, not 0.
			name: "group/no_values_is_null",
			req: &siltv1.QueryRequest{
				Filter:  or(not(exists("metrics.duration")), eq("type", strV("job.run"))),
				GroupBy: by("type"), Aggregations: aggs(count(), agg(fnSum, "metrics.duration"), agg(fnAvg, "metrics.duration"),
					agg(fnMin, "metrics.duration"), agg(fnMax, "metrics.duration"), pct("metrics.duration", 50)),
			},
			sql: `SELECT type, count(*), sum(metrics['duration']), avg(metrics['duration']), min(metrics['duration']),
				max(metrics['duration']), quantile_cont(metrics['duration'], 0.5)
				FROM ev WHERE NOT map_contains(metrics, 'duration') OR type = 'job.run' GROUP BY type ORDER BY type`,
		},
		{
			name: "group/attribute_null_first",
			req: &siltv1.QueryRequest{GroupBy: by("attributes.status"),
				Aggregations: aggs(count(), agg(fnAvg, "metrics.duration"), agg(fnMax, "metrics.bytes"))},
			sql: `SELECT attributes['status'] AS s, count(*), avg(metrics['duration']), max(metrics['bytes'])
				FROM ev GROUP BY s ORDER BY s NULLS FIRST`,
		},
		{
			name: "group/stream_percentiles",
			req: &siltv1.QueryRequest{GroupBy: by("stream"), Aggregations: aggs(count(),
				pct("metrics.duration", 50), pct("metrics.duration", 95), pct("metrics.duration", 99), pct("metrics.bytes", 50))},
			sql: `SELECT stream, count(*), quantile_cont(metrics['duration'], 0.5), quantile_cont(metrics['duration'], 0.95),
				quantile_cont(metrics['duration'], 0.99), quantile_cont(metrics['bytes'], 0.5) FROM ev GROUP BY stream ORDER BY stream`,
		},
		{
			name: "percentiles/filtered",
			req: &siltv1.QueryRequest{Filter: eq("type", strV("error")), Aggregations: aggs(
				pct("metrics.duration", 50), pct("metrics.duration", 95), pct("metrics.duration", 99),
				pct("metrics.duration", 99.9), pct("metrics.duration", 100), pct("metrics.bytes", 1))},
			sql: `SELECT quantile_cont(metrics['duration'], 0.5), quantile_cont(metrics['duration'], 0.95),
				quantile_cont(metrics['duration'], 0.99), quantile_cont(metrics['duration'], 0.999),
				quantile_cont(metrics['duration'], 1.0), quantile_cont(metrics['bytes'], 0.01) FROM ev WHERE type = 'error'`,
		},
		{
			name: "group/json_path",
			req: &siltv1.QueryRequest{GroupBy: by("$.user.plan"), Aggregations: aggs(count(),
				agg(fnDistinct, "subject"), agg(fnAvg, "$.level"), agg(fnCount, "$.level"))},
			sql: `SELECT jstr(data, '$.user.plan') AS plan, count(*), count(DISTINCT subject), avg(jnum(data, '$.level')),
				count(*) FILTER (WHERE jexists(data, '$.level')) FROM ev GROUP BY plan ORDER BY plan NULLS FIRST`,
		},
		{
			name: "group/json_path_sums",
			req: &siltv1.QueryRequest{GroupBy: by("type"), Aggregations: aggs(
				agg(fnSum, "$.items"), agg(fnAvg, "$.items"), agg(fnMin, "$.items"), agg(fnMax, "$.items"), pct("$.items", 90))},
			sql: `SELECT type, sum(jnum(data, '$.items')), avg(jnum(data, '$.items')), min(jnum(data, '$.items')),
				max(jnum(data, '$.items')), quantile_cont(jnum(data, '$.items'), 0.9) FROM ev GROUP BY type ORDER BY type`,
		},
		{
			name: "group/seq_by_stream",
			req: &siltv1.QueryRequest{GroupBy: by("stream"),
				Aggregations: aggs(count(), agg(fnMin, "seq"), agg(fnMax, "seq"), agg(fnAvg, "seq"))},
			sql: `SELECT stream, count(*), min(seq)::DOUBLE, max(seq)::DOUBLE, avg(seq)::DOUBLE FROM ev GROUP BY stream ORDER BY stream`,
		},
		{
			// Keys with dots, array indices, and one group per batch of
			// the Append calls.
			name: "group/dotted_keys_and_index",
			req: &siltv1.QueryRequest{GroupBy: by("attributes.http.method", "$.tags[0]"),
				Filter:       eq(`$["geo.country"]`, strV("DE")),
				Aggregations: aggs(count(), agg(fnCount, "time"), agg(fnDistinct, "time"))},
			sql: `SELECT attributes['http.method'] AS m, jstr(data, '$.tags[0]') AS tag, count(*), count(time), count(DISTINCT time)
				FROM ev WHERE jstr(data, '$."geo.country"') = 'DE' GROUP BY m, tag ORDER BY m NULLS FIRST, tag NULLS FIRST`,
		},
		{
			name: "group/ingest_time",
			req:  &siltv1.QueryRequest{GroupBy: by("ingest_time", "stream"), Aggregations: aggs(count(), agg(fnMin, "seq"))},
			sql:  `SELECT ingest_time, stream, count(*), min(seq)::DOUBLE FROM ev GROUP BY ingest_time, stream ORDER BY ingest_time, stream`,
		},
		{
			name: "group/two_keys",
			req: &siltv1.QueryRequest{GroupBy: by("type", "attributes.org"),
				Aggregations: aggs(count(), agg(fnMax, "metrics.bytes"))},
			sql: `SELECT type, attributes['org'] AS org, count(*), max(metrics['bytes']) FROM ev
				GROUP BY type, org ORDER BY type, org NULLS FIRST`,
		},
		{
			name: "distinct/by_org",
			req: &siltv1.QueryRequest{GroupBy: by("attributes.org"), Aggregations: aggs(
				agg(fnDistinct, "subject"), agg(fnDistinct, "$.user.id"), agg(fnDistinct, "attributes.status"), agg(fnDistinct, "$.level"))},
			// The number 3 and the string "3" are two values; so are
			// their JSON texts.
			sql: `SELECT attributes['org'] AS org, count(DISTINCT subject), count(DISTINCT jnum(data, '$.user.id')),
				count(DISTINCT attributes['status']), count(DISTINCT json_extract(data, '$.level'))
				FROM ev GROUP BY org ORDER BY org NULLS FIRST`,
		},
		{
			name: "distinct/filtered",
			req: &siltv1.QueryRequest{Filter: in("type", strs("order.created", "order.paid")...),
				Aggregations: aggs(agg(fnDistinct, "$.user.id"), agg(fnDistinct, "subject"), count())},
			sql: `SELECT count(DISTINCT jnum(data, '$.user.id')), count(DISTINCT subject), count(*) FROM ev
				WHERE type IN ('order.created', 'order.paid')`,
		},
		{
			// Three pages of 300 rows or fewer.
			name: "bucket/hour",
			req: &siltv1.QueryRequest{GroupBy: []*siltv1.GroupBy{bucket("time", time.Hour)}, Limit: 300,
				Aggregations: aggs(count(), rate(), pct("metrics.duration", 95))},
			// The events without a time are a group, whose rate is null.
			sql: `SELECT time_bucket(INTERVAL '1 hour', time) AS b, count(*), CASE WHEN b IS NOT NULL THEN count(*) / 3600::DOUBLE END,
				quantile_cont(metrics['duration'], 0.95) FROM ev GROUP BY b ORDER BY b NULLS FIRST`,
		},
		{
			// The bucket as the second key still gives the rate its width.
			name: "bucket/type_and_hour",
			req: &siltv1.QueryRequest{Time: timeRange(day(2), day(4)), GroupBy: append(by("type"), bucket("", time.Hour)),
				Aggregations: aggs(count(), rate())},
			sql: fmt.Sprintf(`SELECT type, time_bucket(INTERVAL '1 hour', time) AS b, count(*), count(*) / 3600::DOUBLE FROM ev
				WHERE epoch_us(time) >= %d AND epoch_us(time) < %d GROUP BY type, b ORDER BY type, b`, us(day(2)), us(day(4))),
		},
		{
			name: "bucket/ingest_second",
			req:  &siltv1.QueryRequest{GroupBy: []*siltv1.GroupBy{bucket("ingest_time", time.Second)}, Aggregations: aggs(count())},
			sql: `SELECT make_timestamp(ingest_ns // 1000000000 * 1000000) AS b, count(*) FROM ev
				GROUP BY b ORDER BY b`,
		},
		{
			// Calendar days from local midnight: 23, 24, 24.5 or 25 hours
			// long, which the rate must use.
			name: "bucket/calendar_day_in_zone", needsZone: stZone,
			req: &siltv1.QueryRequest{GroupBy: []*siltv1.GroupBy{calendarDay(stZone)}, Aggregations: aggs(count(), rate())},
			sql: fmt.Sprintf(`WITH b AS (
					SELECT timezone('%[1]s', date_trunc('day', timezone('%[1]s', timezone('UTC', time)))) AS day FROM ev)
				SELECT day, count(*),
					count(*) / (epoch(timezone('%[1]s', date_trunc('day', timezone('%[1]s', day)) + INTERVAL 1 day)) - epoch(day))
				FROM b GROUP BY day ORDER BY day NULLS FIRST`, stZone),
		},
		{
			// ISO weeks from Monday midnight, local time.
			name: "bucket/calendar_week_in_zone", needsZone: stZone,
			req: &siltv1.QueryRequest{
				GroupBy: []*siltv1.GroupBy{{Kind: &siltv1.GroupBy_TimeBucket{TimeBucket: &siltv1.TimeBucket{
					Calendar: siltv1.CalendarUnit_CALENDAR_UNIT_WEEK, TimeZone: stZone,
				}}}},
				Aggregations: aggs(count(), rate(), agg(fnSum, "metrics.duration")),
			},
			sql: fmt.Sprintf(`WITH b AS (
					SELECT timezone('%[1]s', date_trunc('week', timezone('%[1]s', timezone('UTC', time)))) AS week, metrics FROM ev)
				SELECT week, count(*),
					count(*) / (epoch(timezone('%[1]s', date_trunc('week', timezone('%[1]s', week)) + INTERVAL 7 day)) - epoch(week)),
					sum(metrics['duration'])
				FROM b GROUP BY week ORDER BY week NULLS FIRST`, stZone),
		},
	}
}

// listCase is a listing query, paged or not, asked of both engines.
type listCase struct {
	name string
	req  *siltv1.QueryRequest // the project is set by the test
	// sql selects stream and seq of every matching event, in order.
	sql string
	// pages: read every page; else only the first.
	pages bool
	// noTime: the events listed must include some without a time,
	// followed by some with one.
	noTime bool
	// plan is as in aggregateCase, for every page.
	plan string
}

// listCases are the listing questions about the data set d.
func listCases(d *queryData) []listCase {
	clicks := d.streamSize["web/clicks"]
	from := uint64(clicks / 3)
	hourly := d.streamSize["jobs/hourly"]
	invoices, invoicesCold := d.streamSize["billing/invoices"], d.coldSize["billing/invoices"]
	return []listCase{
		{
			name: "list/seq_desc_projected",
			req: &siltv1.QueryRequest{
				StreamPrefix: "web/", Filter: in("type", strs("click", "error")...),
				Order: siltv1.QueryOrder_QUERY_ORDER_SEQ_DESC, Limit: 40,
				Fields: []string{"type", "time", "attributes.org", "metrics.duration"},
			},
			sql: `SELECT stream, seq FROM ev WHERE starts_with(stream, 'web/') AND type IN ('click', 'error')
				ORDER BY stream DESC, seq DESC`,
		},
		{
			name: "list/time_asc_pages", pages: true, noTime: true,
			req: &siltv1.QueryRequest{
				Filter: and(in("attributes.org", strs("Initech", "Hooli")...), in("type", strs("order.created", "order.paid", "user.login")...)),
				Limit:  uint32(len(d.events) / 300),
			},
			// Events without a time sort by their ingest time.
			sql: `SELECT stream, seq FROM ev WHERE attributes['org'] IN ('Initech', 'Hooli')
				AND type IN ('order.created', 'order.paid', 'user.login')
				ORDER BY coalesce(epoch_ns(time), ingest_ns), stream, seq`,
		},
		{
			name: "list/time_desc_pages", pages: true,
			req: &siltv1.QueryRequest{
				Filter: and(eq("attributes.org", strV("Wonka")), in("attributes.status", strs("error", "timeout")...)),
				Order:  siltv1.QueryOrder_QUERY_ORDER_TIME_DESC, Limit: uint32(len(d.events) / 1000),
				Fields: []string{"time", "ingest_time", "type", "data"},
			},
			sql: `SELECT stream, seq FROM ev WHERE attributes['org'] = 'Wonka' AND attributes['status'] IN ('error', 'timeout')
				ORDER BY coalesce(epoch_ns(time), ingest_ns) DESC, stream DESC, seq DESC`,
		},
		{
			name: "list/time_desc_json_path_field",
			req: &siltv1.QueryRequest{
				Filter: contains("data", "needle", false), Order: siltv1.QueryOrder_QUERY_ORDER_TIME_DESC, Limit: 100,
				Fields: []string{"$.user.plan", "ingest_time"},
			},
			sql: `SELECT stream, seq FROM ev WHERE contains(data, 'needle')
				ORDER BY coalesce(epoch_ns(time), ingest_ns) DESC, stream DESC, seq DESC`,
		},
		{
			// No filter: only each page's seqs are read, cold then hot.
			name: "list/one_stream_seq_asc_pages", pages: true, plan: "listing one stream in seq order",
			req: &siltv1.QueryRequest{
				Streams: []string{"jobs/hourly"}, Order: siltv1.QueryOrder_QUERY_ORDER_SEQ_ASC, Limit: uint32(hourly/6 + 1),
			},
			sql: `SELECT stream, seq FROM ev WHERE stream = 'jobs/hourly' ORDER BY seq`,
		},
		{
			// Hot then cold, in a seq range across the two.
			name: "list/one_stream_seq_desc_pages", pages: true, plan: "listing one stream in seq order",
			req: &siltv1.QueryRequest{
				Streams: []string{"billing/invoices"}, Order: siltv1.QueryOrder_QUERY_ORDER_SEQ_DESC,
				Seq:    &siltv1.SeqRange{FromSeq: uint64(invoicesCold / 2), ToSeq: uint64((invoicesCold + invoices) / 2)},
				Limit:  uint32(invoices/8 + 1),
				Fields: []string{"type", "attributes.status", "time"},
			},
			sql: fmt.Sprintf(`SELECT stream, seq FROM ev WHERE stream = 'billing/invoices' AND seq BETWEEN %d AND %d ORDER BY seq DESC`,
				invoicesCold/2, (invoicesCold+invoices)/2),
		},
		{
			name: "list/seq_range_pages", pages: true,
			req: &siltv1.QueryRequest{
				Streams: []string{"web/clicks"}, Seq: &siltv1.SeqRange{FromSeq: from, ToSeq: from + 200},
				Filter: exists("metrics.duration"), Order: siltv1.QueryOrder_QUERY_ORDER_SEQ_ASC, Limit: 37,
				Fields: []string{"id", "subject", "metrics.bytes", "attributes.status"},
			},
			sql: fmt.Sprintf(`SELECT stream, seq FROM ev WHERE stream = 'web/clicks' AND seq BETWEEN %d AND %d
				AND map_contains(metrics, 'duration') ORDER BY seq`, from, from+200),
		},
	}
}
