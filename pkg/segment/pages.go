package segment

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// This file reads a column chunk page by page for Scan, where arrow-go
// v18.4.1's typed readers are slow (intpages.go, dictpages.go say why):
// pages decodes the definition levels of each version 1 data page and
// hands its values to a pageValues, which decodes them into a []T.

// The pageValues decoders. (The assertions also tell the unused linter,
// which misses implementations of a generic interface, that their methods
// are called.)
var (
	_ pageValues[int32] = (*dictValues)(nil)
	_ pageValues[int64] = int64Values{}
)

// pageValues decodes the values of one kind of column chunk.
type pageValues[T int32 | int64] interface {
	// reset forgets the previous chunk (its dictionary).
	reset()
	// dictionary takes the chunk's dictionary page.
	dictionary(pg file.Page) error
	// values decodes nv values of encoding e from data into out[:0].
	values(e parquet.Encoding, data []byte, nv int, out []T) ([]T, error)
}

// pages reads the values and definition levels of one column chunk.
type pages[T int32 | int64] struct {
	pr     file.PageReader
	path   string
	maxDef int16
	dec    pageValues[T]

	// The current page, decoded: defs (nullable columns only) and the
	// non-null vals; [row, rows) and [val, len(vals)) are not returned yet.
	defs      []int16
	vals      []T
	row, rows int
	val       int
}

// reset makes p read pr, a chunk of leaf whose maximum definition level
// is maxDef, from its start (pr nil: none).
func (p *pages[T]) reset(pr file.PageReader, leaf int, maxDef int16) {
	p.pr, p.path, p.maxDef = pr, leafShapes[leaf].path, maxDef
	p.defs, p.vals = p.defs[:0], p.vals[:0]
	p.row, p.rows, p.val = 0, 0, 0
	p.dec.reset()
}

// read fills vals with the next len(vals) rows' values (packed: nulls take
// no slot) and, for a nullable column, defs with their levels. It returns
// the number of values.
func (p *pages[T]) read(vals []T, defs []int16) (int, error) {
	n, nv := 0, 0
	for n < len(vals) {
		if p.row == p.rows {
			if err := p.nextPage(); err != nil {
				return 0, err
			}
		}
		k := min(len(vals)-n, p.rows-p.row)
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
		copy(vals[nv:], p.vals[p.val:p.val+m])
		p.val += m
		nv += m
		p.row += k
		n += k
	}
	return nv, nil
}

// nextPage decodes the chunk's next data page (and a dictionary before it).
func (p *pages[T]) nextPage() error {
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
			if err := p.dec.dictionary(pg); err != nil {
				return fmt.Errorf("%w: column %s: dictionary: %w", ErrCorrupt, p.path, err)
			}
			continue
		case file.PageTypeIndexPage:
			continue
		case file.PageTypeDataPage:
		default:
			return fmt.Errorf("%w: column %s has a page of type %v", ErrCorrupt, p.path, pg.Type())
		}
		data, rows := pg.Data(), int(pg.NumValues())
		nv := rows
		if p.maxDef > 0 {
			var err error
			if data, nv, err = p.levels(data, rows); err != nil {
				return fmt.Errorf("%w: column %s: %w", ErrCorrupt, p.path, err)
			}
		}
		var err error
		if p.vals, err = p.dec.values(parquet.Encoding(pg.Encoding()), data, nv, p.vals[:0]); err != nil {
			return fmt.Errorf("%w: column %s: %w", ErrCorrupt, p.path, err)
		}
		p.row, p.rows, p.val = 0, rows, 0
		if rows > 0 {
			return nil
		}
	}
}

// levels decodes the definition levels of a version 1 page of rows rows
// into p.defs and returns the rest of the page and the number of values.
func (p *pages[T]) levels(data []byte, rows int) ([]byte, int, error) {
	if len(data) < 4 {
		return nil, 0, fmt.Errorf("page too short for its levels")
	}
	size := int(binary.LittleEndian.Uint32(data))
	if size > len(data)-4 {
		return nil, 0, fmt.Errorf("levels of %d bytes in a page of %d", size, len(data))
	}
	var err error
	if p.defs, err = decodeHybrid(data[4:4+size], bits.Len16(uint16(p.maxDef)), rows, p.defs[:0]); err != nil {
		return nil, 0, err
	}
	nv := 0
	for _, l := range p.defs {
		if l == p.maxDef {
			nv++
		}
	}
	return data[4+size:], nv, nil
}

// version1Only reports whether the page statistics of leaf's chunk in rgr
// list data pages and all of them are version 1, with encodings ok takes
// (a writer that stores no statistics is not trusted to be like Silt's).
func version1Only(rgr *file.RowGroupReader, leaf int, ok func(parquet.Encoding) bool) bool {
	cc, err := rgr.MetaData().ColumnChunk(leaf)
	if err != nil {
		return false
	}
	data := 0
	for _, s := range cc.EncodingStats() {
		switch s.PageType {
		case file.PageTypeDataPage:
			if !ok(s.Encoding) {
				return false
			}
			data++
		case file.PageTypeDataPageV2:
			return false
		}
	}
	return data > 0
}

// maxPageHeaderBytes bounds the page headers Silt reads. The writer's stay
// far below it (statistics are at most 4 KiB a value); arrow-go's page
// reader, on a header it cannot parse, tries again with twice the bytes up
// to 4 MiB, which on one damaged header allocated about 50 MiB for nothing
// (FuzzReader_Damaged).
const maxPageHeaderBytes = 64 << 10

// openPageReader opens the pages of leaf in rgr with headers bounded by
// maxPageHeaderBytes.
func openPageReader(rgr *file.RowGroupReader, leaf int) (file.PageReader, error) {
	pr, err := rgr.GetColumnPageReader(leaf)
	if err != nil {
		return nil, err
	}
	pr.SetMaxPageHeaderSize(maxPageHeaderBytes)
	return pr, nil
}

// columnBuffers recycles the column readers' buffers, as arrow-go's
// file.Reader does for the readers it opens.
var columnBuffers = sync.Pool{New: func() any { return memory.NewResizableBuffer(memory.DefaultAllocator) }}

// openColumn is rgr.Column(leaf), arrow-go's column reader, on pages opened
// by openPageReader.
func openColumn(rgr *file.RowGroupReader, leaf int) (file.ColumnChunkReader, error) {
	pr, err := openPageReader(rgr, leaf)
	if err != nil {
		return nil, err
	}
	// rgr.Column cannot bound the page headers, and in arrow-go v18.4.1
	// this deprecated constructor is the only way to put its column reader
	// on a page reader of our own; an upgrade that removes it fails to
	// compile here.
	return file.NewColumnReader(rgr.MetaData().Schema.Column(leaf), pr, memory.DefaultAllocator, &columnBuffers), nil //nolint:staticcheck // SA1019: see above

}
