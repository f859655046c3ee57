package manifest_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/manifest"
	"github.com/silt-io/silt/pkg/segment"
)

// seg builds a segment holding the given stream ranges of project p.
func seg(id, project string, ranges ...segment.StreamRange) manifest.Segment {
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	var rows int64
	for _, r := range ranges {
		rows += r.Count
	}
	return manifest.Segment{
		ID: id, Path: manifest.Path(project, day, id), Created: day,
		Info: segment.Info{Project: project, Rows: rows, Streams: ranges},
	}
}

func rng(stream string, first, last uint64) segment.StreamRange {
	return segment.StreamRange{Stream: stream, FirstSeq: first, LastSeq: last, Count: int64(last - first + 1)}
}

// obsoleteLog records Options.Obsolete calls.
type obsoleteLog struct {
	mu    sync.Mutex
	paths []string
}

func (o *obsoleteLog) record(p string) { o.mu.Lock(); o.paths = append(o.paths, p); o.mu.Unlock() }

func (o *obsoleteLog) get() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.paths)
}

func TestPath_IsHiveStyle(t *testing.T) {
	t.Parallel()
	got := manifest.Path("acme", time.Date(2026, 1, 2, 23, 0, 0, 0, time.FixedZone("x", -3600)), "01ABC")
	if want := filepath.Join("project=acme", "date=2026-01-03", "01ABC.parquet"); got != want {
		t.Fatalf("Path = %s, want %s", got, want)
	}
}

