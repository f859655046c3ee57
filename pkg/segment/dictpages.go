package segment

import (
	"encoding/binary"
	"fmt"
	"math/bits"

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

// dictPages reads a BYTE_ARRAY column chunk whose data pages are all
// dictionary-encoded version 1 pages, as indices into its dictionary.
type dictPages struct {
	pr     file.PageReader
	path   string
	maxDef int16

	// dict is the chunk's dictionary, read from its first page.
	dict *array.String

	// The current page, decoded: defs (nullable columns only) and the
	// indices of the non-null values; [row, rows) and [val, len(codes))
	// are not returned yet.
	defs      []int16
	codes     []int32
	row, rows int
	val       int
}

// dictPagesReadable reports whether dictPages can read leaf's chunk in
// rgr: whether it has a dictionary and every data page uses it.
func dictPagesReadable(rgr *file.RowGroupReader, leaf int) bool {
	cc, err := rgr.MetaData().ColumnChunk(leaf)
	if err != nil || !cc.HasDictionaryPage() {
		return false
	}
	data := 0
	for _, s := range cc.EncodingStats() {
		switch s.PageType {
		case file.PageTypeDataPage:
			if s.Encoding != parquet.Encodings.RLEDict && s.Encoding != parquet.Encodings.PlainDict {
				return false
			}
			data++
		case file.PageTypeDataPageV2:
			return false // not decoded here
		}
	}
	return data > 0
}

// reset makes p read pr, a chunk of leaf, from its start.
func (p *dictPages) reset(pr file.PageReader, leaf int) {
	if p.dict != nil {
		p.dict.Release()
	}
	p.pr, p.path, p.maxDef, p.dict = pr, leafShapes[leaf].path, leafShapes[leaf].maxDef, nil
	p.defs, p.codes = p.defs[:0], p.codes[:0]
	p.row, p.rows, p.val = 0, 0, 0
}

// read fills codes with the dictionary indices of the next len(codes)
// rows' values (packed: nulls take no slot) and, for a nullable column,
// defs with their levels. It returns the number of values.
func (p *dictPages) read(codes []int32, defs []int16) (int, error) {
	n, nv := 0, 0
	for n < len(codes) {
		if p.row == p.rows {
			if err := p.nextPage(); err != nil {
				return 0, err
			}
		}
		k := min(len(codes)-n, p.rows-p.row)
		m := k
		if p.maxDef > 0 {
			d := p.defs[p.row : p.row+k]
			copy(defs[n:], d)
			m = 0
			for _, l := range d {
				if l == p.maxDef {
					m++
				}
			}
		}
		copy(codes[nv:], p.codes[p.val:p.val+m])
		p.val += m
		nv += m
		p.row += k
		n += k
	}
	return nv, nil
}

// nextPage decodes the chunk's next data page, and its dictionary first.
func (p *dictPages) nextPage() error {
	for {
		if !p.pr.Next() {
			if err := p.pr.Err(); err != nil {
				return err
			}
			return fmt.Errorf("%w: column %s ended early", ErrCorrupt, p.path)
		}
		pg := p.pr.Page()
		switch pg.Type() {
		case file.PageTypeDictionaryPage:
			if p.dict != nil {
				return fmt.Errorf("%w: column %s has a second dictionary", ErrCorrupt, p.path)
			}
			d, err := plainStrings(pg.Data(), int(pg.NumValues()))
			if err != nil {
				return fmt.Errorf("%w: column %s: dictionary: %w", ErrCorrupt, p.path, err)
			}
			p.dict = d
			continue
		case file.PageTypeIndexPage:
			continue
		case file.PageTypeDataPage:
		default:
			return fmt.Errorf("%w: column %s has a page of type %v", ErrCorrupt, p.path, pg.Type())
		}
		if p.dict == nil {
			return fmt.Errorf("%w: column %s has a data page before its dictionary", ErrCorrupt, p.path)
		}
		if e := parquet.Encoding(pg.Encoding()); e != parquet.Encodings.RLEDict && e != parquet.Encodings.PlainDict {
			return fmt.Errorf("%w: column %s has a %s page among dictionary pages", ErrCorrupt, p.path, e)
		}
		data, rows := pg.Data(), int(pg.NumValues())
		nv := rows
		var err error
		if p.maxDef > 0 {
			if data, nv, err = p.levels(data, rows); err != nil {
				return err
			}
		}
		if nv > 0 {
			if len(data) < 1 {
				return fmt.Errorf("%w: column %s: page has no index width", ErrCorrupt, p.path)
			}
			if p.codes, err = decodeHybrid(data[1:], int(data[0]), nv, p.codes[:0]); err != nil {
				return fmt.Errorf("%w: column %s: %w", ErrCorrupt, p.path, err)
			}
			size := int32(p.dict.Len())
			for _, c := range p.codes {
				if uint32(c) >= uint32(size) {
					return fmt.Errorf("%w: column %s: index %d in a dictionary of %d", ErrCorrupt, p.path, c, size)
				}
			}
		} else {
			p.codes = p.codes[:0]
		}
		p.row, p.rows, p.val = 0, rows, 0
		if rows > 0 {
			return nil
		}
	}
}

// levels decodes the definition levels of a version 1 page of rows rows
// into p.defs and returns the rest of the page and the number of values.
func (p *dictPages) levels(data []byte, rows int) ([]byte, int, error) {
	if len(data) < 4 {
		return nil, 0, fmt.Errorf("%w: column %s: page too short for its levels", ErrCorrupt, p.path)
	}
	size := int(binary.LittleEndian.Uint32(data))
	if size > len(data)-4 {
		return nil, 0, fmt.Errorf("%w: column %s: levels of %d bytes in a page of %d", ErrCorrupt, p.path, size, len(data))
	}
	var err error
	if p.defs, err = decodeLevels(data[4:4+size], bits.Len16(uint16(p.maxDef)), rows, p.defs[:0]); err != nil {
		return nil, 0, fmt.Errorf("%w: column %s: %w", ErrCorrupt, p.path, err)
	}
	nv := 0
	for _, l := range p.defs {
		if l == p.maxDef {
			nv++
		}
	}
	return data[4+size:], nv, nil
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
