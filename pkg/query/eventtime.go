package query

import (
	"time"

	"github.com/silt-io/silt/pkg/segment"
)

// segmentTimes bounds the event times that readers return for a segment's
// events. An event appended without a time reads with its ingest time; a
// segment written since stores that time (Info.TimesFilled), but one
// written before stores null, and its bounds leave such events out. So
// its bounds take in its ingest times too: a range of event times prunes
// it only if neither reaches the range (row-group statistics then prune
// exactly, segment.ColumnStats).
func segmentTimes(in *segment.Info) (lo, hi time.Time) {
	if in.TimesFilled {
		return in.MinTime, in.MaxTime
	}
	lo, hi = in.MinIngestTime, in.MaxIngestTime
	if !in.MinTime.IsZero() || !in.MaxTime.IsZero() {
		if in.MinTime.Before(lo) {
			lo = in.MinTime
		}
		if in.MaxTime.After(hi) {
			hi = in.MaxTime
		}
	}
	return lo, hi
}