func TestManifest_Apply_PersistsAcrossOpen(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	m, err := manifest.Open(root, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(manifest.Edit{Add: []manifest.Segment{seg("a", "acme", rng("orders", 1, 100), rng("users", 1, 5))}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(manifest.Edit{Add: []manifest.Segment{seg("b", "acme", rng("orders", 101, 250))}}); err != nil {
		t.Fatal(err)
	}
	m2, err := manifest.Open(root, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v := m2.Acquire()
	defer v.Release()
	if v.Number() != 2 || len(v.Segments()) != 2 {
		t.Fatalf("reopened version %d with %d segments, want 2 and 2", v.Number(), len(v.Segments()))
	}
	first, last, ok := v.Extent("acme", "orders", 0)
	if !ok || first != 1 || last != 250 {
		t.Fatalf("extent of orders %d..%d %v", first, last, ok)
	}
	if v.Segment("a").Path != manifest.Path("acme", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), "a") {
		t.Fatalf("path not kept: %s", v.Segment("a").Path)
	}
}

func TestVersion_Find_SeeksBySeq(t *testing.T) {
	t.Parallel()
	m, err := manifest.Open(t.TempDir(), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []manifest.Segment{
		seg("c", "acme", rng("s", 201, 300)),
		seg("a", "acme", rng("s", 1, 100), rng("t", 1, 1)),
		seg("b", "acme", rng("s", 101, 200)),
		seg("d", "other", rng("s", 1, 1000)),
	} {
		if err := m.Apply(manifest.Edit{Add: []manifest.Segment{s}}); err != nil {
			t.Fatal(err)
		}
	}
	v := m.Acquire()
	defer v.Release()
	ids := func(hits []manifest.Hit) string {
		var out []string
		for _, h := range hits {
			out = append(out, h.Segment.ID)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		from uint64
		want string
	}{{0, "a,b,c"}, {1, "a,b,c"}, {100, "a,b,c"}, {101, "b,c"}, {250, "c"}, {300, "c"}, {301, ""}} {
		if got := ids(v.Find("acme", "s", 0, tc.from)); got != tc.want {
			t.Errorf("Find from %d = %q, want %q", tc.from, got, tc.want)
		}
	}
	if got := ids(v.Find("acme", "missing", 0, 0)); got != "" {
		t.Errorf("Find of a missing stream = %q", got)
	}
	if hits := v.Find("other", "s", 0, 500); len(hits) != 1 || hits[0].Range.FirstSeq != 1 || hits[0].Range.LastSeq != 1000 {
		t.Errorf("other project: %+v", hits)
	}
}

func TestManifest_Apply_RejectsBadEditsAndChangesNothing(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	m, err := manifest.Open(root, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(manifest.Edit{Add: []manifest.Segment{seg("a", "acme", rng("s", 1, 100))}}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(root, manifest.FileName))
	for name, e := range map[string]manifest.Edit{
		"overlap":        {Add: []manifest.Segment{seg("b", "acme", rng("s", 100, 150))}},
		"duplicate id":   {Add: []manifest.Segment{seg("a", "acme", rng("x", 1, 1))}},
		"remove missing": {Remove: []string{"zzz"}},
	} {
		if err := m.Apply(e); err == nil {
			t.Errorf("%s: Apply succeeded", name)
		}
	}
	after, _ := os.ReadFile(filepath.Join(root, manifest.FileName))
	if string(before) != string(after) {
		t.Fatal("a rejected edit changed the manifest file")
	}
	v := m.Acquire()
	defer v.Release()
	if v.Number() != 1 || len(v.Segments()) != 1 {
		t.Fatalf("version %d with %d segments after rejected edits", v.Number(), len(v.Segments()))
	}
}

// TestManifest_Compaction_DropsFilesOnlyAfterReaders replaces two segments by
// one while a reader holds the old version.
func TestManifest_Compaction_DropsFilesOnlyAfterReaders(t *testing.T) {
	t.Parallel()
	var log obsoleteLog
	m, err := manifest.Open(t.TempDir(), manifest.Options{Obsolete: log.record})
	if err != nil {
		t.Fatal(err)
	}
	a, b, keep := seg("a", "acme", rng("s", 1, 10)), seg("b", "acme", rng("s", 11, 20)), seg("k", "acme", rng("t", 1, 5))
	if err := m.Apply(manifest.Edit{Add: []manifest.Segment{a, b, keep}}); err != nil {
		t.Fatal(err)
	}
	reader := m.Acquire()
	merged := seg("ab", "acme", rng("s", 1, 20))
	if err := m.Apply(manifest.Edit{Add: []manifest.Segment{merged}, Remove: []string{"a", "b"}}); err != nil {
		t.Fatal(err)
	}
	if got := log.get(); len(got) != 0 {
		t.Fatalf("dropped %v while a reader holds the old version", got)
	}
	// The reader still sees the old segments; a new reader sees the merged one.
	if hits := reader.Find("acme", "s", 0, 1); len(hits) != 2 || hits[0].Segment.ID != "a" {
		t.Fatalf("old version changed under its reader: %+v", hits)
	}
	now := m.Acquire()
	if hits := now.Find("acme", "s", 0, 1); len(hits) != 1 || hits[0].Segment.ID != "ab" {
		t.Fatalf("new version: %+v", hits)
	}
	now.Release()
	reader.Release()
	got := log.get()
	slices.Sort(got)
	if want := []string{a.Path, b.Path}; !slices.Equal(got, want) {
		t.Fatalf("dropped %v, want %v (and never the kept segment)", got, want)
	}
	// Another edit drops nothing more.
	if err := m.Apply(manifest.Edit{Add: []manifest.Segment{seg("c", "acme", rng("s", 21, 30))}}); err != nil {
		t.Fatal(err)
	}
	if len(log.get()) != 2 {
		t.Fatalf("dropped %v", log.get())
	}
}

func TestManifest_Open_IgnoresTempLeftovers(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	m, err := manifest.Open(root, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(manifest.Edit{Add: []manifest.Segment{seg("a", "acme", rng("s", 1, 1))}}); err != nil {
		t.Fatal(err)
	}
	// A crash in the middle of the next write leaves a partial temp file.
	if err := os.WriteFile(filepath.Join(root, manifest.FileName+".tmp-0123"), []byte(`{"version":2,"segm`), 0o644); err != nil {
		t.Fatal(err)
	}
	m2, err := manifest.Open(root, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v := m2.Acquire()
	defer v.Release()
	if v.Number() != 1 || v.Segment("a") == nil {
		t.Fatalf("reopened version %d", v.Number())
	}
}

func TestManifest_Open_RejectsCorruptFile(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, manifest.FileName), []byte(`{"version":`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := manifest.Open(root, manifest.Options{}); err == nil {
		t.Fatal("Open accepted a corrupt manifest")
	}
}

func TestVersion_Incarnations_KeepApart(t *testing.T) {
	t.Parallel()
	m, err := manifest.Open(t.TempDir(), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	old := seg("old", "acme", rng("s", 1, 100))
	old.StreamIDs = map[string]uint64{"s": 7}
	reborn := seg("new", "acme", rng("s", 1, 50))
	reborn.StreamIDs = map[string]uint64{"s": 9}
	// The same seqs under two incarnations do not overlap.
	if err := m.Apply(manifest.Edit{Add: []manifest.Segment{old, reborn}}); err != nil {
		t.Fatal(err)
	}
	v := m.Acquire()
	defer v.Release()
	if hits := v.Find("acme", "s", 9, 1); len(hits) != 1 || hits[0].Segment.ID != "new" {
		t.Fatalf("incarnation 9 finds %+v", hits)
	}
	if _, last, ok := v.Extent("acme", "s", 7); !ok || last != 100 {
		t.Fatalf("incarnation 7 extent last %d %v", last, ok)
	}
	if hits := v.Find("acme", "s", 0, 1); len(hits) != 0 {
		t.Fatalf("incarnation 0 finds %+v", hits)
	}
	if got := len(v.Streams()); got != 2 {
		t.Fatalf("Streams lists %d incarnations, want 2", got)
	}
}
