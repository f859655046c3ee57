package segment

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// Leaf columns of the segment schema in Parquet column order: the maps have
// a key and a value leaf each.
const (
	leafStream = iota
	leafSeq
	leafID
	leafType
	leafSource
	leafSubject
	leafTime
	leafIngestTime
	leafAttrKey
	leafAttrValue
	leafMetricKey
	leafMetricValue
	leafContentType
	leafData
	leafDataBinary
	numLeaves
)

// leafShapes is what Open requires of each leaf, so that the cursor's typed
// column readers and level handling fit the file.
var leafShapes = [numLeaves]struct {
	path           string
	typ            parquet.Type
	maxDef, maxRep int16
}{
	leafStream:      {colStream, parquet.Types.ByteArray, 0, 0},
	leafSeq:         {colSeq, parquet.Types.Int64, 0, 0},
	leafID:          {colID, parquet.Types.ByteArray, 0, 0},
	leafType:        {colType, parquet.Types.ByteArray, 0, 0},
	leafSource:      {colSource, parquet.Types.ByteArray, 1, 0},
	leafSubject:     {colSubject, parquet.Types.ByteArray, 1, 0},
	leafTime:        {colTime, parquet.Types.Int64, 1, 0},
	leafIngestTime:  {colIngestTime, parquet.Types.Int64, 0, 0},
	leafAttrKey:     {pathAttrKey, parquet.Types.ByteArray, 1, 1},
	leafAttrValue:   {pathAttrValue, parquet.Types.ByteArray, 1, 1},
	leafMetricKey:   {pathMetricKey, parquet.Types.ByteArray, 1, 1},
	leafMetricValue: {pathMetricVal, parquet.Types.Double, 1, 1},
	leafContentType: {colContentType, parquet.Types.ByteArray, 0, 0},
	leafData:        {colData, parquet.Types.ByteArray, 1, 0},
	leafDataBinary:  {colDataBinary, parquet.Types.ByteArray, 1, 0},
}

// checkLeaves fails unless the file's Parquet columns are the segment's leaves.
func checkLeaves(sc *schema.Schema) error {
	if sc.NumColumns() != numLeaves {
		return fmt.Errorf("%w: %d columns, want %d", ErrCorrupt, sc.NumColumns(), numLeaves)
	}
	for i, w := range leafShapes {
		c := sc.Column(i)
		if c.Path() != w.path || c.PhysicalType() != w.typ || !defLevelOK(i, c.MaxDefinitionLevel()) || c.MaxRepetitionLevel() != w.maxRep {
			return fmt.Errorf("%w: column %d is %s %s (def %d, rep %d), want %s %s (def %d, rep %d)", ErrCorrupt, i,
				c.Path(), c.PhysicalType(), c.MaxDefinitionLevel(), c.MaxRepetitionLevel(), w.path, w.typ, w.maxDef, w.maxRep)
		}
	}
	return nil
}

// cursor decodes the rows of one row group in order, from any row on, with
// arrow-go's low-level column readers (no Arrow arrays in between). Flat
// columns seek through the page index, decompressing only the page that
// holds the first row; map columns, whose version 1 pages have no index,
// are decoded from the row group's start and dropped up to it.
//
// A cursor decodes a batch of rows as three independent parts (the flat
// columns, the attributes, the metrics) and reads the payloads of the next
// batch ahead, on up to decodeWorkers goroutines. A CursorCache keeps the
// cursors Reads leave, so that a reader paging through a stream continues
// where its previous Read stopped instead of seeking again. A cursor belongs
// to one Read at a time.
type cursor struct {
	rg   int
	row  int64 // next row Read returns, relative to the row group
	rows int64 // rows in the row group

	flat    flatColumns
	attrs   mapColumn[parquet.ByteArray]
	metrics mapColumn[float64]
	payload payloadColumns
}

// flatColumns are the readers and scratch space of the flat columns but
// the payloads.
type flatColumns struct {
	stream, id, typ, source, subject, contentType *file.ByteArrayColumnChunkReader
	seq, time, ingestTime                         *file.Int64ColumnChunkReader

	bytes []parquet.ByteArray
	ints  []int64
	defs  []int16
	rowOf []int // decodeSource's and decodeSubject's rows of values
	strs  interner
	// Strings of the dictionary-encoded columns (see dictStrings).
	types, sources, contentTypes dictStrings
}

