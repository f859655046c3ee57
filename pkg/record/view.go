package record

import (
	"encoding/binary"
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

	// attributes and metrics are the encoded counts and entries, n of each.
	attributes, metrics   []byte
	nattributes, nmetrics int
}

// Parse parses body into v, which then aliases body. On error v is
// meaningless. It checks what Decoder checks, walking body by offset so
// that the common short string costs no call.
func (v *View) Parse(body []byte) error {
	if len(body) == 0 {
		return fmt.Errorf("%w: empty record", ErrCorrupt)
	}
	v.Flags = body[0]
	var p int
	var ok bool
	if v.ID, p, ok = span(body, 1); !ok {
		return errBad("id")
	}
	if v.Type, p, ok = span(body, p); !ok {
		return errBad("type")
	}
	if v.Source, p, ok = span(body, p); !ok {
		return errBad("source")
	}
	if v.Subject, p, ok = span(body, p); !ok {
		return errBad("subject")
	}
	v.Seconds, v.Nanos = 0, 0
	if v.HasTime() {
		sec, k := binary.Varint(body[p:])
		if k <= 0 {
			return errBad("time")
		}
		p += k
		nsec, k := binary.Uvarint(body[p:])
		if k <= 0 || nsec >= 1e9 {
			return errBad("time")
		}
		p += k
		v.Seconds, v.Nanos = sec, uint32(nsec)
	}
	start := p
	if v.nattributes, p, ok = count(body, p, 2); !ok {
		return errBad("attribute count")
	}
	for range v.nattributes {
		if _, p, ok = span(body, p); ok {
			_, p, ok = span(body, p)
		}
		if !ok {
			return errBad("attribute")
		}
	}
	v.attributes = body[start:p]
	start = p
	if v.nmetrics, p, ok = count(body, p, 9); !ok {
		return errBad("metric count")
	}
	for range v.nmetrics {
		if _, p, ok = span(body, p); !ok || len(body)-p < 8 {
			return errBad("metric")
		}
		p += 8
	}
	v.metrics = body[start:p]
	if v.ContentType, p, ok = span(body, p); !ok {
		return errBad("content type")
	}
	if v.Data, p, ok = span(body, p); !ok {
		return errBad("data")
	}
	if p != len(body) {
		return fmt.Errorf("%w: %d trailing record bytes", ErrCorrupt, len(body)-p)
	}
	return nil
}

func errBad(what string) error { return fmt.Errorf("%w: bad %s", ErrCorrupt, what) }

// span returns the string at b[p:] and the offset after it; ok is false
// when it does not fit. A length under 128, nearly every one, costs no
// call.
func span(b []byte, p int) (s []byte, next int, ok bool) {
	if p < len(b) {
		if n := int(b[p]); n < 0x80 && n < len(b)-p {
			return b[p+1 : p+1+n : p+1+n], p + 1 + n, true
		}
	}
	return longSpan(b, p)
}

// longSpan is span past its common case.
func longSpan(b []byte, p int) (s []byte, next int, ok bool) {
	if p > len(b) {
		return nil, p, false
	}
	n, k := binary.Uvarint(b[p:])
	if k <= 0 || n > uint64(len(b)-p-k) {
		return nil, p, false
	}
	lo, hi := p+k, p+k+int(n)
	return b[lo:hi:hi], hi, true
}

// count reads an element count at b[p:] and checks, as Decoder.Count
// does, that at least minSize bytes per element remain.
func count(b []byte, p, minSize int) (n, next int, ok bool) {
	if p >= len(b) {
		return 0, p, false
	}
	c, k := uint64(b[p]), 1
	if c >= 0x80 {
		c, k = binary.Uvarint(b[p:])
		if k <= 0 {
			return 0, p, false
		}
	}
	p += k
	if c > uint64((len(b)-p)/minSize) {
		return 0, p, false
	}
	return int(c), p, true
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
		b := v.attributes
		_, p, _ := count(b, 0, 2)
		for range v.nattributes {
			k, q, _ := span(b, p)
			val, r, _ := span(b, q)
			if !yield(k, val) {
				return
			}
			p = r
		}
	}
}

// Metrics yields the metric entries in the body's order, as Attributes
// does.
func (v *View) Metrics() iter.Seq2[[]byte, float64] {
	return func(yield func(key []byte, value float64) bool) {
		b := v.metrics
		_, p, _ := count(b, 0, 9)
		for range v.nmetrics {
			k, q, _ := span(b, p)
			p = q + 8
			if !yield(k, math.Float64frombits(binary.LittleEndian.Uint64(b[q:p]))) {
				return
			}
		}
	}
}
