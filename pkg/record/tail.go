package record

import (
	"encoding/binary"
	"math"
)

// Fields are an event's parts after its id, as raw bytes: what a decoder
// that holds the wire bytes of an event has. AppendTail encodes them.
type Fields struct {
	Type, Source, Subject []byte
	// HasSource, HasSubject and HasPayload say the part is present even
	// when empty; a non-empty one is present anyway (as in event.Event).
	HasSource, HasSubject, HasPayload bool
	// HasTime says Seconds and Nanos (in [0, 1e9)) are the event's time.
	HasTime bool
	Seconds int64
	Nanos   uint32
	// Attributes and Metrics in any order, no key twice.
	Attributes []Attribute
	Metrics    []Metric
	// ContentType "" means the block's (the stream's).
	ContentType, Data []byte
}

// Attribute is one attributes entry.
type Attribute struct{ Key, Value []byte }

// Metric is one metrics entry.
type Metric struct {
	Key   []byte
	Value float64
}

// Flags is the flags byte of f's record body.
func (f *Fields) Flags() byte {
	flags := absentFlags(f.HasSource || len(f.Source) > 0, f.HasSubject || len(f.Subject) > 0, f.payload())
	if f.HasTime {
		flags |= FlagHasTime
	}
	return flags
}

// payload reports whether f has a payload.
func (f *Fields) payload() bool { return f.HasPayload || len(f.Data) > 0 }

// AppendTail appends the part of f's record body that follows the id: a
// whole body is Flags(), the id as a string, then this.
func AppendTail(dst []byte, f *Fields) []byte {
	dst = AppendString(dst, f.Type)
	dst = AppendString(dst, f.Source)
	dst = AppendString(dst, f.Subject)
	if f.HasTime {
		dst = binary.AppendVarint(dst, f.Seconds)
		dst = binary.AppendUvarint(dst, uint64(f.Nanos))
	}
	dst = binary.AppendUvarint(dst, uint64(len(f.Attributes)))
	for _, a := range f.Attributes {
		dst = AppendString(dst, a.Key)
		dst = AppendString(dst, a.Value)
	}
	dst = binary.AppendUvarint(dst, uint64(len(f.Metrics)))
	for _, m := range f.Metrics {
		dst = AppendString(dst, m.Key)
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(m.Value))
	}
	if !f.payload() {
		return append(dst, 0, 0) // no content type, no data
	}
	dst = AppendString(dst, f.ContentType)
	return AppendString(dst, f.Data)
}
