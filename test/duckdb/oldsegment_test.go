package duckcheck

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/segment"
)

// TestReadEvents_OldAndNewSegments: DuckDB reads a segment written before
// source and subject became nullable (required columns, null times) next
// to one written now (null sources, no payloads, filled times) in one
// glob, and sees what Silt's reader returns of both, but for the old
// segment's null times, which Silt reads as ingest times.
func TestReadEvents_OldAndNewSegments(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	old, err := os.ReadFile("../../pkg/segment/testdata/required-source.parquet")
	if err != nil {
		t.Fatal(err)
	}
	oldPath := filepath.Join(root, "project=p", "date=2026-03-01", "old.parquet")
	if err := os.MkdirAll(filepath.Dir(oldPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(oldPath, old, 0o644); err != nil {
		t.Fatal(err)
	}
	ingest := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	newEvents := []event.Event{
		{Project: "p", Stream: "n", Seq: 1, ID: "1", Type: "point", IngestTime: ingest, Metrics: map[string]float64{"ms": 1}},
		{Project: "p", Stream: "n", Seq: 2, ID: "2", Type: "t", IngestTime: ingest, ContentType: "application/octet-stream",
			Present: event.PartSource | event.PartSubject | event.PartPayload},
		{Project: "p", Stream: "n", Seq: 3, ID: "3", Type: "t", Source: "web", IngestTime: ingest,
			ContentType: event.ContentTypeJSON, Data: []byte(`{}`)},
	}
	writeSegment(t, filepath.Join(root, "project=p", "date=2026-03-02", "new.parquet"), newEvents, segment.WriterOptions{Project: "p"})

	var want []event.Event
	for _, path := range []string{oldPath, filepath.Join(root, "project=p", "date=2026-03-02", "new.parquet")} {
		r, err := segment.Open(path, segment.WithProject("p"))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range r.Info().Streams {
			evs, err := r.Read(t.Context(), s.Stream, s.FirstSeq, 100, 0)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, evs...)
		}
		r.Close()
	}
	got, err := ReadEvents(t.Context(), root)
	if err != nil {
		t.Fatal(err)
	}
	// DuckDB reads the old segment's null times as null.
	for i := range got {
		if got[i].Time.IsZero() {
			got[i].Time = got[i].IngestTime
		}
	}
	if err := Compare(want, got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 7 {
		t.Fatalf("%d events, want 7", len(got))
	}
}
