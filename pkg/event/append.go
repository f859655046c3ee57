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
	// Events are the events to append, or nil when Packed carries them.
	Events []Event
	// Packed carries the events already encoded (package record), in place
	// of Events: the API's fast Append decoder writes them straight from the
	// wire. A store treats both forms alike, and keeps no reference to the
	// packed bytes once Append returns (the API reuses their buffer).
	Packed []PackedEvent
	// Producer, when set, makes the append idempotent and fenced.
	Producer *Producer
	// ExpectedLastSeq, when set, commits only if the stream's last seq is exactly it.
	ExpectedLastSeq *uint64
	// AutoCreate creates the stream with default settings when it does not exist.
	AutoCreate bool
}

// PackedEvent is an appended event encoded by package record: its record
// body's flags byte and everything after the id. The store inserts the id,
// a ULID when ID is empty.
type PackedEvent struct {
	ID    string
	Flags byte
	Tail  []byte
}

// Len is the number of events, in whichever form req carries them.
func (req *AppendRequest) Len() int { return len(req.Events) + len(req.Packed) }

// AppendResult is what an acknowledged append reports.
type AppendResult struct {
	FirstSeq   uint64
	LastSeq    uint64
	IngestTime time.Time
	// Duplicate is true when the producer's batch had been committed before;
	// the seq range is then the original one and nothing was written.
	Duplicate bool
}
