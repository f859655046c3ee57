package durable_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/silt-io/silt/pkg/durable"
	"github.com/silt-io/silt/pkg/vfs"
)

func TestWriteFile_ReplacesAndLeavesNoTemp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "a", "b", "MANIFEST")
	for _, content := range []string{"first", "second, longer content", "3"} {
		if err := durable.WriteFile(vfs.OS, path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("read back %q %v, want %q", got, err, content)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.Contains(e.Name(), durable.TempMarker) {
			t.Fatalf("temporary file %s left behind", e.Name())
		}
	}
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want 1", len(entries))
	}
}

func TestWriteFile_FailureKeepsOldContent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := durable.WriteFile(vfs.OS, path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	// A directory where the file should be makes the rename fail.
	blocked := filepath.Join(dir, "d")
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := durable.WriteFile(vfs.OS, blocked, []byte("new")); err == nil {
		t.Fatal("WriteFile over a non-empty directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), durable.TempMarker) {
			t.Fatalf("failed write left %s", e.Name())
		}
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Fatalf("unrelated file changed: %q", got)
	}
}
