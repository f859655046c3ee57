package pagecodec

import (
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// This file decodes the dictionary-encoded string columns page by page,
// keeping each row's dictionary index: a caller that groups or filters
// such a column by index meets each distinct string once per chunk
// instead of once per row.

// DictChunk decodes the dictionary indices of a BYTE_ARRAY column chunk
// whose data pages are all version 1 pages that use its dictionary, as
// [CanReadDict] checks. The zero value is ready for [DictChunk.Reset].
type DictChunk struct {
	p pages[int32]
	d dictValues
}

// Reset makes c read column col of rgr from its first row, through pr, a
// page reader of that chunk; c keeps its buffers and drops the previous
// chunk's dictionary.
func (c *DictChunk) Reset(rgr *file.RowGroupReader, col int, pr file.PageReader) error {
	c.p.dec = &c.d
	return c.p.reset(rgr, col, pr)
}

// Read fills codes with the dictionary indices of the next len(codes)
// rows, packed (a null takes no slot), and for a nullable column defs (at
// least as long) with their definition levels. It returns the number of
// indices; each is below [DictChunk.Dictionary]'s length. Damaged pages
// give an error, never a panic or an index past the dictionary.
func (c *DictChunk) Read(codes []int32, defs []int16) (int, error) { return c.p.read(codes, defs) }

// Dictionary is the chunk's dictionary, once Read has returned a row (nil
// before). It stays valid until the next Reset or Release; callers that
// keep it longer Retain it.
func (c *DictChunk) Dictionary() *array.String { return c.d.dict }

// Release drops the page reader and the dictionary; c keeps its buffers
// for the next Reset.
func (c *DictChunk) Release() { _ = c.Reset(nil, 0, nil) }

// CanReadDict reports whether a [DictChunk] decodes column col's chunk in
// rgr: a flat BYTE_ARRAY column with a dictionary whose page statistics
// list only version 1 data pages, each dictionary-encoded.
func CanReadDict(rgr *file.RowGroupReader, col int) bool {
	if !flat(rgr, col, parquet.Types.ByteArray) {
		return false
	}
	cc, err := rgr.MetaData().ColumnChunk(col)
	if err != nil || !cc.HasDictionaryPage() {
		return false
	}
	return version1Only(rgr, col, isDictEncoding)
}

// dictValues decodes the dictionary indices of a BYTE_ARRAY chunk whose
// data pages are all dictionary-encoded, for pages.
type dictValues struct {
	// dict is the chunk's dictionary, read from its first page.
	dict *array.String
}

// isDictEncoding reports whether e is a dictionary-index encoding.
func isDictEncoding(e parquet.Encoding) bool {
	return e == parquet.Encodings.RLEDict || e == parquet.Encodings.PlainDict
}

func (d *dictValues) reset() {
	if d.dict != nil {
		d.dict.Release()
	}
	d.dict = nil
}

func (d *dictValues) dictionary(pg file.Page) error {
	if d.dict != nil {
		return fmt.Errorf("a second dictionary")
	}
	dict, err := plainStrings(pg.Data(), int(pg.NumValues()))
	if err != nil {
		return err
	}
	d.dict = dict
	return nil
}

func (d *dictValues) values(e parquet.Encoding, data []byte, nv int, out []int32) ([]int32, error) {
	if d.dict == nil {
		return nil, fmt.Errorf("a data page before the dictionary")
	}
	if !isDictEncoding(e) {
		return nil, fmt.Errorf("a %s page among dictionary pages", e)
	}
	if nv == 0 {
		return out[:0], nil
	}
	if len(data) < 1 {
		return nil, fmt.Errorf("a page without its index width")
	}
	codes, err := decodeHybrid(data[1:], int(data[0]), nv, out[:0])
	if err != nil {
		return nil, err
	}
	size := int32(d.dict.Len())
	for _, c := range codes {
		if uint32(c) >= uint32(size) {
			return nil, fmt.Errorf("index %d in a dictionary of %d", c, size)
		}
	}
	return codes, nil
}

// plainStrings decodes n PLAIN byte arrays (each a 4-byte length and its
// bytes) into a new string array that owns its bytes.
func plainStrings(data []byte, n int) (*array.String, error) {
	if n < 0 || n > len(data)/4 { // each value takes at least its length
		return nil, fmt.Errorf("%d values in %d bytes", n, len(data))
	}
	offs := make([]int32, n+1)
	buf := make([]byte, 0, len(data))
	for i := range n {
		if len(data) < 4 {
			return nil, fmt.Errorf("value %d of %d past the end", i, n)
		}
		l := binary.LittleEndian.Uint32(data)
		if uint64(l) > uint64(len(data)-4) {
			return nil, fmt.Errorf("value %d of %d bytes past the end", i, l)
		}
		buf = append(buf, data[4:4+l]...)
		offs[i+1] = int32(len(buf))
		data = data[4+l:]
	}
	d := array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offs)), memory.NewBufferBytes(buf)}, nil, 0, 0)
	defer d.Release()
	return array.NewStringData(d), nil
}
