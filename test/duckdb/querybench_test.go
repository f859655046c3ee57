package duckcheck

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/hot"
	"github.com/silt-io/silt/pkg/query"
	"github.com/silt-io/silt/pkg/query/querytest"
	silttiered "github.com/silt-io/silt/pkg/tiered"
)

// openBenchTiers opens a hot and a history store in dir (no background
// work) for the query benchmark.
func openBenchTiers(b *testing.B, dir string) (*hot.Store, *silttiered.Store) {
	b.Helper()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	hopts := hot.DefaultOptions(filepath.Join(dir, "hot"))
	hopts.Sync, hopts.Logger = false, quiet
	h, err := hot.Open(hopts)
	if err != nil {
		b.Fatal(err)
	}
	hist, err := silttiered.Open(context.Background(), silttiered.Options{Root: filepath.Join(dir, "segments"), Hot: h, CheckEvery: -1, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = hist.Close(context.Background())
		_ = h.Close(context.Background())
	})
	return h, hist
}

// BenchmarkQueryVsDuckDB runs issue 5's six queries through Silt's engine
// and the equivalent SQL through DuckDB (2 threads, as many as the
// machine's cores) over the same Parquet segments, in one run:
// SILT_BENCH_QUERY_EVENTS events (default 10,000,000), kept in
// SILT_BENCH_QUERY_DIR between runs when it is set.
func BenchmarkQueryVsDuckDB(b *testing.B) {
	n, err := querytest.Events(10_000_000)
	if err != nil {
		b.Fatal(err)
	}
	dir := os.Getenv("SILT_BENCH_QUERY_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	_, statErr := os.Stat(filepath.Join(dir, "hot"))
	h, hist := openBenchTiers(b, dir)
	if os.IsNotExist(statErr) {
		start := time.Now()
		if err := querytest.Analytics(context.Background(), h, hist, querytest.Project, n, func(done int) {
			b.Logf("%d events in segments after %v", done, time.Since(start).Round(time.Second))
		}); err != nil {
			b.Fatal(err)
		}
	}
	eng := query.New(hist, query.Options{})
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("SET threads = 2"); err != nil {
		b.Fatal(err)
	}
	src := fmt.Sprintf("read_parquet('%s/segments/**/*.parquet', hive_partitioning = true)", dir)
	end := "TIMESTAMPTZ '" + querytest.End.Format("2006-01-02 15:04:05") + "+00'"
	// The SQL of each of querytest.Queries, by name.
	sqlOf := map[string]string{
		"count-org-24h": "SELECT count(*) FROM " + src + " WHERE attributes['org'] = 'org-042' AND time >= " + end + " - INTERVAL 1 DAY AND time < " + end,
		"by-type-7d":    "SELECT type, count(*) FROM " + src + " WHERE time >= " + end + " - INTERVAL 7 DAY AND time < " + end + " GROUP BY type ORDER BY type",
		"percentiles-hourly-org-24h": "SELECT time_bucket(INTERVAL 1 HOUR, time) AS b, quantile_cont(metrics['duration'], 0.5), quantile_cont(metrics['duration'], 0.95), quantile_cont(metrics['duration'], 0.99) FROM " + src +
			" WHERE attributes['org'] = 'org-042' AND time >= " + end + " - INTERVAL 1 DAY AND time < " + end + " GROUP BY b ORDER BY b",
		"distinct-users-org-30d": "SELECT count(DISTINCT attributes['user']) FROM " + src + " WHERE attributes['org'] = 'org-042' AND time >= " + end + " - INTERVAL 30 DAY AND time < " + end,
		"newest-1000-of-stream":  "SELECT * FROM " + src + " WHERE stream = 's-0042' ORDER BY seq DESC LIMIT 1000",
		"needle-in-stream":       "SELECT count(*) FROM " + src + " WHERE stream = 's-0042' AND contains(data, 'a needle')",
	}
	for _, tc := range querytest.Queries() {
		sql, ok := sqlOf[tc.Name]
		if !ok {
			b.Fatalf("no SQL for query %s", tc.Name)
		}
		var siltRows, duckRows int
		// One untimed run of each engine first: Silt opens and checks the
		// segments' readers on first use, and both read the files into the
		// page cache.
		if _, err := eng.Query(context.Background(), tc.Req); err != nil {
			b.Fatal(err)
		}
		if rows, err := db.Query(sql); err != nil {
			b.Fatal(err)
		} else {
			rows.Close()
		}
		b.Run(tc.Name+"/engine=silt", func(b *testing.B) {
			for b.Loop() {
				res, err := eng.Query(context.Background(), tc.Req)
				if err != nil {
					b.Fatal(err)
				}
				siltRows = len(res.Rows) + len(res.Events)
			}
			b.ReportMetric(float64(siltRows), "result-rows")
		})
		b.Run(tc.Name+"/engine=duckdb", func(b *testing.B) {
			for b.Loop() {
				rows, err := db.Query(sql)
				if err != nil {
					b.Fatal(err)
				}
				duckRows = 0
				for rows.Next() {
					duckRows++
				}
				if err := rows.Err(); err != nil {
					b.Fatal(err)
				}
				rows.Close()
			}
			b.ReportMetric(float64(duckRows), "result-rows")
		})
		if siltRows > 0 && duckRows > 0 && siltRows != duckRows {
			b.Errorf("%s: Silt returned %d rows, DuckDB %d", tc.Name, siltRows, duckRows)
		}
	}
}
