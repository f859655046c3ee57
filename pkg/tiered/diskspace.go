package tiered

import (
	"fmt"

	"github.com/silt-io/silt/pkg/diskspace"
	"github.com/silt-io/silt/pkg/manifest"
)

// segmentOverhead bounds what a segment adds to its events' bytes: the
// Parquet footer, page headers, statistics.
const segmentOverhead = 1 << 20

// reserve holds room for a segment of about n bytes while it is written,
// at the guard's essential priority: a rotation is what lets the hot tier
// shrink, so it may use the space below the low-water mark that appends
// leave. The error wraps event.ErrDiskFull when the segment does not fit;
// nothing has been written then.
func (s *Store) reserve(what string, n int64) (release func(), err error) {
	release, err = s.opts.Disk.Reserve(n+segmentOverhead, diskspace.Essential)
	if err != nil {
		return nil, fmt.Errorf("reserve disk space for %s: %w", what, err)
	}
	return release, nil
}

// planBytes estimates a planned segment from the hot tier's byte counts of
// the events it seals (an upper bound: Parquet compresses).
func planBytes(p *plan) int64 {
	var n float64
	for _, sr := range p.streams {
		n += sr.bytes()
	}
	return int64(min(n, 1<<62))
}

// partsBytes is the size of the segments a compaction merges; the merged
// segment is no larger than them together.
func partsBytes(parts []*manifest.Segment) int64 {
	var n int64
	for _, p := range parts {
		n += p.Info.Bytes
	}
	return n
}

// logFailure logs a failed background step: a full disk is a warning (the
// step runs again on the next round), anything else an error.
func (s *Store) logFailure(step string, err error) {
	if diskspace.IsFull(err) {
		s.log.Warn("history: "+step+" postponed: disk full", "err", err)
		return
	}
	s.log.Error("history: "+step+" failed", "err", err)
}
