package event

import "time"

// ReadRequest asks for a page of one stream's events.
type ReadRequest struct {
	Project string
	Stream  string
	// FromSeq returns events with Seq >= FromSeq (0 and 1 both mean the start).
	FromSeq uint64
	// FromTime, when not zero, starts at the first event whose IngestTime is
	// at or after it; it wins over FromSeq.
	FromTime time.Time
	// Limit caps the number of events (must be > 0).
	Limit int
	// MaxBytes caps the page's size, the sum of its events' Size (0: no
	// cap); at least one event is returned when one is available.
	MaxBytes int
}

// ReadResult is one page of a stream.
type ReadResult struct {
	Events []Event
	// NextSeq is where the next page starts.
	NextSeq uint64
	// FirstSeq and LastSeq are the stream's extent when the page was read.
	FirstSeq uint64
	LastSeq  uint64
	// StreamID tells streams of one name apart: a stream deleted and
	// created again under its name has another.
	StreamID uint64
}

// UpToDate reports whether the page reached the stream's tail.
func (r *ReadResult) UpToDate() bool { return r.NextSeq > r.LastSeq }
