package segment

import (
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/silt-io/silt/pkg/segment/internal/pagecodec"
)

// This file decodes row groups into Arrow arrays with arrow-go's low-level
// column readers, for Scan. pqarrow does the same in general, but it builds
// every string value by value and rebuilds maps from their levels through
// generic list and struct readers; here each column of a batch is one pass
// over its decoded values into buffers that the next batch reuses, so a
// scan allocates nothing per batch once warm. The arrays are those of
// Schema, as pqarrow makes them.

// arrowColumn decodes the next rows of one Schema field into an Arrow
// array. The array's buffers are the column's own and are overwritten by
// the next call.
type arrowColumn interface {
	next(n int) (arrow.ArrayData, error)
	// done drops the column's readers, keeping its buffers.
	done()
}

// arrowPools keep the columns (their scratch buffers) of finished scans
// for the next, by Schema field, so that a query's scan of many row groups
// allocates its buffers once.
var arrowPools [numFields]sync.Pool

// newArrowColumn opens the leaves of Schema field f in rgr, with a pooled
// column's buffers; with dicts, a dictionary-encoded string column comes
// as a dictionary array. putArrowColumn gives it back.
func newArrowColumn(rgr *file.RowGroupReader, f int, dicts bool) (arrowColumn, error) {
	open := func(leaf int) (file.ColumnChunkReader, error) {
		cr, err := openColumn(rgr, leaf)
		if err != nil {
			return nil, fmt.Errorf("open column %s: %w", leafShapes[leaf].path, err)
		}
		return cr, nil
	}
	typ := Schema.Field(f).Type
	leaf := leavesOf[Schema.Field(f).Name][0]
	// The file's own levels: source and subject are required in older segments.
	nullable := rgr.MetaData().Schema.Column(leaf).MaxDefinitionLevel() > 0
	// openPages opens leaf for Silt's own page decoders (package pagecodec),
	// when readable says they decode its chunk (then arrow-go's column
	// reader is not opened).
	openPages := func(readable func(*file.RowGroupReader, int) bool) (file.PageReader, error) {
		if !readable(rgr, leaf) {
			return nil, nil
		}
		pr, err := openPageReader(rgr, leaf)
		if err != nil {
			return nil, fmt.Errorf("open column %s: %w", leafShapes[leaf].path, err)
		}
		return pr, nil
	}
	pooled := arrowPools[f].Get()
	// checkLeaves made sure of the physical types, so every assertion holds.
	switch f {
	case fAttributes, fMetrics:
		kr, err := open(leaf)
		if err != nil {
			return nil, err
		}
		vr, err := open(leaf + 1)
		if err != nil {
			return nil, err
		}
		if f == fAttributes {
			c, _ := pooled.(*arrowMap[parquet.ByteArray])
			if c == nil {
				c = &arrowMap[parquet.ByteArray]{typ: typ}
			}
			c.m.reset(kr.(*file.ByteArrayColumnChunkReader), vr.(*file.ByteArrayColumnChunkReader))
			return c, nil
		}
		c, _ := pooled.(*arrowMap[float64])
		if c == nil {
			c = &arrowMap[float64]{typ: typ}
		}
		c.m.reset(kr.(*file.ByteArrayColumnChunkReader), vr.(*file.Float64ColumnChunkReader))
		return c, nil
	case fSeq, fTime, fIngestTime:
		c, _ := pooled.(*arrowInts)
		if c == nil {
			c = &arrowInts{typ: typ, nullable: nullable}
		}
		c.cr, c.paged, c.nullable, c.path = nil, false, nullable, leafShapes[leaf].path
		pr, err := openPages(pagecodec.CanReadInt64)
		if err != nil {
			return nil, err
		}
		if pr != nil {
			if err := c.pages.Reset(rgr, leaf, pr); err != nil {
				return nil, fmt.Errorf("open column %s: %w", c.path, err)
			}
			c.paged = true
			return c, nil
		}
		cr, err := open(leaf)
		if err != nil {
			return nil, err
		}
		c.cr = cr.(*file.Int64ColumnChunkReader)
		return c, nil
	}
	c, _ := pooled.(*arrowBytes)
	if c == nil {
		c = &arrowBytes{typ: typ, nullable: nullable}
	}
	c.cr, c.paged, c.asDict, c.nullable, c.path = nil, false, false, nullable, leafShapes[leaf].path
	pr, err := openPages(pagecodec.CanReadDict)
	if err != nil {
		return nil, err
	}
	if pr != nil {
		if err := c.pages.Reset(rgr, leaf, pr); err != nil {
			return nil, fmt.Errorf("open column %s: %w", c.path, err)
		}
		c.paged, c.asDict = true, dicts
		return c, nil
	}
	cr, err := open(leaf)
	if err != nil {
		return nil, err
	}
	c.cr = cr.(*file.ByteArrayColumnChunkReader)
	return c, nil
}