// newCursor opens row group rg at row offset. Every column reader reads
// only the pages it decodes. Seeking decompresses a page of every column
// and decodes the maps up to the offset; the columns seek in parallel.
func newCursor(rgr *file.RowGroupReader, rg int, offset int64) (*cursor, error) {
	c := &cursor{rg: rg, row: offset, rows: rgr.NumRows()}
	c.flat.strs, c.attrs.strs, c.metrics.strs = make(interner, 16), make(interner, 16), make(interner, 16)
	open := func(leaf int) (file.ColumnChunkReader, error) {
		cr, err := openColumn(rgr, leaf)
		if err != nil {
			return nil, fmt.Errorf("open column %s: %w", leafShapes[leaf].path, err)
		}
		if offset > 0 && leafShapes[leaf].maxRep == 0 {
			if err := seekFlat(rgr, leaf, cr, offset); err != nil {
				return nil, fmt.Errorf("seek column %s to row %d: %w", leafShapes[leaf].path, offset, err)
			}
		}
		return cr, nil
	}
	// checkLeaves made sure of the physical types, so every assertion holds.
	bytesCol := func(leaf int, dst **file.ByteArrayColumnChunkReader) error {
		cr, err := open(leaf)
		if err == nil {
			*dst = cr.(*file.ByteArrayColumnChunkReader)
		}
		return err
	}
	intCol := func(leaf int, dst **file.Int64ColumnChunkReader) error {
		cr, err := open(leaf)
		if err == nil {
			*dst = cr.(*file.Int64ColumnChunkReader)
		}
		return err
	}
	// Costliest first, so that the workers finish together.
	tasks := []func() error{
		func() error {
			if err := bytesCol(leafAttrKey, &c.attrs.keys); err != nil {
				return err
			}
			cr, err := open(leafAttrValue)
			if err != nil {
				return err
			}
			c.attrs.vals = cr.(*file.ByteArrayColumnChunkReader)
			if err := c.attrs.skip(offset); err != nil {
				return fmt.Errorf("skip %d rows of %s: %w", offset, colAttributes, err)
			}
			return nil
		},
		func() error {
			if err := bytesCol(leafData, &c.payload.data); err != nil {
				return err
			}
			return bytesCol(leafDataBinary, &c.payload.binary)
		},
		func() error { return bytesCol(leafID, &c.flat.id) },
		func() error {
			if err := bytesCol(leafMetricKey, &c.metrics.keys); err != nil {
				return err
			}
			cr, err := open(leafMetricValue)
			if err != nil {
				return err
			}
			c.metrics.vals = cr.(*file.Float64ColumnChunkReader)
			if err := c.metrics.skip(offset); err != nil {
				return fmt.Errorf("skip %d rows of %s: %w", offset, colMetrics, err)
			}
			return nil
		},
		func() error { return intCol(leafTime, &c.flat.time) },
		func() error { return intCol(leafIngestTime, &c.flat.ingestTime) },
		func() error { return intCol(leafSeq, &c.flat.seq) },
		func() error { return bytesCol(leafSubject, &c.flat.subject) },
		func() error {
			for _, x := range []struct {
				leaf int
				dst  **file.ByteArrayColumnChunkReader
			}{{leafStream, &c.flat.stream}, {leafType, &c.flat.typ}, {leafSource, &c.flat.source}, {leafContentType, &c.flat.contentType}} {
				if err := bytesCol(x.leaf, x.dst); err != nil {
					return err
				}
			}
			return nil
		},
	}
	workers := 1
	if offset > 0 {
		workers = seekWorkers
	}
	if err := runTasks(workers, tasks); err != nil {
		return nil, err
	}
	return c, nil
}

// seekFlat moves a flat column's reader to row offset of its row group:
// through the page index, or by decoding the rows before it where a page
// cannot be decoded alone. That is DELTA_BYTE_ARRAY as arrow-go v18.4.1
// writes it (segments written before the id column became PLAIN): each
// page's first value shares a prefix with the previous page's last.
func seekFlat(rgr *file.RowGroupReader, leaf int, cr file.ColumnChunkReader, offset int64) error {
	cc, err := rgr.MetaData().ColumnChunk(leaf)
	if err != nil {
		return err
	}
	ba, ok := cr.(*file.ByteArrayColumnChunkReader)
	if !ok || !slices.Contains(cc.Encodings(), parquet.Encodings.DeltaByteArray) {
		return cr.SeekToRow(offset)
	}
	vals := make([]parquet.ByteArray, min(offset, batchRows))
	defs := make([]int16, len(vals))
	for offset > 0 {
		k := min(offset, int64(len(vals)))
		got, _, err := ba.ReadBatch(k, vals[:k], defs[:k], nil)
		if err != nil {
			return err
		}
		if got != k {
			return fmt.Errorf("%w: column ended %d rows early", ErrCorrupt, offset-got)
		}
		offset -= k
	}
	return nil
}

