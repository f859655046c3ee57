package segment

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/vfs"
)

// crashEnv names the segment path a helper process writes and is killed in.
const crashEnv = "SILT_SEGMENT_CRASH_PATH"

// TestHelperProcess_WriteForever is not a test: run by
// TestWriter_KilledProcessLeavesNoSegment in a child process, it writes row
// groups of a segment, says "ready", and keeps writing until it is killed.
func TestHelperProcess_WriteForever(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("helper process")
	}
	w, err := NewWriter(path, WriterOptions{RowGroupRows: 500})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	g := newGenerator(1, 1<<30, 1)
	var e event.Event
	for i := 0; g.next(&e); i++ {
		if err := w.Append(&e); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		if i == 5000 {
			fmt.Println("ready")
		}
	}
}

func TestWriter_KilledProcessLeavesNoSegment(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "project=acme", "seg.parquet")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess_WriteForever$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		_ = cmd.Process.Kill()
		t.Fatalf("helper said %q, %v", line, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("segment exists after the writer was killed: %v", err)
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, "project=acme", "seg.parquet.tmp-*"))
	if len(tmps) != 1 {
		t.Fatalf("temporary files %v, want 1", tmps)
	}
	if _, err := readInfo(tmps[0]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("readInfo(temporary file): %v, want ErrCorrupt", err)
	}
	if n, err := CleanTemp(vfs.OS, dir); n != 1 || err != nil {
		t.Fatalf("CleanTemp: %d, %v", n, err)
	}
	assertNoFiles(t, filepath.Join(dir, "project=acme"))
}
