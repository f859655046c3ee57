package record

import (
	"fmt"
	"iter"
	"math"
)

// View is one record body split into its fields, each a slice of the
// body: reading a field copies nothing. Parse checks the whole body, so
// iterating its attributes and metrics cannot fail.
type View struct {
	ID, Type, Source, Subject []byte
	// Flags is the body's flags byte (FlagHasTime).
	Flags byte
	// Seconds and Nanos (in [0, 1e9)) are the event's time when HasTime.
	Seconds int64
	Nanos   uint32
	// ContentType "" means the block's (the stream's).
	ContentType, Data []byte

	// attributes and metrics are the encoded entries, n of each.
	attributes, metrics   []byte
	nattributes, nmetrics int
}

// Parse parses body into v, which then aliases body. On error v is
// meaningless.
func (v *View) Parse(body []byte) error {
	d := NewDecoder(body)
	v.Flags = d.Byte()
	v.ID, v.Type, v.Source, v.Subject = d.Bytes(), d.Bytes(), d.Bytes(), d.Bytes()
	v.Seconds, v.Nanos = 0, 0
	if v.HasTime() {
		v.Seconds = d.Varint()
		if n := d.Uvarint(); n < 1e9 {
			v.Nanos = uint32(n)
		} else {
			d.fail("nanoseconds")
		}
	}
	v.nattributes = d.Count(2)
	rest := d.b
	for range v.nattributes {
		d.Bytes()
		d.Bytes()
	}
	v.attributes = rest[:len(rest)-len(d.b)]
	v.nmetrics = d.Count(9)
	rest = d.b
	for range v.nmetrics {
		d.Bytes()
		d.Uint64()
	}
	v.metrics = rest[:len(rest)-len(d.b)]
	v.ContentType, v.Data = d.Bytes(), d.Bytes()
	if err := d.Err(); err != nil {
		return err
	}
	if d.Len() != 0 {
		return fmt.Errorf("%w: %d trailing record bytes", ErrCorrupt, d.Len())
	}
	return nil
}

// HasTime reports whether the event has a time (Seconds and Nanos).
func (v *View) HasTime() bool { return v.Flags&FlagHasTime != 0 }

// NumAttributes is the number of attribute entries.
func (v *View) NumAttributes() int { return v.nattributes }

// NumMetrics is the number of metric entries.
func (v *View) NumMetrics() int { return v.nmetrics }

// Attributes yields the attribute entries in the body's order: keys and
// values alias the body. A key may repeat in a body not written by this
// package.
func (v *View) Attributes() iter.Seq2[[]byte, []byte] {
	return func(yield func(key, value []byte) bool) {
		d := NewDecoder(v.attributes)
		for range v.nattributes {
			k := d.Bytes()
			if !yield(k, d.Bytes()) {
				return
			}
		}
	}
}

// Metrics yields the metric entries in the body's order, as Attributes
// does.
func (v *View) Metrics() iter.Seq2[[]byte, float64] {
	return func(yield func(key []byte, value float64) bool) {
		d := NewDecoder(v.metrics)
		for range v.nmetrics {
			k := d.Bytes()
			if !yield(k, math.Float64frombits(d.Uint64())) {
				return
			}
		}
	}
}