// seekWorkers is how many goroutines open the columns of a cursor that
// seeks (fewer when GOMAXPROCS is lower).
const seekWorkers = 2

// runTasks runs tasks on up to n goroutines, the caller's included, and
// returns the first error. A panic in a task (the Parquet decoders panic on
// some damaged input) becomes an ErrCorrupt error.
func runTasks(n int, tasks []func() error) error {
	var (
		next atomic.Int64
		mu   sync.Mutex
		errs error
		wg   sync.WaitGroup
	)
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= len(tasks) {
				return
			}
			if err := runTask(tasks[i]); err != nil {
				mu.Lock()
				if errs == nil {
					errs = err
				}
				mu.Unlock()
				next.Store(int64(len(tasks)))
				return
			}
		}
	}
	for range min(n, runtime.GOMAXPROCS(0), len(tasks)) - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
	return errs
}

// runTask runs one task, turning a panic into an ErrCorrupt error.
func runTask(task func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, p)
		}
	}()
	return task()
}

// readBytes reads the next n rows of a flat string column into the scratch
// space and returns the non-null values; a nullable column fills defs.
func (c *flatColumns) readBytes(cr *file.ByteArrayColumnChunkReader, n int, defs []int16) ([]parquet.ByteArray, int, error) {
	if cap(c.bytes) < n {
		c.bytes = make([]parquet.ByteArray, n)
	}
	vals := c.bytes[:n]
	total, read, err := cr.ReadBatch(int64(n), vals, defs, nil)
	if err == nil && total != int64(n) {
		err = fmt.Errorf("%w: column %s ended after %d of %d rows", ErrCorrupt, cr.Descriptor().Path(), total, n)
	}
	return vals[:read], read, err
}

// readInts reads the next n rows of an INT64 column and returns the
// non-null values; a nullable column fills defs.
func (c *flatColumns) readInts(cr *file.Int64ColumnChunkReader, n int, defs []int16) ([]int64, error) {
	if cap(c.ints) < n {
		c.ints = make([]int64, n)
	}
	vals := c.ints[:n]
	total, read, err := cr.ReadBatch(int64(n), vals, defs, nil)
	if err == nil && total != int64(n) {
		err = fmt.Errorf("%w: column %s ended after %d of %d rows", ErrCorrupt, cr.Descriptor().Path(), total, n)
	}
	return vals[:read], err
}

// levels returns scratch space for n definition levels.
func (c *flatColumns) levels(n int) []int16 {
	if cap(c.defs) < n {
		c.defs = make([]int16, n)
	}
	return c.defs[:n]
}

// span is the range of one row's entries in a map column's buffered values.
type span struct{ lo, hi int32 }

// valueReader is the typed column reader of a map's value leaf.
type valueReader[V any] interface {
	ReadBatch(batchSize int64, values []V, defLvls, repLvls []int16) (int64, int, error)
}

// mapColumn reads a map field row by row from its key and value leaves,
// which have the same levels. A Parquet reader reads levels, not rows, so it
// buffers levels and values past the rows returned so far.
//
// Version 1 data pages may split a map's row between two pages, so neither
// leaf has a page index and both are read from the row group's start.
// arrow-go's own row skipping for repeated columns (SeekToRow, Skip) is not
// used: with version 1 pages it miscounts rows.
type mapColumn[V any] struct {
	keys *file.ByteArrayColumnChunkReader
	vals valueReader[V]
	// Levels and values buffered: [lvl, nlvl) and [val, nval) are not
	// returned yet. The value leaf's repetition levels are never decoded:
	// they equal the key leaf's.
	reps, defs, vdefs []int16
	k                 []parquet.ByteArray
	v                 []V
	lvl, nlvl         int
	val, nval         int
	eof               bool

	// spans is the scratch space of rows; strs and keyStrs make the key strings.
	spans   []span
	strs    interner
	keyStrs dictStrings
}

