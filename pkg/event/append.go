package event

import "time"

// Producer identifies an idempotent producer's batch: Seq counts from 0
// within an Epoch, and a new Epoch starts again at 0 and fences older ones.
type Producer struct {
	ID    string
	Epoch uint64
	Seq   uint64
}

// AppendRequest appends Events to one stream, all or none.
type AppendRequest struct {
	Project string
	Stream  string
	Events  []Event
	// Producer, when set, makes the append idempotent and fenced.
	Producer *Producer
	// ExpectedLastSeq, when set, commits only if the stream's last seq is exactly it.
	ExpectedLastSeq *uint64
	// AutoCreate creates the stream with default settings when it does not exist.
	AutoCreate bool
}

// AppendResult is what an acknowledged append reports.
type AppendResult struct {
	FirstSeq   uint64
	LastSeq    uint64
	IngestTime time.Time
	// Duplicate is true when the producer's batch had been committed before;
	// the seq range is then the original one and nothing was written.
	Duplicate bool
}
