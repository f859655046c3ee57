package cli_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/cli"
)

// TestServe_MemoryLimit: --memory-limit sets the Go runtime's soft memory
// limit before the server starts. Not parallel: the limit is process-wide.
func TestServe_MemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	const limit = 300 << 20
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := run(t, ctx, "", "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--memory-limit", "314572800", "--log-level", "error")
		done <- err
	}()
	deadline := time.Now().Add(2 * time.Second)
	for debug.SetMemoryLimit(-1) != limit {
		if time.Now().After(deadline) {
			t.Fatalf("memory limit is %d, want %d", debug.SetMemoryLimit(-1), limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// TestServe_TrimsAQuietHeap: `silt serve` runs the memory trimmer, which
// returns the garbage of a burst once the process is quiet. Not parallel:
// the heap and the GC setting are process-wide.
func TestServe_TrimsAQuietHeap(t *testing.T) {
	// Only the trimmer's collection may take the burst: a heap goal ten
	// thousand times the live heap (GOGC=off would turn the trimmer off).
	defer debug.SetGCPercent(debug.SetGCPercent(1_000_000))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var logs safeBuffer
	root := cli.NewRoot(cli.IO{In: strings.NewReader(""), Out: io.Discard, Err: &logs})
	root.SetArgs([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(),
		"--memory-trim-interval", "20ms", "--log-level", "debug", "--log-format", "json"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	trimSink = make([]byte, 64<<20)
	for i := range trimSink {
		trimSink[i] = byte(i)
	}
	trimSink = nil
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), `"msg":"memtrim: returned a quiet heap's free memory"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no trim logged within 10 s of a 64 MiB burst; log:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// trimSink holds TestServe_TrimsAQuietHeap's burst until it drops it.
var trimSink []byte

// TestServe_PortInUse: a second server on a taken port says so in words
// and leaves no data directory behind.
func TestServe_PortInUse(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	data := filepath.Join(t.TempDir(), "silt-data")
	_, err = run(t, t.Context(), "", "serve", "--addr", taken.Addr().String(), "--data", data, "--log-level", "error")
	want := taken.Addr().String() + " is already in use (another silt serve?): choose another with --addr or SILT_ADDR"
	if err == nil || err.Error() != want {
		t.Fatalf("serve on a taken port: %v, want %s", err, want)
	}
	if _, serr := os.Stat(data); !errors.Is(serr, os.ErrNotExist) {
		t.Fatalf("the failed start left %s behind (stat: %v)", data, serr)
	}
}