// putArrowColumn pools c, field f's column, once its scan is done.
func putArrowColumn(f int, c arrowColumn) {
	c.done()
	arrowPools[f].Put(c)
}

// arrowBytes decodes a flat string or binary column.
type arrowBytes struct {
	typ      arrow.DataType
	path     string // the leaf's, for errors
	cr       *file.ByteArrayColumnChunkReader
	nullable bool
	// paged says pages decodes the chunk rather than cr; asDict, that its
	// rows come as a dictionary array.
	paged, asDict bool
	pages         pagecodec.DictChunk

	vals  []parquet.ByteArray
	codes []int32
	defs  []int16
	str   stringBuffers
	valid []byte
}

func (c *arrowBytes) done() {
	c.cr = nil
	c.pages.Release()
}

func (c *arrowBytes) next(n int) (arrow.ArrayData, error) {
	if c.paged {
		return c.nextCodes(n)
	}
	c.vals = grow(c.vals, n)
	var defs []int16
	if c.nullable {
		c.defs = grow(c.defs, n)
		defs = c.defs
	}
	total, nv, err := c.cr.ReadBatch(int64(n), c.vals, defs, nil)
	if err != nil {
		return nil, err
	}
	if total != int64(n) {
		return nil, fmt.Errorf("%w: column %s ended after %d of %d rows", ErrCorrupt, c.cr.Descriptor().Path(), total, n)
	}
	if !c.nullable {
		return c.str.data(c.typ, c.vals[:n], nil, nil, 0), nil
	}
	valid, nulls, err := validity(&c.valid, defs, nv)
	if err != nil {
		return nil, fmt.Errorf("column %s: %w", c.path, err)
	}
	return c.str.data(c.typ, c.vals[:nv], defs, valid, nulls), nil
}

// dictType is the type of a dictionary-encoded string column's arrays.
var dictType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

// nextCodes is next for a chunk that pages reads: a dictionary array,
// or the strings its indices name.
func (c *arrowBytes) nextCodes(n int) (arrow.ArrayData, error) {
	c.codes = grow(c.codes, n)
	var defs []int16
	if c.nullable {
		c.defs = grow(c.defs, n)
		defs = c.defs
	}
	nv, err := c.pages.Read(c.codes[:n], defs)
	if err != nil {
		return nil, err
	}
	var valid []byte
	nulls := 0
	if c.nullable {
		if valid, nulls, err = validity(&c.valid, defs, nv); err != nil {
			return nil, fmt.Errorf("column %s: %w", c.path, err)
		}
	}
	dict := c.pages.Dictionary()
	if !c.asDict {
		return c.str.fromDict(c.typ, dict, c.codes[:nv], defs, valid, nulls), nil
	}
	codes := c.codes[:n]
	if nulls > 0 {
		spread(codes, nv, defs)
	}
	var vb *memory.Buffer
	if nulls > 0 {
		vb = memory.NewBufferBytes(valid)
	}
	d := array.NewData(dictType, n, []*memory.Buffer{vb, memory.NewBufferBytes(asBytes(codes))}, nil, nulls, 0)
	d.SetDictionary(dict.Data())
	return d, nil
}

