package cli_test

import (
	"context"
	"runtime/debug"
	"testing"
	"time"
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
