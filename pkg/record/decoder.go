package record

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/silt-io/silt/pkg/event"
)

// ErrCorrupt is wrapped by every decoding error. It wraps event.ErrCorrupt.
var ErrCorrupt = fmt.Errorf("%w record", event.ErrCorrupt)

// Decoder reads the primitive encodings from a byte slice. The first error
// sticks: every later read returns a zero value, and Err reports it.
type Decoder struct {
	b   []byte
	err error
}

// NewDecoder returns a Decoder reading b.
func NewDecoder(b []byte) Decoder { return Decoder{b: b} }

// Err is the first error, nil while every read succeeded.
func (d *Decoder) Err() error { return d.err }

// Len is the number of bytes not read yet.
func (d *Decoder) Len() int { return len(d.b) }

func (d *Decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s", ErrCorrupt, what)
	}
	d.b = nil
}

// Byte reads one byte.
func (d *Decoder) Byte() byte {
	if d.err != nil || len(d.b) < 1 {
		d.fail("byte")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

// Uvarint reads a uvarint.
func (d *Decoder) Uvarint() uint64 {
	// One byte, the common case (lengths, counts). After an error d.b is
	// empty, so this never reads past one.
	if len(d.b) > 0 && d.b[0] < 0x80 {
		v := uint64(d.b[0])
		d.b = d.b[1:]
		return v
	}
	if len(d.b) > 1 && d.b[1] < 0x80 { // two bytes: a record's length
		v := uint64(d.b[0]&0x7f) | uint64(d.b[1])<<7
		d.b = d.b[2:]
		return v
	}
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Varint reads a zig-zag varint.
func (d *Decoder) Varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Uint64 reads 8 bytes, little-endian.
func (d *Decoder) Uint64() uint64 {
	if d.err != nil || len(d.b) < 8 {
		d.fail("fixed64")
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

// Bytes reads a string without copying it: the result aliases the input.
func (d *Decoder) Bytes() []byte {
	// A length under 128 that fits, the common case, inlined.
	if b := d.b; len(b) > 0 && b[0] < 0x80 && int(b[0]) < len(b) {
		n := int(b[0]) + 1
		d.b = b[n:]
		return b[1:n:n]
	}
	return d.bytes()
}

// bytes is Bytes past its common case.
func (d *Decoder) bytes() []byte {
	n := d.Uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail("length")
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// Str reads a string into a new Go string.
func (d *Decoder) Str() string { return string(d.Bytes()) }

// Count reads an element count and checks that at least minSize bytes per
// element remain, so garbage cannot make a caller allocate huge maps.
func (d *Decoder) Count(minSize int) int {
	n := d.Uvarint()
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.b)/minSize) {
		d.fail("count")
		return 0
	}
	return int(n)
}

// Time reads a time written by AppendTime, in UTC.
func (d *Decoder) Time() time.Time {
	sec := d.Varint()
	nsec := d.Uvarint()
	if d.err != nil {
		return time.Time{}
	}
	if nsec >= 1e9 {
		d.fail("nanoseconds")
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}
