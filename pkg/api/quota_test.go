package api

import (
	"errors"
	"testing"

	"github.com/silt-io/silt/pkg/event"
)

// TestInFlight_HoldsEachProjectToItsLimit: calls past a project's limit
// fail with ErrQuotaExceeded while other projects go on; a call that
// ended frees its place, once however often it leaves; 0 is no limit.
func TestInFlight_HoldsEachProjectToItsLimit(t *testing.T) {
	t.Parallel()
	f := newInFlight("max_concurrent_queries")
	a1, err := f.enter("a", 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.enter("a", 2); err != nil {
		t.Fatal(err)
	}
	if _, err := f.enter("a", 2); !errors.Is(err, event.ErrQuotaExceeded) {
		t.Fatalf("third call of a within 2: %v, want ErrQuotaExceeded", err)
	}
	if _, err := f.enter("b", 1); err != nil {
		t.Fatalf("another project: %v", err)
	}
	a1()
	a1() // twice is once
	if _, err := f.enter("a", 2); err != nil {
		t.Fatalf("after one ended: %v", err)
	}
	if _, err := f.enter("a", 2); !errors.Is(err, event.ErrQuotaExceeded) {
		t.Fatalf("a second leave of one call freed two places: %v", err)
	}
	for range 100 {
		if _, err := f.enter("c", 0); err != nil {
			t.Fatalf("no limit: %v", err)
		}
	}
}
