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
	// Events are the events to append, packed by package record: the API
	// packs what it decodes (its fast Append decoder straight from the
	// wire), and Go callers use record.Pack. A store keeps no reference to
	// them once Append returns (the API reuses their buffer).
	Events []PackedEvent
	// Producer, when set, makes the append idempotent and fenced.
	Producer *Producer
	// ExpectedLastSeq, when set, commits only if the stream's last seq is exactly it.
	ExpectedLastSeq *uint64
	// AutoCreate creates the stream with default settings when it does not exist.
	AutoCreate bool
}

// PackedEvent is an appended event encoded by package record: its record
// body's flags byte and everything after the id. The store inserts the id,
// a ULID when ID is empty, and gives an event without a content type the
// stream's.
type PackedEvent struct {
	ID    string
	Flags byte
	Tail  []byte
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
