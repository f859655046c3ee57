package tiered

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/silt-io/silt/pkg/manifest"
	"github.com/silt-io/silt/pkg/vfs"
)

// TestRotate_SealFailureNeitherSticksNorLeaks (found in review): commitUnit's Apply succeeded
// but hot.Seal failed (a cancelled Rotate RPC: Seal(ctx) returns
// ctx.Err(); a seal refused by the disk guard below its floor). The hot
// tier still serves the events. Each rotation now finishes such seals
// first; before, every later rotation re-planned the same seqs, wrote a
// segment that Apply refused (seqs overlap) and left it on disk, and the
// project never rotated again while the server ran.
func TestRotate_SealFailureNeitherSticksNorLeaks(t *testing.T) {
	tr := openTiers(t, t.TempDir())
	ctx := context.Background()
	appendN(t, tr.hot, "acme", "a", 1, 20, 5)

	// The first half of commitUnit: the unit reaches the manifest, the
	// seal does not happen.
	s := tr.hist
	s.workMu.Lock()
	u, err := s.writeUnit(ctx, rotation{force: true}, s.opts.Now(), newProjectErrors(s.log, "rotation"), "")
	if err == nil {
		err = s.man.Apply(manifest.Edit{Add: []manifest.Segment{*u.seg}})
	}
	s.unsealed = true // as commitUnit records a failed seal
	s.workMu.Unlock()
	if err != nil || u.seg == nil {
		t.Fatalf("write and add the unit: %v", err)
	}

	for i := range 3 {
		if _, err := s.Rotate(ctx, ""); err != nil {
			t.Errorf("rotation %d after the failed seal: %v", i, err)
		}
	}
	var files []string
	_ = vfs.WalkFiles(vfs.OS, filepath.Join(tr.dir, "segments"), func(p string) error {
		if strings.HasSuffix(p, ".parquet") {
			files = append(files, p)
		}
		return nil
	})
	if n := len(s.Segments("")); len(files) != n {
		t.Fatalf("%d segment files on disk, the manifest lists %d: each failed retry left an orphan", len(files), n)
	}
}
