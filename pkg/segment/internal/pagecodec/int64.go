package pagecodec

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// This file decodes the values of INT64 column chunks (seq, time,
// ingest_time). arrow-go v18.4.1 unpacks DELTA_BINARY_PACKED values one at
// a time through a bit reader, which made the time column a third of the
// CPU of a query grouping by type; here a miniblock is unpacked in one
// loop of 64-bit loads (bitpack.go).

// Int64Chunk decodes an INT64 column chunk whose data pages are version 1
// pages, PLAIN or DELTA_BINARY_PACKED (no dictionary), as [CanReadInt64]
// checks. The zero value is ready for [Int64Chunk.Reset].
type Int64Chunk struct {
	p pages[int64]
}

// Reset makes c read column col of rgr from its first row, through pr, a
// page reader of that chunk; c keeps its buffers.
func (c *Int64Chunk) Reset(rgr *file.RowGroupReader, col int, pr file.PageReader) error {
	c.p.dec = int64Values{}
	return c.p.reset(rgr, col, pr)
}

// Read fills vals with the next len(vals) rows' values, packed (a null
// takes no slot), and for a nullable column defs (at least as long) with
// their definition levels. It returns the number of values. Damaged pages
// give an error, never a panic or values the pages do not hold.
func (c *Int64Chunk) Read(vals []int64, defs []int16) (int, error) { return c.p.read(vals, defs) }

// Release drops the page reader; c keeps its buffers for the next Reset.
func (c *Int64Chunk) Release() { _ = c.Reset(nil, 0, nil) }

// CanReadInt64 reports whether an [Int64Chunk] decodes column col's chunk
// in rgr: a flat INT64 column whose page statistics list only version 1
// data pages, each PLAIN or DELTA_BINARY_PACKED.
func CanReadInt64(rgr *file.RowGroupReader, col int) bool {
	decodes := func(e parquet.Encoding) bool {
		return e == parquet.Encodings.Plain || e == parquet.Encodings.DeltaBinaryPacked
	}
	if !flat(rgr, col, parquet.Types.Int64) || !version1Only(rgr, col, decodes) {
		return false
	}
	cc, err := rgr.MetaData().ColumnChunk(col)
	if err != nil {
		return false
	}
	for _, e := range cc.Encodings() {
		if !decodes(e) && e != parquet.Encodings.RLE { // RLE: the levels
			return false
		}
	}
	return true
}

// flat reports whether column col of rgr is a leaf of physical type typ
// that no list or map repeats.
func flat(rgr *file.RowGroupReader, col int, typ parquet.Type) bool {
	sc := rgr.MetaData().Schema
	if col < 0 || col >= sc.NumColumns() {
		return false
	}
	d := sc.Column(col)
	return d.PhysicalType() == typ && d.MaxRepetitionLevel() == 0
}

// int64Values decodes the values of an INT64 chunk whose data pages are
// PLAIN or DELTA_BINARY_PACKED, for pages.
type int64Values struct{}

func (int64Values) reset() {}

func (int64Values) dictionary(file.Page) error {
	return fmt.Errorf("an INT64 chunk read without its dictionary")
}

func (int64Values) values(e parquet.Encoding, data []byte, nv int, out []int64) ([]int64, error) {
	switch e {
	case parquet.Encodings.Plain:
		if len(data) < 8*nv {
			return nil, fmt.Errorf("%d plain bytes for %d values", len(data), nv)
		}
		out = slices.Grow(out[:0], nv)[:nv]
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(data[8*i:]))
		}
		return out, nil
	case parquet.Encodings.DeltaBinaryPacked:
		return decodeDelta(data, nv, out[:0])
	}
	return nil, fmt.Errorf("encoding %s", e)
}

// decodeDelta decodes n DELTA_BINARY_PACKED values into out.
func decodeDelta(data []byte, n int, out []int64) ([]int64, error) {
	blockSize, k1 := binary.Uvarint(data)
	if k1 <= 0 {
		return nil, fmt.Errorf("delta header")
	}
	minis, k2 := binary.Uvarint(data[k1:])
	if k2 <= 0 {
		return nil, fmt.Errorf("delta header")
	}
	total, k3 := binary.Uvarint(data[k1+k2:])
	if k3 <= 0 {
		return nil, fmt.Errorf("delta header")
	}
	first, k4 := binary.Varint(data[k1+k2+k3:])
	if k4 <= 0 {
		return nil, fmt.Errorf("delta header")
	}
	data = data[k1+k2+k3+k4:]
	if total != uint64(n) {
		return nil, fmt.Errorf("%d delta values for %d defined rows", total, n)
	}
	if blockSize == 0 || blockSize%128 != 0 || blockSize > 1<<20 || minis == 0 || minis > blockSize || blockSize%minis != 0 || blockSize/minis%32 != 0 {
		return nil, fmt.Errorf("delta blocks of %d values in %d miniblocks", blockSize, minis)
	}
	perMini := int(blockSize / minis)
	if n == 0 {
		return out, nil
	}
	out = slices.Grow(out, n)
	out = append(out, first)
	last := first
	for len(out) < n {
		minDelta, k := binary.Varint(data)
		if k <= 0 || len(data) < k+int(minis) {
			return nil, fmt.Errorf("delta block header after %d of %d values", len(out), n)
		}
		widths := data[k : k+int(minis)]
		data = data[k+int(minis):]
		for _, w := range widths {
			if len(out) == n {
				break
			}
			if w > 64 {
				return nil, fmt.Errorf("delta bit width %d", w)
			}
			size := perMini * int(w) / 8
			if len(data) < size {
				return nil, fmt.Errorf("delta miniblock of %d bytes past the end", size)
			}
			m := min(perMini, n-len(out))
			last = unpackDeltas(data[:size], int(w), m, last, minDelta, &out)
			data = data[size:]
		}
	}
	return out, nil
}
