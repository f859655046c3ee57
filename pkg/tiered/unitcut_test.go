package tiered

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/hot"
)

// TestRotate_UnitCutEndsWithAnUnalignedCutoff (found in review): the cutoff of a
// rotation (start+1ns forced, start-RotateAfter by age) has nanoseconds;
// when the events that make the unit too big were ingested in the
// cutoff's own microsecond, the binary search reaches hi-lo in (1µs,2µs),
// mid truncates to lo, and planProject loops forever holding workMu and a
// Badger snapshot.
func TestRotate_UnitCutEndsWithAnUnalignedCutoff(t *testing.T) {
	dir, err := os.MkdirTemp("", "review-unitcut")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	set := func(tm time.Time) { mu.Lock(); clock = tm; mu.Unlock() }

	hopts := hot.DefaultOptions(filepath.Join(dir, "hot"))
	hopts.Sync = false
	hopts.Logger = quietLog
	hopts.Now = now
	h, err := hot.Open(hopts)
	if err != nil {
		t.Fatal(err)
	}
	const unit = 32 << 10
	hist, err := Open(context.Background(), Options{Root: filepath.Join(dir, "segments"), Hot: h, CheckEvery: -1,
		Logger: quietLog, UnitBytes: unit, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	// A few small events first (well under unit/2)...
	appendN(t, h, "acme", "a", 1, 5, 5)
	// ...then, 10 µs later, one append of ~60 KiB (over the unit).
	t1 := clock.Add(10 * time.Microsecond)
	set(t1)
	appendN(t, h, "acme", "a", 6, 400, 400)
	// The rotation starts in the same microsecond as that append.
	set(t1.Add(300 * time.Nanosecond))

	done := make(chan error, 1)
	go func() { _, err := hist.Rotate(context.Background(), ""); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
		_ = hist.Close(context.Background())
		_ = h.Close(context.Background())
		_ = os.RemoveAll(dir)
	case <-time.After(10 * time.Second):
		// Leaks the stuck rotation on purpose: Close would wait for it.
		t.Fatal("Rotate did not return in 10 s: planProject's binary search spins (mid == lo)")
	}
}
