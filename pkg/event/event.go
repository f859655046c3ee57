package event

import "time"

// ContentTypeJSON is the content type of events whose Data is JSON text.
const ContentTypeJSON = "application/json"

// Event is one record of a stream.
type Event struct {
	// Project and Stream name where the event lives; set on read.
	Project string
	Stream  string
	// Seq is the event's position in its stream, starting at 1; set by the store.
	Seq uint64
	// ID is the client's idempotency key, or a server-made ULID.
	ID      string
	Type    string
	Source  string
	Subject string
	// Time is when the event happened, as the client says (zero if unset).
	Time time.Time
	// IngestTime is when the store committed the event; set by the store.
	IngestTime time.Time
	Attributes map[string]string
	Metrics    map[string]float64
	// ContentType says how to read Data; ContentTypeJSON for JSON text.
	ContentType string
	// Data is the payload: compact JSON text, or raw bytes.
	Data []byte
}

// IsJSON reports whether the event's data is JSON text.
func (e *Event) IsJSON() bool { return e.ContentType == ContentTypeJSON }