// spread moves the nv packed values at the front of vals to the rows
// whose defs are not 0, from the end, where no packed value is overwritten
// before it moves; null rows get zero.
func spread[T int32 | int64](vals []T, nv int, defs []int16) {
	j := nv - 1
	for i := len(vals) - 1; i >= 0; i-- {
		if defs[i] != 0 {
			vals[i] = vals[j]
			j--
		} else {
			vals[i] = 0
		}
	}
}

// fromDict makes a string array of the dictionary values that codes name
// (the non-null rows'), as data does of values.
func (s *stringBuffers) fromDict(typ arrow.DataType, dict *array.String, codes []int32, defs []int16, valid []byte, nulls int) arrow.ArrayData {
	doffs, dbytes := dict.ValueOffsets(), dict.ValueBytes()
	rows := len(codes)
	if defs != nil {
		rows = len(defs)
	}
	size := 0
	for _, c := range codes {
		size += int(doffs[c+1] - doffs[c])
	}
	offs, buf := s.begin(rows, size)
	if defs == nil {
		for i, c := range codes {
			buf = append(buf, dbytes[doffs[c]:doffs[c+1]]...)
			offs[i+1] = int32(len(buf))
		}
	} else {
		j := 0
		for i, d := range defs {
			if d != 0 {
				c := codes[j]
				buf = append(buf, dbytes[doffs[c]:doffs[c+1]]...)
				j++
			}
			offs[i+1] = int32(len(buf))
		}
	}
	return s.finish(typ, rows, offs, buf, valid, nulls)
}

// stringBuffers are the offsets and bytes of a string or binary array.
type stringBuffers struct {
	offs []int32
	buf  []byte
}

// begin returns the offsets of rows rows (the first set) and an empty
// buffer with room for size bytes, reusing s's.
func (s *stringBuffers) begin(rows, size int) ([]int32, []byte) {
	s.offs = grow(s.offs, rows+1)
	s.offs[0] = 0
	return s.offs[:rows+1], grow(s.buf, size)[:0]
}

// finish keeps buf for the next batch and makes the array of typ whose
// rows offs bound in buf; valid, when not nil, is its validity bitmap.
func (s *stringBuffers) finish(typ arrow.DataType, rows int, offs []int32, buf, valid []byte, nulls int) arrow.ArrayData {
	s.buf = buf
	var vb *memory.Buffer
	if valid != nil {
		vb = memory.NewBufferBytes(valid)
	}
	return array.NewData(typ, rows, []*memory.Buffer{vb, memory.NewBufferBytes(asBytes(offs)), memory.NewBufferBytes(buf)}, nil, nulls, 0)
}

// data makes an array of typ from vals, the non-null values; with defs,
// row i is null where defs[i] is 0 and valid is the validity bitmap.
func (s *stringBuffers) data(typ arrow.DataType, vals []parquet.ByteArray, defs []int16, valid []byte, nulls int) arrow.ArrayData {
	rows := len(vals)
	if defs != nil {
		rows = len(defs)
	}
	size := 0
	for _, v := range vals {
		size += len(v)
	}
	offs, buf := s.begin(rows, size)
	if defs == nil {
		for i, v := range vals {
			buf = append(buf, v...)
			offs[i+1] = int32(len(buf))
		}
	} else {
		j := 0
		for i, d := range defs {
			if d != 0 {
				buf = append(buf, vals[j]...)
				j++
			}
			offs[i+1] = int32(len(buf))
		}
	}
	return s.finish(typ, rows, offs, buf, valid, nulls)
}

// arrowInts decodes an INT64 column: seq (as uint64) or a timestamp.
type arrowInts struct {
	typ      arrow.DataType
	path     string // the leaf's, for errors
	cr       *file.Int64ColumnChunkReader
	nullable bool
	// paged says pages decodes the chunk rather than cr.
	paged bool
	pages pagecodec.Int64Chunk

	vals  []int64
	defs  []int16
	valid []byte
}

func (c *arrowInts) done() {
	c.cr = nil
	c.pages.Release()
}

