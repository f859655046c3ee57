package tiered

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/silt-io/silt/pkg/segment"
	"github.com/silt-io/silt/pkg/vfs"
	"github.com/silt-io/silt/pkg/vfs/errorfs"
)

// faultStreams are the streams of the fault sweep, with the events each
// holds once faultScenario has run.
var faultStreams = map[string]uint64{"a": 400, "b": 150}

// faultScenario fills dir through fsys: two rotations without faults,
// then arm() (which turns the faults on), more appends, a rotation in
// small units and, when compact is set, a compaction. It returns the
// errors of the last two, which the faults may cause. Without the
// compaction, the restart that follows comes straight after the failed
// step, as after a crash: no later manifest edit hides what it left.
func faultScenario(t *testing.T, dir string, fsys *errorfs.FS, compact bool, arm func()) (*tiers, error) {
	t.Helper()
	tr := openTiers(t, dir, func(o *Options) { o.FS = fsys; o.UnitBytes = 16 << 10 })
	ctx := context.Background()
	for round := range uint64(2) {
		appendN(t, tr.hot, "acme", "a", round*100+1, 100, 10)
		appendN(t, tr.hot, "acme", "b", round*50+1, 50, 10)
		if _, err := tr.hist.Rotate(ctx, ""); err != nil {
			t.Fatalf("rotation %d before the faults: %v", round, err)
		}
	}
	appendN(t, tr.hot, "acme", "a", 201, 200, 10)
	appendN(t, tr.hot, "acme", "b", 101, 50, 10)
	arm()
	_, err := tr.hist.Rotate(ctx, "")
	if compact {
		_, cerr := tr.hist.Compact(ctx, "")
		err = errors.Join(err, cerr)
	}
	return tr, err
}

// checkFaultState checks that every segment the manifest lists is a whole
// file and that every event reads back exactly once, in order.
func checkFaultState(t *testing.T, tr *tiers, when string) {
	t.Helper()
	for _, seg := range tr.hist.Segments("") {
		if _, err := segment.Open(filepath.Join(tr.dir, "segments", seg.Path)); err != nil {
			t.Fatalf("%s: the manifest lists segment %s, which does not open: %v", when, seg.ID, err)
		}
	}
	for s, n := range faultStreams {
		evs, err := readPages(tr.hist, "acme", s, 64, 0)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if uint64(len(evs)) != n {
			t.Fatalf("%s: read %d events of %s, want %d", when, len(evs), s, n)
		}
		if err := diffEvents("acme", s, 1, evs); err != nil {
			t.Fatalf("%s: %v", when, err)
		}
	}
}

// checkNoOrphans checks that the segments directory holds exactly the
// files the manifest lists (and the manifest).
func checkNoOrphans(t *testing.T, tr *tiers) {
	t.Helper()
	listed := map[string]bool{}
	for _, seg := range tr.hist.Segments("") {
		listed[filepath.Clean(seg.Path)] = true
	}
	root := filepath.Join(tr.dir, "segments")
	err := vfs.WalkFiles(vfs.OS, root, func(path string) error {
		rel, _ := filepath.Rel(root, path)
		if rel != "MANIFEST.json" && !listed[rel] {
			return fmt.Errorf("orphan file %s after recovery", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFaults_EveryWriteOfRotationAndCompaction fails each filesystem call
// that writes during a rotation (in several units) and a compaction, one
// at a time: ENOSPC on creates and (short) writes, EIO on syncs, renames
// and removes. Whatever fails, the manifest lists only whole segments,
// every acknowledged event reads back exactly once before and after a
// restart, the restart leaves no orphan file, and the next rotation and
// compaction succeed. The sweep runs twice: rotation and compaction, and
// rotation alone with the restart right after it.
func TestFaults_EveryWriteOfRotationAndCompaction(t *testing.T) {
	t.Parallel()
	for _, compact := range []bool{true, false} {
		t.Run(fmt.Sprintf("compact=%v", compact), func(t *testing.T) {
			t.Parallel()
			sweepWrites(t, compact)
		})
	}
}

// sweepWrites is one sweep of TestFaults_EveryWriteOfRotationAndCompaction.
func sweepWrites(t *testing.T, compact bool) {
	// Count the write calls of the faulty part.
	counter := errorfs.New(vfs.OS, nil)
	var writes []errorfs.Call
	tr, err := faultScenario(t, t.TempDir(), counter, compact, func() {
		counter.Inject = func(c errorfs.Call) error {
			if c.Op.Writes() {
				writes = append(writes, c)
			}
			return nil
		}
	})
	if err != nil {
		t.Fatalf("without faults: %v", err)
	}
	checkFaultState(t, tr, "without faults")
	tr.close()
	if len(writes) < 20 {
		t.Fatalf("the sweep saw only %d write calls", len(writes))
	}
	step := 1
	if testing.Short() || raceEnabled {
		step = 7 // a sample, to keep -race runs short
	}
	failed := 0
	for k := 0; k < len(writes); k += step {
		want := writes[k]
		t.Run(fmt.Sprintf("%03d-%s-%s", k, want.Op, filepath.Base(filepath.Dir(want.Path))), func(t *testing.T) {
			dir := t.TempDir()
			fsys := errorfs.New(vfs.OS, nil)
			n := 0
			tr, err := faultScenario(t, dir, fsys, compact, func() {
				fsys.Inject = func(c errorfs.Call) error {
					if !c.Op.Writes() {
						return nil
					}
					n++
					if n-1 == k {
						return errorfs.ErrFor(c.Op)
					}
					return nil
				}
			})
			if err != nil {
				failed++
			}
			checkFaultState(t, tr, "after the fault")
			tr.close()
			tr = openTiers(t, dir)
			checkNoOrphans(t, tr)
			checkFaultState(t, tr, "after a restart")
			if _, err := tr.hist.Rotate(context.Background(), ""); err != nil {
				t.Fatalf("rotate after the restart: %v", err)
			}
			if _, err := tr.hist.Compact(context.Background(), ""); err != nil {
				t.Fatalf("compact after the restart: %v", err)
			}
			checkFaultState(t, tr, "after the next rotation")
		})
	}
	t.Logf("%d write calls swept (every %d.); %d faults made a step fail", len(writes), step, failed)
}
