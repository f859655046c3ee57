package tiered

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// TestRotate_QuarantinesAnEventItCannotWrite: events whose time a segment
// cannot hold (the API refuses them now; older data dirs may have them)
// used to stop rotation for every project. Now they go into the segment
// without their time, the manifest lists them, and every project rotates.
func TestRotate_QuarantinesAnEventItCannotWrite(t *testing.T) {
	t.Parallel()
	tr := openTiers(t, t.TempDir())
	ctx := t.Context()
	bad := map[uint64]time.Time{
		3: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
		5: time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	good := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	var evs []event.Event
	for seq := uint64(1); seq <= 6; seq++ {
		e := testEvent("s", seq)
		e.Time = good
		if bt, ok := bad[seq]; ok {
			e.Time = bt
		}
		evs = append(evs, e)
	}
	// "aaa" sorts first: the rotator used to pick it first and stop.
	if _, err := tr.hot.Append(ctx, event.AppendRequest{Project: "aaa", Stream: "s", Events: record.Pack(evs...), AutoCreate: true}); err != nil {
		t.Fatal(err)
	}
	appendN(t, tr.hot, "bbb", "s", 1, 10, 5)

	segs, err := tr.hist.Rotate(ctx, "")
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	if len(segs) != 2 {
		t.Fatalf("rotation wrote %d segments, want one per project", len(segs))
	}
	got := tr.hist.Segments("aaa")
	if len(got) != 1 || len(got[0].Quarantined) != 2 {
		t.Fatalf("aaa's segments %+v, want one listing 2 quarantined events", got)
	}
	for _, q := range got[0].Quarantined {
		want, ok := bad[q.Seq]
		if q.Stream != "s" || !ok || !strings.Contains(q.Reason, want.Format(time.RFC3339)) {
			t.Errorf("quarantine record %+v does not name stream s, a bad seq and its time", q)
		}
	}
	read := readAll(t, tr.hist, "aaa", "s", 100, 0)
	if len(read) != 6 {
		t.Fatalf("read %d events of aaa/s, want 6", len(read))
	}
	for _, e := range read {
		_, isBad := bad[e.Seq]
		want := testEvent("s", e.Seq)
		switch {
		case isBad && !e.Time.Equal(e.IngestTime):
			t.Errorf("seq %d: quarantined event read with time %v, want none: its ingest time %v", e.Seq, e.Time, e.IngestTime)
		case !isBad && !e.Time.Equal(good):
			t.Errorf("seq %d: time %v, want %v", e.Seq, e.Time, good)
		case e.ID != want.ID || string(e.Data) != string(want.Data):
			t.Errorf("seq %d: read %+v, want the content appended", e.Seq, e)
		}
	}
	checkEvents(t, "bbb", "s", 1, readAll(t, tr.hist, "bbb", "s", 100, 0))

	// Compaction keeps the records with the events.
	appendN(t, tr.hot, "aaa", "s", 7, 4, 4)
	if _, err := tr.hist.Rotate(ctx, "aaa"); err != nil {
		t.Fatal(err)
	}
	merged, err := tr.hist.Compact(ctx, "aaa")
	if err != nil || len(merged) != 1 {
		t.Fatalf("compact: %v %v", merged, err)
	}
	if q := merged[0].Quarantined; len(q) != 2 {
		t.Fatalf("merged segment lists %d quarantined events, want 2", len(q))
	}
}

// TestRotate_OneProjectsFailureDoesNotStopOthers: a project whose segment
// directory cannot be made fails alone; the other projects rotate and
// compact, and the failing one rotates once the fault is gone.
func TestRotate_OneProjectsFailureDoesNotStopOthers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tr := openTiers(t, dir)
	ctx := t.Context()
	// A file where aaa's directory must go.
	blocker := filepath.Join(dir, "segments", "project=aaa")
	if err := os.WriteFile(blocker, []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	for round := range uint64(2) {
		appendN(t, tr.hot, "aaa", "s", round*10+1, 10, 5)
		appendN(t, tr.hot, "bbb", "s", round*10+1, 10, 5)
		segs, err := tr.hist.Rotate(ctx, "")
		if err == nil || !strings.Contains(err.Error(), "project aaa") {
			t.Fatalf("round %d: rotate returned %v, want aaa's failure", round, err)
		}
		if len(segs) != 1 || segs[0].Info.Project != "bbb" {
			t.Fatalf("round %d: rotation wrote %+v, want bbb's segment", round, segs)
		}
	}
	if merged, err := tr.hist.Compact(ctx, ""); err != nil || len(merged) != 1 {
		t.Fatalf("compact bbb: %v %v", merged, err)
	}
	checkEvents(t, "bbb", "s", 1, readAll(t, tr.hist, "bbb", "s", 7, 0))
	checkEvents(t, "aaa", "s", 1, readAll(t, tr.hist, "aaa", "s", 7, 0)) // still hot

	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if segs, err := tr.hist.Rotate(ctx, ""); err != nil || len(segs) != 1 || segs[0].Info.Project != "aaa" {
		t.Fatalf("rotate after the fault: %+v %v", segs, err)
	}
	checkEvents(t, "aaa", "s", 1, readAll(t, tr.hist, "aaa", "s", 7, 0))
}

// TestCompact_OneProjectsFailureDoesNotStopOthers: a project whose
// segment file is gone cannot merge; another project's segments still do.
func TestCompact_OneProjectsFailureDoesNotStopOthers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tr := openTiers(t, dir)
	ctx := t.Context()
	for round := range uint64(2) {
		appendN(t, tr.hot, "aaa", "s", round*10+1, 10, 5)
		appendN(t, tr.hot, "bbb", "s", round*10+1, 10, 5)
		if _, err := tr.hist.Rotate(ctx, ""); err != nil {
			t.Fatal(err)
		}
	}
	lost := tr.hist.Segments("aaa")[0]
	if err := os.Remove(filepath.Join(dir, "segments", lost.Path)); err != nil {
		t.Fatal(err)
	}
	merged, err := tr.hist.Compact(ctx, "")
	if err == nil || !strings.Contains(err.Error(), "project aaa") {
		t.Fatalf("compact returned %v, want aaa's failure", err)
	}
	if len(merged) != 1 || merged[0].Info.Project != "bbb" {
		t.Fatalf("compaction wrote %+v, want bbb's merge", merged)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatal("compaction was cancelled")
	}
}