// reset makes m read from keys and vals, from their start, keeping its
// buffers.
func (m *mapColumn[V]) reset(keys *file.ByteArrayColumnChunkReader, vals valueReader[V]) {
	m.keys, m.vals = keys, vals
	m.lvl, m.nlvl, m.val, m.nval, m.eof = 0, 0, 0, 0, false
	clear(m.k[:cap(m.k)]) // drop the old pages' bytes
}

// mapChunk is how many levels a mapColumn reads at once.
const mapChunk = 4096

// rows returns the entries of the next n rows as spans into m.k and m.v,
// which stay valid until the next call.
func (m *mapColumn[V]) rows(n int, spans []span) ([]span, error) {
	m.compact()
	spans = spans[:0]
	for len(spans) < n {
		if m.lvl == m.nlvl {
			if err := m.fill(); err != nil {
				return nil, err
			}
			if m.lvl == m.nlvl {
				return nil, fmt.Errorf("%w: column %s ended %d rows early", ErrCorrupt, m.keys.Descriptor().Path(), n-len(spans))
			}
		}
		if m.reps[m.lvl] != 0 {
			return nil, fmt.Errorf("%w: column %s has a row starting with repetition level %d", ErrCorrupt, m.keys.Descriptor().Path(), m.reps[m.lvl])
		}
		s := span{lo: int32(m.val)}
		for first := true; ; first = false {
			if !first {
				if m.lvl == m.nlvl && !m.eof {
					if err := m.fill(); err != nil {
						return nil, err
					}
				}
				if m.lvl == m.nlvl || m.reps[m.lvl] == 0 {
					break
				}
			}
			if m.defs[m.lvl] == 1 {
				m.val++
			} else if !first {
				return nil, fmt.Errorf("%w: column %s has an empty entry inside a map", ErrCorrupt, m.keys.Descriptor().Path())
			}
			m.lvl++
		}
		if m.val > m.nval {
			return nil, fmt.Errorf("%w: column %s has fewer values than levels say", ErrCorrupt, m.keys.Descriptor().Path())
		}
		s.hi = int32(m.val)
		spans = append(spans, s)
	}
	return spans, nil
}

// skip drops the next n rows.
func (m *mapColumn[V]) skip(n int64) error {
	var spans []span
	for n > 0 {
		k := int(min(n, batchRows))
		var err error
		if spans, err = m.rows(k, spans); err != nil {
			return err
		}
		n -= int64(k)
	}
	return nil
}

// compact moves the buffered levels and values not returned yet to the
// front of the buffers.
func (m *mapColumn[V]) compact() {
	if m.lvl == 0 {
		return
	}
	n := copy(m.reps, m.reps[m.lvl:m.nlvl])
	copy(m.defs, m.defs[m.lvl:m.nlvl])
	m.lvl, m.nlvl = 0, n
	n = copy(m.k, m.k[m.val:m.nval])
	copy(m.v, m.v[m.val:m.nval])
	m.val, m.nval = 0, n
}

// fill reads up to mapChunk more levels of both leaves.
func (m *mapColumn[V]) fill() error {
	if m.eof {
		return nil
	}
	if need := m.nlvl + mapChunk; len(m.reps) < need {
		// All four buffers hold as many entries as there are levels; values
		// are never more than levels.
		need = max(need, 2*len(m.reps))
		m.reps = append(m.reps[:m.nlvl], make([]int16, need-m.nlvl)...)
		m.defs = append(m.defs[:m.nlvl], make([]int16, need-m.nlvl)...)
		m.k = append(m.k[:m.nval], make([]parquet.ByteArray, need-m.nval)...)
		m.v = append(m.v[:m.nval], make([]V, need-m.nval)...)
		if m.vdefs == nil {
			m.vdefs = make([]int16, mapChunk)
		}
	}
	levels, nk, err := m.keys.ReadBatch(mapChunk, m.k[m.nval:], m.defs[m.nlvl:m.nlvl+mapChunk], m.reps[m.nlvl:m.nlvl+mapChunk])
	if err != nil {
		return err
	}
	vlevels, nv, err := m.vals.ReadBatch(mapChunk, m.v[m.nval:], m.vdefs, nil)
	if err != nil {
		return err
	}
	if levels != vlevels || nk != nv {
		return fmt.Errorf("%w: map column %s has %d keys in %d levels but %d values in %d levels",
			ErrCorrupt, m.keys.Descriptor().Path(), nk, levels, nv, vlevels)
	}
	if levels == 0 {
		m.eof = true
	}
	m.nlvl += int(levels)
	m.nval += nk
	return nil
}
