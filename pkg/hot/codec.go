package hot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/silt-io/silt/pkg/event"
)

// blockVersion is the first byte of every block this package writes.
//
// Block layout (version 1):
//
//	version      byte (1)
//	firstSeq     uvarint
//	count        uvarint (> 0)
//	ingestTime   varint unix seconds, uvarint nanoseconds
//	contentType  string: the type of records that carry none
//	count times: uvarint(len(record)) record
//
// Record layout:
//
//	flags        byte (bit 0: Time is set)
//	id, type, source, subject   string
//	time         varint unix seconds, uvarint nanoseconds (only if flag bit 0)
//	attributes   uvarint n, n × (key string, value string)
//	metrics      uvarint n, n × (key string, 8 bytes little-endian float64 bits)
//	contentType  string ("" means the block's)
//	data         string
//
// A string is uvarint(len) followed by the bytes. Event i of the block has
// seq firstSeq+i and the block's ingest time.
const blockVersion byte = 1

const flagHasTime byte = 1

// errCorrupt is wrapped by every decoding error.
var errCorrupt = errors.New("corrupt block")

// blockHeader is the part of a block before its records.
type blockHeader struct {
	FirstSeq    uint64
	Count       uint64
	IngestTime  time.Time
	ContentType string
}

// LastSeq is the seq of the block's last event.
func (h blockHeader) LastSeq() uint64 { return h.FirstSeq + h.Count - 1 }

// appendBlockHeader appends h's encoding to dst.
func appendBlockHeader(dst []byte, h blockHeader) []byte {
	dst = append(dst, blockVersion)
	dst = binary.AppendUvarint(dst, h.FirstSeq)
	dst = binary.AppendUvarint(dst, h.Count)
	dst = appendTime(dst, h.IngestTime)
	return appendString(dst, h.ContentType)
}

// maxBlockHeaderLen bounds the header length for a content type of length n.
func maxBlockHeaderLen(n int) int { return 1 + 4*binary.MaxVarintLen64 + n + binary.MaxVarintLen64 }

// recordLen is the length of e's record body with the given id.
func recordLen(e *event.Event, id string) int {
	n := 1 + strLen(id) + strLen(e.Type) + strLen(e.Source) + strLen(e.Subject)
	if !e.Time.IsZero() {
		n += varintLen(e.Time.Unix()) + uvarintLen(uint64(e.Time.Nanosecond()))
	}
	n += uvarintLen(uint64(len(e.Attributes)))
	for k, v := range e.Attributes {
		n += strLen(k) + strLen(v)
	}
	n += uvarintLen(uint64(len(e.Metrics)))
	for k := range e.Metrics {
		n += strLen(k) + 8
	}
	return n + strLen(e.ContentType) + uvarintLen(uint64(len(e.Data))) + len(e.Data)
}

// appendRecord appends uvarint(len(record)) and e's record, with id in place
// of e.ID, to dst.
func appendRecord(dst []byte, e *event.Event, id string) []byte {
	// The length goes first but is known last: write the record after room
	// for a 2-byte length (records of 128 B to 16 KiB, the usual case), then
	// move it if its length takes another size. This walks the maps once.
	start := len(dst)
	dst = append(dst, 0, 0)
	dst = appendRecordBody(dst, e, id)
	n := uint64(len(dst) - start - 2)
	switch h := uvarintLen(n); {
	case h == 2:
	case h < 2:
		copy(dst[start+1:], dst[start+2:])
		dst = dst[:len(dst)-1]
	default:
		dst = append(dst, make([]byte, h-2)...)
		copy(dst[start+h:], dst[start+2:len(dst)-(h-2)])
	}
	binary.PutUvarint(dst[start:], n)
	return dst
}

// appendRecordBody appends e's record without its length prefix.
func appendRecordBody(dst []byte, e *event.Event, id string) []byte {
	var flags byte
	if !e.Time.IsZero() {
		flags |= flagHasTime
	}
	dst = append(dst, flags)
	dst = appendString(dst, id)
	dst = appendString(dst, e.Type)
	dst = appendString(dst, e.Source)
	dst = appendString(dst, e.Subject)
	if flags&flagHasTime != 0 {
		dst = appendTime(dst, e.Time)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.Attributes)))
	for k, v := range e.Attributes {
		dst = appendString(dst, k)
		dst = appendString(dst, v)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.Metrics)))
	for k, v := range e.Metrics {
		dst = appendString(dst, k)
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
	}
	dst = appendString(dst, e.ContentType)
	dst = binary.AppendUvarint(dst, uint64(len(e.Data)))
	return append(dst, e.Data...)
}

// blockCursor walks the records of one encoded block without copying them.
type blockCursor struct {
	h    blockHeader
	d    decoder
	next uint64 // index of the next record
}

