package hot

import (
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// blockVersion is the first byte of a block whose records are stored as
// they are; blockVersionS2 of one whose records are S2-compressed.
//
// Block layout:
//
//	version      byte (1 or 2)
//	firstSeq     uvarint
//	count        uvarint (> 0)
//	ingestTime   varint unix seconds, uvarint nanoseconds
//	contentType  string: the type of records that carry none
//	records      count times uvarint(len(record)) record; with version 2,
//	             those bytes as one S2 block (github.com/klauspost/compress/s2)
//
// Records are package record's bodies. Event i of the block has
// seq firstSeq+i and the block's ingest time.
const (
	blockVersion   byte = 1
	blockVersionS2 byte = 2
)

// maxBlockRecords bounds the records of one block once decompressed: a
// chunk holds at most maxBlockBytes of records, or one record of up to
// maxRecordBytes. A compressed block claiming more is corrupt.
const maxBlockRecords = maxBlockBytes + maxRecordBytes + 16

// errCorrupt is wrapped by every decoding error.
var errCorrupt = record.ErrCorrupt

// blockHeader is the part of a block before its records.
type blockHeader struct {
	FirstSeq    uint64
	Count       uint64
	IngestTime  time.Time
	ContentType string
	// Compressed says the records that follow are one S2 block.
	Compressed bool
}

// LastSeq is the seq of the block's last event.
func (h blockHeader) LastSeq() uint64 { return h.FirstSeq + h.Count - 1 }

// appendBlockHeader appends h's encoding to dst.
func appendBlockHeader(dst []byte, h blockHeader) []byte {
	if h.Compressed {
		dst = append(dst, blockVersionS2)
	} else {
		dst = append(dst, blockVersion)
	}
	dst = binary.AppendUvarint(dst, h.FirstSeq)
	dst = binary.AppendUvarint(dst, h.Count)
	dst = record.AppendTime(dst, h.IngestTime)
	return record.AppendString(dst, h.ContentType)
}

// maxBlockHeaderLen bounds the header length for a content type of length n.
func maxBlockHeaderLen(n int) int { return 1 + 4*binary.MaxVarintLen64 + n + binary.MaxVarintLen64 }

// appendRecord appends uvarint(len(record)) and p's record body, with id
// in place of p.ID, to dst.
func appendRecord(dst []byte, p *event.PackedEvent, id string) []byte {
	dst = binary.AppendUvarint(dst, uint64(record.PackedLen(p, id)))
	return record.AppendPacked(dst, p, id)
}

// blockCursor walks the records of one encoded block without copying them.
type blockCursor struct {
	h    blockHeader
	d    record.Decoder
	next uint64 // index of the next record
}

// openBlock decodes b's header and positions a cursor on its first record.
// A compressed block's records are decompressed into *scratch (grown as
// needed), which the cursor then reads; callers reuse one scratch across
// the blocks they read (getScratch, putScratch).
func openBlock(b []byte, scratch *[]byte) (*blockCursor, error) {
	if len(b) == 0 {
		// What Badger v4.9.0 hands over when a value-log read fails its
		// checksum: it logs the error and returns no value (Item.Value).
		return nil, fmt.Errorf("%w: empty block (a value-log read failed; Badger's log says why)", errCorrupt)
	}
	c := &blockCursor{d: record.NewDecoder(b)}
	v := c.d.Byte()
	if c.d.Err() == nil && v != blockVersion && v != blockVersionS2 {
		return nil, fmt.Errorf("%w: version %d", errCorrupt, v)
	}
	c.h.Compressed = v == blockVersionS2
	c.h.FirstSeq = c.d.Uvarint()
	c.h.Count = c.d.Uvarint()
	c.h.IngestTime = c.d.Time()
	c.h.ContentType = c.d.Str()
	if c.d.Err() != nil {
		return nil, c.d.Err()
	}
	if c.h.Count == 0 || c.h.FirstSeq == 0 || c.h.FirstSeq+c.h.Count-1 < c.h.FirstSeq {
		return nil, fmt.Errorf("%w: seq range %d+%d", errCorrupt, c.h.FirstSeq, c.h.Count)
	}
	if c.h.Compressed {
		z := b[len(b)-c.d.Len():]
		n, err := s2.DecodedLen(z)
		if err != nil || n > maxBlockRecords {
			// err is nil when n is too large, so %w would print %!w(<nil>).
			return nil, fmt.Errorf("%w: compressed records of %d bytes (%v)", errCorrupt, n, err) //nolint:errorlint // callers match errCorrupt; the cause is detail, not part of the chain
		}
		if cap(*scratch) < n {
			*scratch = make([]byte, n)
		}
		raw, err := s2.Decode((*scratch)[:cap(*scratch)], z)
		if err != nil {
			return nil, fmt.Errorf("%w: compressed records: %v", errCorrupt, err) //nolint:errorlint // callers match errCorrupt; the cause is detail, not part of the chain
		}
		c.d = record.NewDecoder(raw)
	}
	return c, nil
}

// scratches recycles the buffers compressed blocks are decompressed into,
// so a Read or a Subscribe poll that returns a few events does not
// allocate a whole block each time.
var scratches = sync.Pool{New: func() any { return new([]byte) }}

func getScratch() *[]byte { return scratches.Get().(*[]byte) }

func putScratch(b *[]byte) { scratches.Put(b) }

// more reports whether records remain.
func (c *blockCursor) more() bool { return c.next < c.h.Count }

// seq is the seq of the next record.
func (c *blockCursor) seq() uint64 { return c.h.FirstSeq + c.next }

// skip steps over the next record.
func (c *blockCursor) skip() error {
	c.d.Bytes()
	c.next++
	return c.d.Err()
}

// body returns the next record's body (pkg/record's encoding) without
// decoding it; it aliases the block.
func (c *blockCursor) body() ([]byte, error) {
	b := c.d.Bytes()
	c.next++
	return b, c.d.Err()
}

// decode decodes the next record into e (copying everything out of the block).
func (c *blockCursor) decode(e *event.Event) error {
	body := c.d.Bytes()
	if err := c.d.Err(); err != nil {
		return err
	}
	*e = event.Event{Seq: c.seq(), IngestTime: c.h.IngestTime}
	c.next++
	if err := record.DecodeBody(body, e); err != nil {
		return err
	}
	if e.ContentType == "" && e.HasPayload() {
		e.ContentType = c.h.ContentType
	}
	if e.Time.IsZero() {
		e.Time = e.IngestTime // an event without a time has its ingest time
	}
	return nil
}

// finish reports an error if bytes remain after the last record.
func (c *blockCursor) finish() error {
	if c.next == c.h.Count && c.d.Len() != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errCorrupt, c.d.Len())
	}
	return nil
}
