package event

// Parts names the optional parts of an event that can be present though
// empty: [Event.Present] holds them.
//
// A part is present when it is not empty, or when its bit is set: so the
// zero Event has no source, no subject and no payload, an Event built with
// a non-empty Source has one without saying so, and only a present empty
// part needs its bit. Every reader returns events in that one form: a bit
// set only for a part that is present and empty.
type Parts uint8

const (
	// PartSource marks an empty Source as present ("" rather than none).
	PartSource Parts = 1 << iota
	// PartSubject marks an empty Subject as present.
	PartSubject
	// PartPayload marks an empty Data as a payload of zero bytes (described
	// by ContentType) rather than no payload.
	PartPayload
)

// HasSource reports whether the event has a source, maybe empty.
func (e *Event) HasSource() bool { return e.Source != "" || e.Present&PartSource != 0 }

// HasSubject reports whether the event has a subject, maybe empty.
func (e *Event) HasSubject() bool { return e.Subject != "" || e.Present&PartSubject != 0 }

// HasPayload reports whether the event has a payload, maybe of zero bytes.
// An event without one has no Data and, once stored, no ContentType.
func (e *Event) HasPayload() bool { return len(e.Data) > 0 || e.Present&PartPayload != 0 }

// SetPresent sets e.Present from whether e's source, subject and payload
// are present, in the one form readers return: a bit for each present part
// that is empty. It reads Source, Subject and Data, so set them first.
func (e *Event) SetPresent(source, subject, payload bool) {
	var p Parts
	if source && e.Source == "" {
		p |= PartSource
	}
	if subject && e.Subject == "" {
		p |= PartSubject
	}
	if payload && len(e.Data) == 0 {
		p |= PartPayload
	}
	e.Present = p
}
