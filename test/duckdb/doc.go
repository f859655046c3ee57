// Package duckcheck proves that an external engine, DuckDB, reads Silt's
// Parquet history directly: it reads every segment under a segments root
// with DuckDB's own Parquet reader (no Silt code on the read path) and turns
// the rows back into [event.Event] values to compare with what was written.
//
// It is a nested module with its own go.mod, so the cgo DuckDB dependency
// never reaches the product module, which stays CGO-free; tests that use
// it (say, one that rotates events through a real server) belong in this
// module too. Run its tests with
//
//	make test-duckdb
//
// DuckDB is also the reference engine for QueryService.Query:
// TestQuery_MatchesDuckDB appends a data set through the API, loads the
// same events into a DuckDB table, and requires both engines to answer
// each of its questions alike (docs/query.md gives the semantics).
//
// What DuckDB sees, and how [ReadEvents] maps it back:
//
//   - Segments live at manifest.Path layout,
//     <root>/project=<p>/date=<yyyy-mm-dd>/<id>.parquet. [Source] reads them with
//     hive_partitioning and types the partition columns explicitly (project
//     VARCHAR, date DATE): DuckDB's type guessing would otherwise make the
//     column BIGINT when every project name is digits, like "7002". Temporary
//     files of writers in progress ("<id>.parquet.tmp-…") and MANIFEST.json do
//     not match the glob.
//   - time and ingest_time are Parquet TIMESTAMP(NANOS, isAdjustedToUTC).
//     DuckDB reads them as TIMESTAMP WITH TIME ZONE, whose precision is a
//     microsecond: the last three digits of Silt's nanosecond times are
//     dropped (toward 1970: DuckDB divides the nanoseconds since the epoch).
//     [TimePrecision] says so and [Compare] allows exactly that loss.
//   - data (JSON text) and data_binary (everything else) are two columns, of
//     which exactly one is non-null per row; ReadEvents merges them into Data
//     and fails on a row that breaks the rule.
//   - Like segment.Reader, ReadEvents returns empty maps and empty data as nil
//     and times in UTC.
package duckcheck
