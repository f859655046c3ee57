package event_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/silt-io/silt/pkg/event"
)

// TestCatalogue_Entries checks that the sentinels are distinct, each with
// a named code, and that conflicts name their number.
func TestCatalogue_Entries(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, e := range event.Catalogue() {
		if seen[e.Error()] {
			t.Errorf("two sentinels say %q", e)
		}
		seen[e.Error()] = true
		if strings.HasPrefix(e.Code().String(), "Code(") {
			t.Errorf("%q: code %d has no name", e, e.Code())
		}
		if e.ExpectedKey() != "" && e.Reason() == "" {
			t.Errorf("%q: metadata %s without an ErrorInfo reason", e, e.ExpectedKey())
		}
	}
	for _, e := range []*event.Error{event.ErrProducerFenced, event.ErrProducerSeqGap, event.ErrLastSeqMismatch, event.ErrOutOfRange} {
		if e.ExpectedKey() == "" {
			t.Errorf("conflict %q names no metadata for its expected number", e)
		}
	}
}

// TestClassify_Case covers how Classify reads a chain.
func TestClassify_Case(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want *event.Error
	}{
		{"wrapped", fmt.Errorf("read p/s: %w", event.ErrStreamNotFound), event.ErrStreamNotFound},
		{"typed", &event.ConflictError{Err: event.ErrProducerSeqGap}, event.ErrProducerSeqGap},
		{"range", &event.RangeError{Err: fmt.Errorf("segment is %w", event.ErrCorrupt)}, event.ErrCorrupt},
		{"first in the chain", fmt.Errorf("%w: %w", event.ErrMissingHistory, event.ErrCorrupt), event.ErrMissingHistory},
		{"ENOSPC", &os.PathError{Op: "write", Path: "/x", Err: syscall.ENOSPC}, event.ErrDiskFull},
		{"EDQUOT", syscall.EDQUOT, event.ErrDiskFull},
		{"other", errors.New("boom"), nil},
		{"nil", nil, nil},
	} {
		if got := event.Classify(tc.err); got != tc.want {
			t.Errorf("%s: Classify(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
