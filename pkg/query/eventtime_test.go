package query

import (
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/segment"
)

// TestSegmentTimes: a segment written since times were defaulted prunes by
// its event times alone; an older one, whose events without a time are
// not in its bounds, also by its ingest times (even with no bounds at all,
// when none of its events had a time).
func TestSegmentTimes(t *testing.T) {
	t.Parallel()
	at := func(h int) time.Time { return time.Date(2026, 1, 1, h, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name   string
		in     segment.Info
		lo, hi time.Time
	}{
		{"filled", segment.Info{MinIngestTime: at(10), MaxIngestTime: at(11), MinTime: at(1), MaxTime: at(2), TimesFilled: true}, at(1), at(2)},
		{"old", segment.Info{MinIngestTime: at(10), MaxIngestTime: at(11), MinTime: at(1), MaxTime: at(2)}, at(1), at(11)},
		{"old, no time at all", segment.Info{MinIngestTime: at(10), MaxIngestTime: at(11)}, at(10), at(11)},
		{"old, later times", segment.Info{MinIngestTime: at(10), MaxIngestTime: at(11), MinTime: at(9), MaxTime: at(12)}, at(9), at(12)},
	} {
		if lo, hi := segmentTimes(&tc.in); !lo.Equal(tc.lo) || !hi.Equal(tc.hi) {
			t.Errorf("%s: %v..%v, want %v..%v", tc.name, lo, hi, tc.lo, tc.hi)
		}
	}
}
