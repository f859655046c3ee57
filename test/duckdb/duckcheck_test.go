package duckcheck

import (
	"cmp"
	"database/sql"
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/silt-io/silt/pkg/event"
)

const seed = 20260301

// history writes the test history under a fresh root and returns both.
func history(t *testing.T) (root string, events []event.Event) {
	t.Helper()
	root = t.TempDir()
	events = genHistory(seed)
	infos := writeHistory(t, root, events)
	if len(infos) != len(genProjects)*genDays {
		t.Fatalf("wrote %d segments, want one per project and day (%d)", len(infos), len(genProjects)*genDays)
	}
	for path, info := range infos {
		if len(info.RowGroups) < 2 {
			t.Fatalf("segment %s has %d row groups, want several", path, len(info.RowGroups))
		}
	}
	return root, events
}

// sortEvents sorts events as ReadEvents returns them.
func sortEvents(events []event.Event) {
	slices.SortFunc(events, func(a, b event.Event) int {
		return cmp.Or(cmp.Compare(a.Project, b.Project), cmp.Compare(a.Stream, b.Stream), cmp.Compare(a.Seq, b.Seq))
	})
}

func openDuckDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestReadEvents_RoundTrip(t *testing.T) {
	t.Parallel()
	root, want := history(t)
	got, err := ReadEvents(t.Context(), root)
	if err != nil {
		t.Fatal(err)
	}
	if err := Compare(want, got); err != nil {
		t.Fatal(err)
	}
	// The history must exercise what Compare forgives and what it must not.
	var nanos, noTime, binary int
	for _, e := range want {
		if e.IngestTime.Nanosecond()%1000 != 0 {
			nanos++
		}
		if e.Time.IsZero() {
			noTime++
		}
		if !e.IsJSON() {
			binary++
		}
	}
	if len(want) < 3000 || nanos == 0 || noTime == 0 || binary == 0 {
		t.Fatalf("history too plain: %d events, %d with nanoseconds, %d without time, %d binary", len(want), nanos, noTime, binary)
	}
	t.Logf("%d events; %d ingest times lost their nanoseconds in DuckDB", len(got), nanos)
}

// TestReadEvents_TimePrecision pins down what DuckDB does to nanoseconds:
// it cuts them off (never rounds, which could move an event to the next
// day). When DuckDB keeps them, this fails: make TimePrecision a nanosecond.
func TestReadEvents_TimePrecision(t *testing.T) {
	t.Parallel()
	root, want := history(t)
	got, err := ReadEvents(t.Context(), root)
	if err != nil {
		t.Fatal(err)
	}
	sortEvents(want)
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	lastOfDay := 0
	for i := range got {
		w, g := want[i].IngestTime, got[i].IngestTime
		if g.Nanosecond()%int(TimePrecision) != 0 || w.Sub(g) < 0 || w.Sub(g) >= TimePrecision {
			t.Fatalf("event %d: ingest time %s read as %s", i, w.Format(time.RFC3339Nano), g.Format(time.RFC3339Nano))
		}
		if w.Add(1).Day() != w.Day() {
			lastOfDay++
		}
	}
	if lastOfDay == 0 {
		t.Fatal("no event at the last nanosecond of a day")
	}
}