// openBlock decodes b's header and positions a cursor on its first record.
func openBlock(b []byte) (*blockCursor, error) {
	c := &blockCursor{d: decoder{b: b}}
	if v := c.d.byte1(); c.d.err == nil && v != blockVersion {
		return nil, fmt.Errorf("%w: version %d", errCorrupt, v)
	}
	c.h.FirstSeq = c.d.uvarint()
	c.h.Count = c.d.uvarint()
	c.h.IngestTime = c.d.time()
	c.h.ContentType = c.d.str()
	if c.d.err != nil {
		return nil, c.d.err
	}
	if c.h.Count == 0 || c.h.FirstSeq == 0 || c.h.FirstSeq+c.h.Count-1 < c.h.FirstSeq {
		return nil, fmt.Errorf("%w: seq range %d+%d", errCorrupt, c.h.FirstSeq, c.h.Count)
	}
	return c, nil
}

// more reports whether records remain.
func (c *blockCursor) more() bool { return c.next < c.h.Count }

// seq is the seq of the next record.
func (c *blockCursor) seq() uint64 { return c.h.FirstSeq + c.next }

// skip steps over the next record.
func (c *blockCursor) skip() error {
	c.d.bytes()
	c.next++
	return c.d.err
}

// decode decodes the next record into e (copying everything out of the block).
func (c *blockCursor) decode(e *event.Event) error {
	body := c.d.bytes()
	if c.d.err != nil {
		return c.d.err
	}
	*e = event.Event{Seq: c.seq(), IngestTime: c.h.IngestTime}
	c.next++
	if err := decodeRecord(body, e); err != nil {
		return err
	}
	if e.ContentType == "" {
		e.ContentType = c.h.ContentType
	}
	return nil
}

// finish reports an error if bytes remain after the last record.
func (c *blockCursor) finish() error {
	if c.next == c.h.Count && len(c.d.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(c.d.b))
	}
	return nil
}

// decodeRecord decodes one record body into e's envelope, attributes,
// metrics, content type and data.
func decodeRecord(b []byte, e *event.Event) error {
	d := decoder{b: b}
	flags := d.byte1()
	e.ID = d.str()
	e.Type = d.str()
	e.Source = d.str()
	e.Subject = d.str()
	if flags&flagHasTime != 0 {
		e.Time = d.time()
	}
	if n := d.count(2); n > 0 {
		e.Attributes = make(map[string]string, n)
		for range n {
			k := d.str()
			e.Attributes[k] = d.str()
		}
	}
	if n := d.count(9); n > 0 {
		e.Metrics = make(map[string]float64, n)
		for range n {
			k := d.str()
			e.Metrics[k] = math.Float64frombits(d.u64())
		}
	}
	e.ContentType = d.str()
	if data := d.bytes(); len(data) > 0 {
		e.Data = append([]byte(nil), data...)
	}
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %d trailing record bytes", errCorrupt, len(d.b))
	}
	return nil
}

// decodeBlock decodes a whole block. Read uses blockCursor instead; this is
// for tests and tools.
func decodeBlock(b []byte) (blockHeader, []event.Event, error) {
	c, err := openBlock(b)
	if err != nil {
		return blockHeader{}, nil, err
	}
	events := make([]event.Event, 0, min(c.h.Count, uint64(len(b))))
	for c.more() {
		var e event.Event
		if err := c.decode(&e); err != nil {
			return blockHeader{}, nil, err
		}
		events = append(events, e)
	}
	return c.h, events, c.finish()
}

// decoder reads the primitive encodings; the first error sticks and makes
// every later read return a zero value.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s", errCorrupt, what)
	}
	d.b = nil
}

func (d *decoder) byte1() byte {
	if d.err != nil || len(d.b) < 1 {
		d.fail("byte")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint() uint64 {
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

func (d *decoder) varint() int64 {
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

func (d *decoder) u64() uint64 {
	if d.err != nil || len(d.b) < 8 {
		d.fail("fixed64")
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

// bytes returns a length-prefixed byte string without copying.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
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

func (d *decoder) str() string { return string(d.bytes()) }

// count reads an element count and checks that at least minSize bytes per
// element remain, so garbage cannot make us allocate huge maps.
func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.b)/minSize) {
		d.fail("count")
		return 0
	}
	return int(n)
}

func (d *decoder) time() time.Time {
	sec := d.varint()
	nsec := d.uvarint()
	if d.err != nil {
		return time.Time{}
	}
	if nsec >= 1e9 {
		d.fail("nanoseconds")
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.AppendVarint(dst, t.Unix())
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

func strLen(s string) int { return uvarintLen(uint64(len(s))) + len(s) }

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func varintLen(v int64) int {
	ux := uint64(v) << 1
	if v < 0 {
		ux = ^ux
	}
	return uvarintLen(ux)
}
