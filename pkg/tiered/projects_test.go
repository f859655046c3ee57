package tiered

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/silt-io/silt/pkg/event"
)

// segmentFiles returns the paths of project's segments in the manifest.
func segmentFiles(tr *tiers, project string) []string {
	v := tr.hist.man.Acquire()
	defer v.Release()
	var out []string
	for _, seg := range v.Segments() {
		if seg.Info.Project == project {
			out = append(out, filepath.Join(tr.dir, "segments", seg.Path))
		}
	}
	return out
}

func TestStore_DeleteProject_RemovesBothTiers(t *testing.T) {
	t.Parallel()
	tr := openTiers(t, t.TempDir())
	ctx := context.Background()
	appendN(t, tr.hot, "acme", "orders", 1, 300, 50)
	appendN(t, tr.hot, "acme", "users", 1, 20, 20)
	appendN(t, tr.hot, "beta", "orders", 1, 30, 10)
	if _, err := tr.hist.Rotate(ctx, ""); err != nil {
		t.Fatal(err)
	}
	appendN(t, tr.hot, "acme", "orders", 301, 10, 10) // a hot tail too
	files := segmentFiles(tr, "acme")
	if len(files) == 0 {
		t.Fatal("rotation wrote no segment of acme")
	}
	// A reader holds the current version across the delete.
	held := tr.hist.man.Acquire()

	var mu sync.Mutex
	var deleted []string
	err := tr.hist.DeleteProject(ctx, "acme", func(stream string) {
		mu.Lock()
		defer mu.Unlock()
		deleted = append(deleted, stream)
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(deleted)
	if !slices.Equal(deleted, []string{"orders", "users"}) {
		t.Errorf("deleted streams %v", deleted)
	}
	for _, s := range []string{"orders", "users"} {
		if _, err := tr.hist.Read(ctx, event.ReadRequest{Project: "acme", Stream: s, Limit: 10}); !errors.Is(err, event.ErrStreamNotFound) {
			t.Errorf("read of deleted acme/%s: %v, want ErrStreamNotFound", s, err)
		}
	}
	if _, err := tr.hot.GetProject(ctx, "acme"); !errors.Is(err, event.ErrProjectNotFound) {
		t.Errorf("get of the deleted project: %v", err)
	}
	if got := segmentFiles(tr, "acme"); len(got) != 0 {
		t.Errorf("manifest still lists %v", got)
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("segment file gone while a reader holds it: %v", err)
		}
	}
	held.Release()
	for _, f := range files {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("segment file %s after the last reader released it: %v", f, err)
		}
	}
	// Other projects are untouched.
	checkEvents(t, "beta", "orders", 1, readAll(t, tr.hist, "beta", "orders", 100, 0))
	if err := tr.hist.DeleteProject(ctx, "acme", nil); !errors.Is(err, event.ErrProjectNotFound) {
		t.Errorf("second delete: %v, want ErrProjectNotFound", err)
	}
	// The name can be used again, from seq 1.
	appendN(t, tr.hot, "acme", "orders", 1, 5, 5)
	checkEvents(t, "acme", "orders", 1, readAll(t, tr.hist, "acme", "orders", 100, 0))
}

// A deletion cut off after its first step (the mark) is finished by Open.
func TestOpen_FinishesProjectDelete(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tr := openTiers(t, dir)
	ctx := context.Background()
	appendN(t, tr.hot, "acme", "orders", 1, 100, 25)
	appendN(t, tr.hot, "beta", "orders", 1, 10, 10)
	if _, err := tr.hist.Rotate(ctx, ""); err != nil {
		t.Fatal(err)
	}
	files := segmentFiles(tr, "acme")
	if err := tr.hot.MarkProjectDeleting(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	tr.close()

	tr = openTiers(t, dir)
	if got, err := tr.hot.DeletingProjects(ctx); err != nil || len(got) != 0 {
		t.Fatalf("still being deleted after Open: %v, %v", got, err)
	}
	if _, err := tr.hot.GetStream(ctx, "acme", "orders"); !errors.Is(err, event.ErrStreamNotFound) {
		t.Errorf("stream of the deleted project: %v", err)
	}
	if got := segmentFiles(tr, "acme"); len(got) != 0 {
		t.Errorf("manifest still lists %v", got)
	}
	for _, f := range files {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("segment file %s: %v", f, err)
		}
	}
	checkEvents(t, "beta", "orders", 1, readAll(t, tr.hist, "beta", "orders", 100, 0))
}
