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
	ID   string
	Type string
	// Source and Subject may each be absent, which is not the same as
	// empty: see Present.
	Source  string
	Subject string
	// Time is when the event happened, as the client says; zero when the
	// client gave none, which every reader returns as IngestTime.
	Time time.Time
	// IngestTime is when the store committed the event; set by the store.
	IngestTime time.Time
	Attributes map[string]string
	Metrics    map[string]float64
	// ContentType says how to read Data; ContentTypeJSON for JSON text,
	// empty for an event without a payload.
	ContentType string
	// Data is the payload: compact JSON text, or raw bytes; none when the
	// event has no payload (see HasPayload).
	Data []byte
	// Present marks Source, Subject and the payload as present where they
	// are empty (Parts says how); the zero value has none of them.
	Present Parts
}

// IsJSON reports whether the event's data is JSON text.
func (e *Event) IsJSON() bool { return e.ContentType == ContentTypeJSON }

// Size is about what e costs to hold and to send: its strings, payload,
// map entries and fixed fields. Page and batch byte caps count it.
func (e *Event) Size() int {
	n := len(e.Project) + len(e.Stream) + len(e.ID) + len(e.Type) + len(e.Source) + len(e.Subject) + len(e.ContentType) + len(e.Data) + 3*8
	for k, v := range e.Attributes {
		n += len(k) + len(v)
	}
	for k := range e.Metrics {
		n += len(k) + 8
	}
	return n
}
