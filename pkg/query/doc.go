// Package query runs typed queries over a project's events in both tiers:
// the Parquet segments of the history tier and the hot tier. A [Request]
// names the events (scope, time or seq range, a filter), and either lists
// them or groups and aggregates them. The planner picks the segments and
// row groups that can match from the manifest and the Parquet statistics;
// execution reads only the columns the request needs, as Arrow arrays in
// batches, evaluates filters and aggregates column by column, and counts
// each event once even while a rotation runs.
//
// docs/query.md describes the request, the plan and the error bounds of
// the approximate aggregates.
package query
