package segment

import (
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// This file decodes the dictionary-encoded string columns (stream, type,
// source, content type) page by page, keeping each row's dictionary index:
// a query groups or filters such a column by index and meets each distinct
// string once per row group instead of once per row.

// dictValues decodes the dictionary indices of a BYTE_ARRAY chunk whose
// data pages are all dictionary-encoded, for pages.
type dictValues struct {
	// dict is the chunk's dictionary, read from its first page.
	dict *array.String
}

// dictPagesReadable reports whether pages[int32] with dictValues can read
// leaf's chunk in rgr: whether it has a dictionary and every data page is
// a version 1 page that uses it.
func dictPagesReadable(rgr *file.RowGroupReader, leaf int) bool {
	cc, err := rgr.MetaData().ColumnChunk(leaf)
	if err != nil || !cc.HasDictionaryPage() {
		return false
	}
	return version1Only(rgr, leaf, isDictEncoding)
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
	d := array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{nil, memory.NewBufferBytes(asBytes(offs)), memory.NewBufferBytes(buf)}, nil, 0, 0)
	defer d.Release()
	return array.NewStringData(d), nil
}
