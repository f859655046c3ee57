package hot

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/silt-io/silt/pkg/event"
)

// walkBlock reads block b the three ways the store does: a cursor that
// skips, takes bodies and decodes in turn (Read and Snapshot, with a
// scratch shared across blocks), the block cache's copy of its records,
// and decodeBlock. Errors are fine; it returns decodeBlock's.
func walkBlock(b []byte, scratch *[]byte) ([]event.Event, error) {
	if c, err := openBlock(b, scratch); err == nil {
		var e event.Event
		for i := 0; c.more(); i++ {
			var err error
			switch i % 3 {
			case 0:
				err = c.skip()
			case 1:
				_, err = c.body()
			default:
				err = c.decode(&e)
			}
			if err != nil {
				break
			}
		}
		_ = c.finish()
	}
	if cb, err := cacheBlock(blockID{stream: 1, lastSeq: 1}, b); err == nil {
		c := cb.cursor()
		var e event.Event
		for c.more() {
			if err := c.decode(&e); err != nil {
				break
			}
		}
	}
	_, evs, err := decodeBlock(b)
	return evs, err
}

// FuzzDecodeBlock_S2 reaches what FuzzDecodeBlock rarely does: the records
// of an S2-compressed block that decompress cleanly but are damaged (the
// input's records are compressed behind a valid header), and compressed
// bytes damaged behind a valid header (flips: 3 bytes each, a position
// after the header and a byte to XOR there). Blocks are read with a
// scratch buffer left over from a bigger block, as Read reuses one.
func FuzzDecodeBlock_S2(f *testing.F) {
	evs := sampleEvents()
	var records []byte
	for i := range evs {
		records = appendEvent(records, &evs[i], evs[i].ID)
	}
	f.Add(records, uint64(len(evs)), []byte{})
	f.Add(records, uint64(len(evs)+1), []byte{})
	f.Add(records, uint64(1), []byte{})
	f.Add(records[:len(records)/2], uint64(len(evs)), []byte{})
	f.Add(records, uint64(len(evs)), []byte{0, 0, 0xff})
	f.Add(records, uint64(len(evs)), []byte{3, 0, 0x80, 9, 0, 1})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, uint64(1), []byte{})
	left := make([]byte, 64<<10)
	for i := range left {
		left[i] = byte(i)
	}
	f.Fuzz(func(t *testing.T, records []byte, count uint64, flips []byte) {
		h := blockHeader{FirstSeq: 1, Count: count, IngestTime: time.Unix(1, 2), ContentType: "application/json", Compressed: true}
		b := appendBlockHeader(nil, h)
		hdr := len(b)
		b = append(b, s2.Encode(nil, records)...)
		for i := 0; i+3 <= len(flips) && i < 64*3 && len(b) > hdr; i += 3 {
			at := int(binary.LittleEndian.Uint16(flips[i:])) % (len(b) - hdr)
			b[hdr+at] ^= flips[i+2]
		}
		scratch := append([]byte(nil), left...)
		got, err := walkBlock(b, &scratch)
		if err != nil {
			return
		}
		if uint64(len(got)) != count {
			t.Fatalf("decoded %d events, header says %d", len(got), count)
		}
		// What decodes from compressed records decodes the same from them
		// stored as they are.
		plainH := h
		plainH.Compressed = false
		raw, err := s2.Decode(nil, b[hdr:])
		if err != nil {
			t.Fatalf("block decoded but its records do not decompress: %v", err)
		}
		_, plain, err := decodeBlock(append(appendBlockHeader(nil, plainH), raw...))
		if err != nil || len(plain) != len(got) {
			t.Fatalf("plain block: %d events, %v; compressed: %d", len(plain), err, len(got))
		}
	})
}