func (c *arrowInts) next(n int) (arrow.ArrayData, error) {
	c.vals = grow(c.vals, n)
	vals := c.vals[:n]
	var defs []int16
	if c.nullable {
		c.defs = grow(c.defs, n)
		defs = c.defs[:n]
	}
	var nv int
	if c.paged {
		var err error
		if nv, err = c.pages.Read(vals, defs); err != nil {
			return nil, err
		}
	} else {
		total, k, err := c.cr.ReadBatch(int64(n), vals, defs, nil)
		if err != nil {
			return nil, err
		}
		if total != int64(n) {
			return nil, fmt.Errorf("%w: column %s ended after %d of %d rows", ErrCorrupt, c.cr.Descriptor().Path(), total, n)
		}
		nv = k
	}
	var vb *memory.Buffer
	nulls := 0
	if c.nullable {
		valid, k, err := validity(&c.valid, defs, nv)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.path, err)
		}
		vb, nulls = memory.NewBufferBytes(valid), k
		if nulls > 0 {
			// The values come packed (validity checked their number).
			spread(vals, nv, defs)
		} else {
			vb = nil // all valid
		}
	}
	return array.NewData(c.typ, n, []*memory.Buffer{vb, memory.NewBufferBytes(asBytes(vals))}, nil, nulls, 0), nil
}

// validity makes the validity bitmap of defs (1: a value, 0: null) in *buf
// and returns it with the null count, checking that nv values came; with
// no nulls it returns a nil bitmap.
func validity(buf *[]byte, defs []int16, nv int) ([]byte, int, error) {
	if nv == len(defs) { // every row has a value: no bitmap
		return nil, 0, nil
	}
	*buf = grow(*buf, int(bitutil.BytesForBits(int64(len(defs)))))
	valid := (*buf)[:bitutil.BytesForBits(int64(len(defs)))]
	clear(valid)
	set := 0
	for i, d := range defs {
		if d != 0 {
			valid[i>>3] |= 1 << (i & 7)
			set++
		}
	}
	if set != nv {
		return nil, 0, fmt.Errorf("%w: %d values for %d defined rows", ErrCorrupt, nv, set)
	}
	return valid, len(defs) - set, nil
}

// arrowMap decodes a map field: the attributes (V is parquet.ByteArray) or
// the metrics (float64).
type arrowMap[V parquet.ByteArray | float64] struct {
	typ   arrow.DataType
	m     mapColumn[V]
	offs  []int32
	keys  stringBuffers
	items stringBuffers
	spans []span
}

func (c *arrowMap[V]) done() { c.m.reset(nil, nil) }

func (c *arrowMap[V]) next(n int) (arrow.ArrayData, error) {
	var err error
	if c.spans, err = c.m.rows(n, c.spans); err != nil {
		return nil, err
	}
	lo, hi := 0, 0
	if n > 0 {
		lo, hi = int(c.spans[0].lo), int(c.spans[n-1].hi)
	}
	c.offs = grow(c.offs, n+1)
	offs := c.offs[:n+1]
	offs[0] = 0
	for i, sp := range c.spans {
		offs[i+1] = sp.hi - int32(lo)
	}
	mt := c.typ.(*arrow.MapType)
	keys := c.keys.data(mt.KeyType(), c.m.k[lo:hi], nil, nil, 0)
	defer keys.Release()
	var items arrow.ArrayData
	switch v := any(c.m.v[lo:hi]).(type) {
	case []parquet.ByteArray:
		items = c.items.data(mt.ItemType(), v, nil, nil, 0)
	case []float64:
		items = array.NewData(mt.ItemType(), len(v), []*memory.Buffer{nil, memory.NewBufferBytes(asBytes(v))}, nil, 0, 0)
	}
	defer items.Release()
	entries := array.NewData(mt.Elem(), hi-lo, []*memory.Buffer{nil}, []arrow.ArrayData{keys, items}, 0, 0)
	defer entries.Release()
	return array.NewData(c.typ, n, []*memory.Buffer{nil, memory.NewBufferBytes(asBytes(offs))}, []arrow.ArrayData{entries}, 0, 0), nil
}

// grow returns s with length n, reusing its memory when it has room.
func grow[T any](s []T, n int) []T { return slices.Grow(s[:0], n)[:n] }

// asBytes views a slice of fixed-size numbers as its bytes.
func asBytes[T int32 | int64 | float64](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(s[0])))
}
