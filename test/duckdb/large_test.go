package duckcheck

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/manifest"
	"github.com/silt-io/silt/pkg/segment"
)

// TestReadEvents_LargeSegmentDefaultOptions writes one segment with the
// writer's default options and enough events that every column spans
// several pages of a row group, which is where a Parquet writer's
// per-page state goes wrong (arrow-go v18.4.1's DELTA_BYTE_ARRAY carried a
// prefix across pages, and DuckDB refused the file). DuckDB must read every
// event back.
func TestReadEvents_LargeSegmentDefaultOptions(t *testing.T) {
	n := 120_000
	if testing.Short() {
		n = 40_000
	}
	r := rand.New(rand.NewPCG(11, 12))
	start := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)
	events := make([]event.Event, 0, n)
	for i := range n {
		ingest := start.Add(time.Duration(i) * 3 * time.Millisecond)
		stream := []string{"api/calls", "web/pageviews"}[i*2/n]
		seq := uint64(i%(n/2)) + 1
		events = append(events, genEvent(r, "acme", stream, seq, ingest))
	}
	root := t.TempDir()
	path := filepath.Join(root, manifest.Path("acme", start, "01LARGE"))
	info := writeSegment(t, path, events, segment.WriterOptions{Project: "acme"})
	if info.Rows != int64(n) {
		t.Fatalf("wrote %d rows, want %d", info.Rows, n)
	}
	got, err := ReadEvents(t.Context(), root)
	if err != nil {
		t.Fatal(err)
	}
	if err := Compare(events, got); err != nil {
		t.Fatal(err)
	}
}
