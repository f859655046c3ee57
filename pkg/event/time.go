package event

import "time"

// MinTime and MaxTime bound an event's Time: every tier stores it exactly
// (Parquet segments hold nanoseconds since 1970 in an int64, which spans
// 1677-09-21 to 2262-04-11). The API refuses times outside
// [MinTime, MaxTime) before anything is written; the rules on
// silt.v1.EventInput.time say the same.
var (
	// MinTime is the earliest event time: 1678-01-01T00:00:00Z.
	MinTime = time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC)
	// MaxTime is the first time after the latest event time:
	// 2262-01-01T00:00:00Z.
	MaxTime = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// TimeInRange reports whether t is a time every tier stores exactly:
// MinTime <= t < MaxTime.
func TimeInRange(t time.Time) bool { return !t.Before(MinTime) && t.Before(MaxTime) }