func TestReadEvents_HivePartitions(t *testing.T) {
	t.Parallel()
	root, events := history(t)
	db := openDuckDB(t)
	// Every row's date partition is the UTC day of its ingest time.
	var rows, wrong int64
	err := db.QueryRowContext(t.Context(), `SELECT count(*),
		count(*) FILTER (WHERE date <> CAST(ingest_time AT TIME ZONE 'UTC' AS DATE))
		FROM `+Source(root)).Scan(&rows, &wrong)
	if err != nil {
		t.Fatal(err)
	}
	if rows != int64(len(events)) || wrong != 0 {
		t.Fatalf("%d rows, %d in the wrong date partition; want %d rows, 0 wrong", rows, wrong, len(events))
	}
	// The partitions are the (project, day) pairs the events have.
	type part struct {
		project, day string
		count        int64
	}
	want := map[[2]string]int64{}
	for _, e := range events {
		want[[2]string{e.Project, e.IngestTime.UTC().Format(time.DateOnly)}]++
	}
	q := `SELECT project, strftime(date, '%Y-%m-%d'), typeof(project), typeof(date), count(*)
		FROM ` + Source(root) + ` GROUP BY ALL ORDER BY ALL`
	res, err := db.QueryContext(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	got := map[[2]string]int64{}
	for res.Next() {
		var p part
		var pt, dt string
		if err := res.Scan(&p.project, &p.day, &pt, &dt, &p.count); err != nil {
			t.Fatal(err)
		}
		if pt != "VARCHAR" || dt != "DATE" {
			t.Fatalf("partition columns typed %s, %s; want VARCHAR, DATE", pt, dt)
		}
		got[[2]string{p.project, p.day}] = p.count
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) {
		t.Fatalf("partitions: got %v, want %v", got, want)
	}
}

// streamStats is what TestSource_Aggregates computes per (project, stream),
// once in SQL and once in Go.
type streamStats struct {
	Events, NoTime, Binary, Items int64
	DurationMS                    float64
	MaxSeq                        uint64
}

func TestSource_Aggregates(t *testing.T) {
	t.Parallel()
	root, events := history(t)
	want := map[[2]string]streamStats{}
	for _, e := range events {
		k := [2]string{e.Project, e.Stream}
		s := want[k]
		s.Events++
		s.MaxSeq = max(s.MaxSeq, e.Seq)
		// NoTime stays 0: the writer stores an event without a time with
		// its ingest time, so the time column has no null.
		if !e.IsJSON() {
			s.Binary++
		}
		s.DurationMS += e.Metrics["duration_ms"]
		var p payload
		if e.IsJSON() && json.Unmarshal(e.Data, &p) == nil {
			s.Items += int64(p.Items)
		}
		want[k] = s
	}
	db := openDuckDB(t)
	// DuckDB parses the JSON payloads itself; its sum of quarter
	// milliseconds is exact in any order.
	q := `SELECT project, stream, count(*), count(*) FILTER (WHERE time IS NULL),
		count(*) FILTER (WHERE content_type <> 'application/json'),
		coalesce(sum(TRY_CAST(json_extract_string(TRY_CAST(data AS JSON), '$.items') AS BIGINT)), 0),
		coalesce(sum(metrics['duration_ms']), 0), max(seq)
		FROM ` + Source(root) + ` GROUP BY ALL ORDER BY ALL`
	rows, err := db.QueryContext(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[[2]string]streamStats{}
	for rows.Next() {
		var k [2]string
		var s streamStats
		if err := rows.Scan(&k[0], &k[1], &s.Events, &s.NoTime, &s.Binary, &s.Items, &s.DurationMS, &s.MaxSeq); err != nil {
			t.Fatal(err)
		}
		got[k] = s
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	keys := slices.SortedFunc(maps.Keys(want), func(a, b [2]string) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	for _, k := range keys {
		if got[k] != want[k] {
			t.Errorf("%s/%s: DuckDB %+v, Go %+v", k[0], k[1], got[k], want[k])
		}
	}
	if len(got) != len(want) {
		t.Errorf("DuckDB sees %d streams, Go %d", len(got), len(want))
	}
}

func TestReadEvents_NoSegments(t *testing.T) {
	t.Parallel()
	if _, err := ReadEvents(t.Context(), t.TempDir()); err == nil {
		t.Fatal("ReadEvents of an empty root: no error")
	}
	if _, err := ReadEvents(t.Context(), "/tmp/a[b"); err == nil {
		t.Fatal("ReadEvents of a root with a glob character: no error")
	}
}

// TestSource_NumericProject: a root whose only project looks like a number
// still has a VARCHAR project column (DuckDB's hive type guessing would make
// "7002" a BIGINT, "0042" it leaves alone).
func TestSource_NumericProject(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	var want []event.Event
	for _, e := range genHistory(seed) {
		if e.Project == "7002" && e.Stream == "api.calls" {
			want = append(want, e)
		}
	}
	writeHistory(t, root, want)
	got, err := ReadEvents(t.Context(), root)
	if err != nil {
		t.Fatal(err)
	}
	if err := Compare(want, got); err != nil {
		t.Fatal(err)
	}
	var typ string
	if err := openDuckDB(t).QueryRowContext(t.Context(), "SELECT DISTINCT typeof(project) FROM "+Source(root)).Scan(&typ); err != nil {
		t.Fatal(err)
	}
	if typ != "VARCHAR" {
		t.Fatalf("project column is %s, want VARCHAR", typ)
	}
}
