package record

import "github.com/silt-io/silt/pkg/event"

// The flags of presence. Records written before them have none set, and
// read as they always did: a source and a subject, maybe empty, and a
// payload, maybe of zero bytes. So the bits say what is absent.
const (
	// FlagNoSource says the event has no source (its string is empty).
	FlagNoSource byte = 1 << 1
	// FlagNoSubject says the event has no subject (its string is empty).
	FlagNoSubject byte = 1 << 2
	// FlagNoPayload says the event has no payload: its content type and
	// data strings are empty, and the block's content type does not apply.
	FlagNoPayload byte = 1 << 3
)

// eventFlags is the flags byte of e's record body.
func eventFlags(e *event.Event) byte {
	var flags byte
	if !e.Time.IsZero() {
		flags |= FlagHasTime
	}
	return flags | absentFlags(e.HasSource(), e.HasSubject(), e.HasPayload())
}

// absentFlags are the presence flags of parts present or not.
func absentFlags(source, subject, payload bool) byte {
	var flags byte
	if !source {
		flags |= FlagNoSource
	}
	if !subject {
		flags |= FlagNoSubject
	}
	if !payload {
		flags |= FlagNoPayload
	}
	return flags
}

// HasPayload reports whether a record body with these flags has a payload,
// so that an empty content type in it means the block's.
func HasPayload(flags byte) bool { return flags&FlagNoPayload == 0 }

// applyFlags drops from e, decoded from a body with these flags, the
// parts the flags say are absent (their strings should be empty; a reader
// ignores them) and sets e.Present for the parts present and empty. Every
// reader of record bodies treats the flags so.
func applyFlags(flags byte, e *event.Event) {
	if flags&FlagNoSource != 0 {
		e.Source = ""
	}
	if flags&FlagNoSubject != 0 {
		e.Subject = ""
	}
	if !HasPayload(flags) {
		e.ContentType, e.Data = "", nil
	}
	e.SetPresent(flags&FlagNoSource == 0, flags&FlagNoSubject == 0, HasPayload(flags))
}
