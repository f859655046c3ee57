package duckcheck

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/silt-io/silt/pkg/event"
)

// TimePrecision is the precision of the times DuckDB reads from a segment:
// it maps Parquet TIMESTAMP(NANOS, isAdjustedToUTC) to TIMESTAMP WITH TIME
// ZONE, which holds microseconds, so the nanoseconds Silt stores are cut off.
const TimePrecision = time.Microsecond

// Source returns the DuckDB table expression that reads every segment under
// root, with the hive partition columns project (VARCHAR) and date (DATE)
// next to the segment's own columns. Use it to write ad-hoc queries:
//
//	"SELECT project, count(*) FROM " + Source(root) + " GROUP BY ALL"
//
// root must not contain the glob characters * ? [ (they would widen the glob).
func Source(root string) string {
	glob := strings.TrimRight(root, "/") + "/**/*.parquet"
	return "read_parquet(" + quote(glob) +
		", hive_partitioning = true, hive_types = {'project': VARCHAR, 'date': DATE})"
}

// quote makes s a DuckDB string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// columns lists what ReadEvents selects, in the order readRow scans them.
const columns = "project, stream, seq, id, type, source, subject, time, ingest_time, " +
	"attributes, metrics, content_type, data, data_binary"

// ReadEvents reads every event of every segment under root with an
// in-memory DuckDB and returns them ordered by (project, stream, seq). Project
// comes from the hive partition; times are in UTC at [TimePrecision]; empty
// maps and data are nil. It fails when root holds no segment, or on a row
// that no segment writer makes (both or neither of data and data_binary set,
// map keys or values of the wrong type).
func ReadEvents(ctx context.Context, root string) ([]event.Event, error) {
	if strings.ContainsAny(root, "*?[") {
		return nil, fmt.Errorf("read segments under %q: root contains a glob character", root)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	defer db.Close()
	q := "SELECT " + columns + " FROM " + Source(root) + " ORDER BY project, stream, seq"
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read segments under %s: %w", root, err)
	}
	defer rows.Close()
	var out []event.Event
	for rows.Next() {
		e, err := readRow(rows)
		if err != nil {
			return nil, fmt.Errorf("read row %d under %s: %w", len(out), root, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read segments under %s: %w", root, err)
	}
	return out, nil
}

// readRow converts the current row, selected as in columns, to an event.
func readRow(rows *sql.Rows) (event.Event, error) {
	var (
		e            event.Event
		src, sub     sql.NullString // null: absent
		tm           sql.NullTime
		attrs, mets  duckdb.OrderedMap
		data         sql.NullString
		binary       []byte
		binaryIsNull = true
	)
	err := rows.Scan(&e.Project, &e.Stream, &e.Seq, &e.ID, &e.Type, &src, &sub,
		&tm, &e.IngestTime, &attrs, &mets, &e.ContentType, &data, nullBytes{&binary, &binaryIsNull})
	if err != nil {
		return e, err
	}
	e.Source, e.Subject = src.String, sub.String
	if tm.Valid {
		e.Time = tm.Time.UTC()
	}
	e.IngestTime = e.IngestTime.UTC()
	if e.Attributes, err = mapOf[string](attrs); err != nil {
		return e, fmt.Errorf("attributes: %w", err)
	}
	if e.Metrics, err = mapOf[float64](mets); err != nil {
		return e, fmt.Errorf("metrics: %w", err)
	}
	switch {
	case data.Valid && !binaryIsNull:
		return e, errors.New("both data and data_binary are set")
	case data.Valid:
		e.Data = []byte(data.String)
	case !binaryIsNull:
		e.Data = binary
	}
	if len(e.Data) == 0 {
		e.Data = nil
	}
	// Neither data nor data_binary: no payload.
	e.SetPresent(src.Valid, sub.Valid, data.Valid || !binaryIsNull)
	return e, nil
}

// nullBytes scans a BLOB, telling NULL apart from an empty value.
type nullBytes struct {
	b      *[]byte
	isNull *bool
}

// Scan implements sql.Scanner.
func (n nullBytes) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*n.b, *n.isNull = nil, true
	case []byte:
		*n.b, *n.isNull = append([]byte(nil), v...), false
	default:
		return fmt.Errorf("data_binary: unexpected %T", v)
	}
	return nil
}

// mapOf converts a DuckDB MAP(VARCHAR, V) to a Go map; empty gives nil.
func mapOf[V any](m duckdb.OrderedMap) (map[string]V, error) {
	if m.Len() == 0 {
		return nil, nil
	}
	out := make(map[string]V, m.Len())
	vals := m.Values()
	for i, k := range m.Keys() {
		ks, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("key %v is %T, not string", k, k)
		}
		v, ok := vals[i].(V)
		if !ok {
			return nil, fmt.Errorf("value of %q is %T", ks, vals[i])
		}
		if _, dup := out[ks]; dup {
			return nil, fmt.Errorf("key %q appears twice", ks)
		}
		out[ks] = v
	}
	return out, nil
}
