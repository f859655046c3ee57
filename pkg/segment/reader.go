package segment

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/segment/internal/pagecodec"
	"github.com/silt-io/silt/pkg/vfs"
)

// batchRows caps the rows Read decodes at once: small batches keep the
// scratch space of a cursor small, and cost little per batch.
const batchRows = 1024

// scanBatchRows caps the rows of the seq and ingest-time columns that
// SeekTime and the search of a stream with holes decode at once.
const scanBatchRows = 8192

// Reader reads events from one segment file. It is safe for concurrent use
// by many goroutines (each Read decodes with a cursor of its own over one
// shared file handle), but Close must not race with them: the owner
// closes the Reader once its last Read has returned.
//
// A Read that stops inside a row group leaves its cursor (open column
// readers, decompressed pages) in a [CursorCache], and a later Read that
// starts at the next row continues with it instead of seeking again: a
// catch-up reader paging through a stream decodes each page once.
type Reader struct {
	// path names the segment in errors: WithName's name, or file.
	path    string
	file    string
	f       vfs.File
	pf      *file.Reader
	info    Info
	project string

	// rowGroups[i] is row group i's reader, made on first use.
	rowGroups []struct {
		once sync.Once
		r    *file.RowGroupReader
	}

	stats readerCounters
	// verified[i] is set once row group i's CRC has been checked.
	verified []atomic.Bool

	// cursors keeps the cursors Reads leave.
	cursors *CursorCache
}

// readerCounters count what Reads did; see [ReaderStats].
type readerCounters struct {
	reads, rowGroups, rows, seeks atomic.Int64
}

// ReaderStats says what a Reader has read since Open, so callers and tests
// can see pruning at work.
type ReaderStats struct {
	// Reads counts calls of Read and SeekTime.
	Reads int64
	// RowGroupsRead counts row groups whose column chunks were decoded.
	RowGroupsRead int64
	// RowsDecoded counts rows decoded into events (or, for SeekTime and
	// streams with holes, into seqs and times).
	RowsDecoded int64
	// Seeks counts row groups opened at a row, rather than continued with
	// the cursor an earlier Read left at that row.
	Seeks int64
}

// Open opens the segment at path and reads its footer. Events read through
// it carry the project stored in the segment unless [WithProject] says otherwise.
func Open(path string, opts ...ReaderOption) (r *Reader, err error) {
	pagecodec.RegisterZstd() // before arrow-go's Parquet code looks up a codec
	cfg := readerConfig{cursors: defaultCursors}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.cursors == nil {
		cfg.cursors = NewCursorCache(0)
	}
	name := path
	if cfg.name != "" {
		name = cfg.name
	}
	f, err := vfs.Or(cfg.fs).Open(path)
	if err != nil {
		return nil, fmt.Errorf("open segment %s: %w", name, withoutPath(err))
	}
	defer func() {
		if err != nil {
			_ = f.Close()
		}
	}()
	defer recoverCorrupt(&err, "open segment", name)
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open segment %s: %w", name, withoutPath(err))
	}
	props := parquet.NewReaderProperties(memory.DefaultAllocator)
	// Column readers read only the pages they decode, through a small
	// buffer, rather than the whole column chunk each.
	props.BufferedStreamEnabled = true
	props.BufferSize = readBufferSize
	pf, err := file.NewParquetReader(pathlessFile{f}, file.WithReadProps(props))
	if err != nil {
		return nil, fmt.Errorf("open segment %s: %w: %w", name, ErrCorrupt, withoutPath(err))
	}
	info, err := infoFromFooter(pf, st.Size())
	if err != nil {
		return nil, fmt.Errorf("open segment %s: %w", name, err)
	}
	if err := checkSchema(pf); err != nil {
		return nil, fmt.Errorf("open segment %s: %w", name, err)
	}
	r = &Reader{
		path: name, file: path, f: f, pf: pf, info: info, project: info.Project, cursors: cfg.cursors,
		verified: make([]atomic.Bool, len(info.RowGroups)),
	}
	r.rowGroups = make([]struct {
		once sync.Once
		r    *file.RowGroupReader
	}, len(info.RowGroups))
	if cfg.project != "" {
		r.project = cfg.project
	}
	return r, nil
}

// readBufferSize is the read buffer of each column reader: arrow-go peeks
// 16 KiB for every page header, and reads page bodies past the buffer.
const readBufferSize = 16 << 10

// Close closes the file and drops the idle cursors. No Read may be in
// flight or start after it.
func (r *Reader) Close() error {
	r.cursors.drop(r)
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("close segment %s: %w", r.path, err)
	}
	return nil
}

// Path is the file the Reader reads.
func (r *Reader) Path() string { return r.file }

// Info describes the segment. Callers must not modify its slices.
func (r *Reader) Info() Info { return r.info }

// Stats returns what the Reader has read so far.
func (r *Reader) Stats() ReaderStats {
	return ReaderStats{
		Reads: r.stats.reads.Load(), RowGroupsRead: r.stats.rowGroups.Load(),
		RowsDecoded: r.stats.rows.Load(), Seeks: r.stats.seeks.Load(),
	}
}

// Read returns up to limit events of stream with Seq >= fromSeq, in seq
// order. When maxBytes > 0 it stops before the sum of len(Data) would pass
// maxBytes, but returns at least one event if one is available. A stream
// the segment does not hold, or a fromSeq past its last seq, gives no events.
//
// Read seeks: it computes the row of (stream, fromSeq) from the segment's
// metadata (or searches the seq column of the one row group that holds it
// when the stream has holes), then decodes only the pages of that row group
// from that row on, and further row groups only while the page needs them.
// When an earlier Read stopped at that row, it continues with that Read's
// cursor and seeks nothing.
func (r *Reader) Read(ctx context.Context, stream string, fromSeq uint64, limit, maxBytes int) (out []event.Event, err error) {
	defer recoverCorrupt(&err, "read segment", r.path)
	r.stats.reads.Add(1)
	if limit <= 0 {
		return nil, fmt.Errorf("read segment %s: limit %d is not positive", r.path, limit)
	}
	s, ok := r.info.Stream(stream)
	if !ok || fromSeq > s.LastSeq {
		return nil, nil
	}
	fromSeq = max(fromSeq, s.FirstSeq)
	row, err := r.rowOf(ctx, s, fromSeq)
	if err != nil {
		return nil, fmt.Errorf("read segment %s: %w", r.path, err)
	}
	end := min(s.FirstRow+s.Count, row+int64(limit))
	if arrowDecoders {
		return r.readArrow(ctx, s, fromSeq, row, end, maxBytes)
	}
	out = make([]event.Event, 0, min(end-row, maxReadPrealloc))
	size := 0
	for rg := r.info.rowGroupOfRow(row); row < end && rg < len(r.info.RowGroups); rg++ {
		g := r.info.RowGroups[rg]
		stop := min(end, g.FirstRow+g.Rows)
		streamStop := min(s.FirstRow+s.Count, g.FirstRow+g.Rows)
		c, err := r.cursorAt(ctx, rg, row-g.FirstRow)
		if err != nil {
			return nil, fmt.Errorf("read segment %s: %w", r.path, err)
		}
		r.stats.rowGroups.Add(1)
		full := false
		for row < stop && !full {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			n := int(min(stop-row, batchRows))
			if err := c.payload.ready(n); err != nil {
				return nil, fmt.Errorf("read segment %s: row group %d: %w", r.path, rg, err)
			}
			n = min(n, c.payload.cur.buffered())
			if maxBytes > 0 {
				for i := range n {
					l := c.payload.cur.size(i)
					if len(out)+i > 0 && size+l > maxBytes {
						n, full = i, true
						break
					}
					size += l
				}
			}
			// While a large batch decodes, read the payloads of the rows
			// after the window, for this Read or the next page's.
			ahead := 0
			if !full && n >= minParallelRows && c.payload.ahead.buffered() == 0 {
				after := row + int64(c.payload.cur.buffered())
				ahead = int(max(0, min(streamStop-after, batchRows)))
			}
			before := len(out)
			if out, err = c.decode(n, r.project, s.Stream, out, ahead); err != nil {
				return nil, fmt.Errorf("read segment %s: row group %d: %w", r.path, rg, err)
			}
			r.stats.rows.Add(int64(n))
			if i, want := seqsOutOfOrder(out, before, fromSeq, s.Gapless()); i >= 0 {
				return nil, fmt.Errorf("read segment %s: %w: row %d holds %s/%d, want %s/%d", r.path, ErrCorrupt, row+int64(i-before), stream, out[i].Seq, stream, want)
			}
			row += int64(n)
		}
		if row < s.FirstRow+s.Count {
			r.putCursor(c)
		}
		if full {
			break
		}
	}
	return out, nil
}

// seqsOutOfOrder checks out[from:], events Read just decoded, against the
// seqs a Read from fromSeq returns: strictly increasing, each the previous
// one plus one in a gapless stream. It returns the first event out of
// order and the seq it should hold, or -1.
func seqsOutOfOrder(out []event.Event, from int, fromSeq uint64, gapless bool) (int, uint64) {
	for i := from; i < len(out); i++ {
		want := fromSeq
		if i > 0 {
			want = out[i-1].Seq + 1
		}
		if out[i].Seq < want || (gapless && out[i].Seq != want) {
			return i, want
		}
	}
	return -1, 0
}

// maxReadPrealloc caps the events Read allocates room for up front.
const maxReadPrealloc = 1 << 16

// rowGroup returns row group rg's reader.
func (r *Reader) rowGroup(rg int) *file.RowGroupReader {
	g := &r.rowGroups[rg]
	g.once.Do(func() { g.r = r.pf.RowGroup(rg) })
	return g.r
}

// cursorAt returns a cursor of row group rg at row offset: one an earlier
// Read left there, or a new one. The caller owns it; putCursor gives it back.
func (r *Reader) cursorAt(ctx context.Context, rg int, offset int64) (*cursor, error) {
	if c := r.cursors.take(r, rg, offset); c != nil {
		return c, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := r.verify(rg); err != nil {
		return nil, err
	}
	r.stats.seeks.Add(1)
	c, err := newCursor(r.rowGroup(rg), rg, offset)
	if err != nil {
		return nil, fmt.Errorf("row group %d: %w", rg, err)
	}
	return c, nil
}

// putCursor keeps c for a later Read, unless it reached its row group's end.
func (r *Reader) putCursor(c *cursor) {
	if c.row < c.rows {
		r.cursors.put(r, c)
	}
}

// rowOf returns the file-wide row of the first event of s with Seq >= seq,
// which must be within [s.FirstSeq, s.LastSeq].
func (r *Reader) rowOf(ctx context.Context, s StreamRange, seq uint64) (int64, error) {
	if s.Gapless() {
		return s.FirstRow + int64(seq-s.FirstSeq), nil
	}
	rg := r.info.RowGroupFor(Position{s.Stream, seq})
	if rg < 0 {
		return 0, fmt.Errorf("%w: no row group holds %s/%d", ErrCorrupt, s.Stream, seq)
	}
	g := r.info.RowGroups[rg]
	lo, hi := max(s.FirstRow, g.FirstRow), min(s.FirstRow+s.Count, g.FirstRow+g.Rows)
	found := int64(-1)
	err := r.scanInts(ctx, rg, lo-g.FirstRow, hi-lo, leafSeq, -1, func(seqs, _ []int64, first int64) bool {
		if i := sort.Search(len(seqs), func(i int) bool { return uint64(seqs[i]) >= seq }); i < len(seqs) {
			found = lo + first + int64(i)
			return false
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	if found < 0 {
		return 0, fmt.Errorf("%w: row group %d does not hold %s/%d", ErrCorrupt, rg, s.Stream, seq)
	}
	return found, nil
}

// SeekTime returns the seq of the first event of stream whose IngestTime is
// at or after t, and false when the segment holds no such event.
func (r *Reader) SeekTime(ctx context.Context, stream string, t time.Time) (seq uint64, ok bool, err error) {
	defer recoverCorrupt(&err, "seek segment", r.path)
	r.stats.reads.Add(1)
	s, found := r.info.Stream(stream)
	if !found || t.After(s.MaxIngestTime) {
		return 0, false, nil
	}
	if !t.After(s.MinIngestTime) {
		return s.FirstSeq, true, nil
	}
	want := t.UnixNano()
	end := s.FirstRow + s.Count
	for rg := r.info.rowGroupOfRow(s.FirstRow); rg < len(r.info.RowGroups); rg++ {
		g := r.info.RowGroups[rg]
		if g.FirstRow >= end {
			break
		}
		if g.MaxIngestTime.Before(t) {
			continue
		}
		lo, hi := max(s.FirstRow, g.FirstRow), min(end, g.FirstRow+g.Rows)
		err := r.scanInts(ctx, rg, lo-g.FirstRow, hi-lo, leafSeq, leafIngestTime, func(seqs, times []int64, _ int64) bool {
			for i, v := range times {
				if v >= want {
					seq, ok = uint64(seqs[i]), true
					return false
				}
			}
			return true
		})
		if err != nil {
			return 0, false, fmt.Errorf("seek segment %s: %w", r.path, err)
		}
		if ok {
			return seq, true, nil
		}
	}
	return 0, false, nil
}

// scanInts decodes n rows of row group rg from its row offset of one or two
// required INT64 leaves (leafB < 0 for none) and passes each batch to fn
// with the batch's first row relative to offset, until fn returns false or
// n rows were passed. Both leaves seek through the page index.
func (r *Reader) scanInts(ctx context.Context, rg int, offset, n int64, leafA, leafB int, fn func(a, b []int64, first int64) bool) error {
	if n <= 0 {
		return nil
	}
	r.stats.rowGroups.Add(1)
	if err := r.verify(rg); err != nil {
		return err
	}
	rgr := r.rowGroup(rg)
	open := func(leaf int) (*file.Int64ColumnChunkReader, error) {
		if leaf < 0 {
			return nil, nil
		}
		cr, err := openColumn(rgr, leaf)
		if err != nil {
			return nil, fmt.Errorf("row group %d: open column %s: %w", rg, leafShapes[leaf].path, err)
		}
		ir, ok := cr.(*file.Int64ColumnChunkReader)
		if !ok || leafShapes[leaf].maxDef != 0 {
			return nil, fmt.Errorf("row group %d: column %s is not a required INT64 column", rg, leafShapes[leaf].path)
		}
		if offset > 0 {
			if err := ir.SeekToRow(offset); err != nil {
				return nil, fmt.Errorf("row group %d: seek column %s to row %d: %w", rg, leafShapes[leaf].path, offset, err)
			}
		}
		return ir, nil
	}
	a, err := open(leafA)
	if err != nil {
		return err
	}
	b, err := open(leafB)
	if err != nil {
		return err
	}
	bufA := make([]int64, min(n, scanBatchRows))
	var bufB []int64
	if b != nil {
		bufB = make([]int64, len(bufA))
	}
	for done := int64(0); done < n; {
		if err := ctx.Err(); err != nil {
			return err
		}
		want := min(n-done, scanBatchRows)
		for _, x := range []struct {
			cr  *file.Int64ColumnChunkReader
			buf []int64
		}{{a, bufA}, {b, bufB}} {
			if x.cr == nil {
				continue
			}
			got, _, err := x.cr.ReadBatch(want, x.buf[:want], nil, nil)
			if err != nil {
				return fmt.Errorf("row group %d: read rows %d to %d: %w", rg, offset+done, offset+done+want, err)
			}
			if got != want {
				return fmt.Errorf("%w: row group %d: column %s ended %d rows early", ErrCorrupt, rg, x.cr.Descriptor().Path(), want-got)
			}
		}
		r.stats.rows.Add(want)
		var vb []int64
		if b != nil {
			vb = bufB[:want]
		}
		if !fn(bufA[:want], vb, done) {
			return nil
		}
		done += want
	}
	return nil
}

// verify checks row group rg's bytes against its CRC, once per Reader, so
// that damage to the data gives an ErrCorrupt error before a byte of it is
// decoded, rather than wrong events or a decoder panic.
func (r *Reader) verify(rg int) error {
	if r.verified[rg].Load() {
		return nil
	}
	g := r.info.RowGroups[rg]
	buf := make([]byte, g.Bytes)
	if _, err := r.f.ReadAt(buf, g.Offset); err != nil {
		return fmt.Errorf("%w: read row group %d: %w", ErrCorrupt, rg, withoutPath(err))
	}
	if got := crc32.Checksum(buf, castagnoli); got != g.CRC {
		return fmt.Errorf("%w: row group %d has CRC %08x, want %08x", ErrCorrupt, rg, got, g.CRC)
	}
	r.verified[rg].Store(true)
	return nil
}

// checkSchema fails unless the file's schema is the segment schema: the
// Arrow schema stored with it, and the Parquet leaves the cursor decodes.
func checkSchema(pf *file.Reader) error {
	if err := checkLeaves(pf.MetaData().Schema); err != nil {
		return err
	}
	sc, err := pqarrow.FromParquet(pf.MetaData().Schema, nil, pf.MetaData().KeyValueMetadata())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if sc.NumFields() != numFields {
		return fmt.Errorf("%w: %d fields, want %d", ErrCorrupt, sc.NumFields(), numFields)
	}
	for i, f := range sc.Fields() {
		w := Schema.Field(i)
		if f.Name != w.Name || (f.Nullable != w.Nullable && !becameNullable(i)) || !arrow.TypeEqual(f.Type, w.Type) {
			return fmt.Errorf("%w: field %d is %s, want %s", ErrCorrupt, i, f, w)
		}
	}
	return nil
}

// withoutPath drops the file path from an *fs.PathError, whose message
// would otherwise carry it to clients; errors.Is still sees its cause.
func withoutPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// pathlessFile is a segment file as the Parquet reader sees it: its read
// errors, which decoding errors quote, name no path.
type pathlessFile struct{ vfs.File }

// ReadAt implements io.ReaderAt.
func (f pathlessFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.File.ReadAt(p, off)
	return n, withoutPath(err)
}

// recoverCorrupt turns a panic in the Parquet decoder, which garbage input
// can provoke, into an ErrCorrupt error.
func recoverCorrupt(err *error, verb, path string) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("%s %s: %w: %v", verb, path, ErrCorrupt, p)
	}
}

// infoFromFooter rebuilds a segment's Info from its Parquet footer: the
// key-value metadata gives streams and row-group positions, the column
// statistics give times, and the row counts are checked against both.
func infoFromFooter(pf *file.Reader, size int64) (Info, error) {
	md := pf.MetaData()
	v := md.KeyValueMetadata().FindValue(metaKey)
	if v == nil {
		return Info{}, fmt.Errorf("%w: no %s metadata", ErrCorrupt, metaKey)
	}
	var info Info
	if err := decodeMeta(*v, &info); err != nil {
		return Info{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	info.Bytes = size
	if md.NumRows != info.Rows || md.NumRowGroups() != len(info.RowGroups) {
		return Info{}, fmt.Errorf("%w: footer has %d rows in %d row groups, metadata %d in %d",
			ErrCorrupt, md.NumRows, md.NumRowGroups(), info.Rows, len(info.RowGroups))
	}
	sc := md.Schema
	ingestCol, timeCol := sc.ColumnIndexByName(colIngestTime), sc.ColumnIndexByName(colTime)
	if ingestCol < 0 || timeCol < 0 {
		return Info{}, fmt.Errorf("%w: no %s or %s column", ErrCorrupt, colIngestTime, colTime)
	}
	hasTime := false
	var minTime, maxTime int64
	for i := range info.RowGroups {
		g := &info.RowGroups[i]
		rgm := md.RowGroup(i)
		if rgm.NumRows() != g.Rows {
			return Info{}, fmt.Errorf("%w: row group %d has %d rows, metadata says %d", ErrCorrupt, i, rgm.NumRows(), g.Rows)
		}
		for c := range sc.NumColumns() {
			cc, err := rgm.ColumnChunk(c)
			if err != nil {
				return Info{}, fmt.Errorf("%w: row group %d column %d: %w", ErrCorrupt, i, c, err)
			}
			// The same start and length the column reader will use.
			start, length := cc.DataPageOffset(), cc.TotalCompressedSize()
			if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && start > cc.DictionaryPageOffset() {
				start = cc.DictionaryPageOffset()
			}
			if dict := cc.DictionaryPageOffset(); cc.HasDictionaryPage() && dict > 0 && (dict >= cc.DataPageOffset() || dict < g.Offset) {
				return Info{}, fmt.Errorf("%w: row group %d column %d has its dictionary after its data", ErrCorrupt, i, c)
			}
			if start < g.Offset || length <= 0 || start+length > g.Offset+g.Bytes || cc.DataPageOffset() >= start+length {
				return Info{}, fmt.Errorf("%w: row group %d column %d lies outside the row group's bytes", ErrCorrupt, i, c)
			}
			if codec := cc.Compression(); codec != compress.Codecs.Zstd && codec != compress.Codecs.Gzip {
				return Info{}, fmt.Errorf("%w: row group %d column %d is compressed with %s, not zstd or gzip", ErrCorrupt, i, c, codec)
			}
			if nv := cc.NumValues(); nv < g.Rows || (sc.Column(c).MaxRepetitionLevel() == 0 && nv != g.Rows) {
				return Info{}, fmt.Errorf("%w: row group %d column %d has %d values in %d rows", ErrCorrupt, i, c, nv, g.Rows)
			}
		}
		if g.Offset+g.Bytes > size {
			return Info{}, fmt.Errorf("%w: row group %d ends past the end of the file", ErrCorrupt, i)
		}
		lo, hi, ok, err := int64Stats(rgm, ingestCol)
		if err != nil || !ok {
			// err is nil when the statistics are absent, so not %w.
			return Info{}, fmt.Errorf("%w: row group %d has no %s statistics: %v", ErrCorrupt, i, colIngestTime, err) //nolint:errorlint // callers match ErrCorrupt; the cause is detail
		}
		g.MinIngestTime, g.MaxIngestTime = fromNanos(lo), fromNanos(hi)
		if i == 0 || g.MinIngestTime.Before(info.MinIngestTime) {
			info.MinIngestTime = g.MinIngestTime
		}
		if i == 0 || g.MaxIngestTime.After(info.MaxIngestTime) {
			info.MaxIngestTime = g.MaxIngestTime
		}
		lo, hi, ok, err = int64Stats(rgm, timeCol)
		if err != nil {
			return Info{}, fmt.Errorf("%w: row group %d: %w", ErrCorrupt, i, err)
		}
		if ok {
			if !hasTime {
				minTime, maxTime, hasTime = lo, hi, true
			}
			minTime, maxTime = min(minTime, lo), max(maxTime, hi)
		}
	}
	if hasTime {
		info.MinTime, info.MaxTime = fromNanos(minTime), fromNanos(maxTime)
	}
	return info, nil
}

// int64Stats returns the min and max statistics of an INT64 column chunk;
// ok is false when the chunk has none (all values null).
func int64Stats(rgm *metadata.RowGroupMetaData, col int) (lo, hi int64, ok bool, err error) {
	cc, err := rgm.ColumnChunk(col)
	if err != nil {
		return 0, 0, false, err
	}
	set, err := cc.StatsSet()
	if err != nil || !set {
		return 0, 0, false, err
	}
	st, err := cc.Statistics()
	if err != nil {
		return 0, 0, false, err
	}
	is, isInt := st.(*metadata.Int64Statistics)
	if !isInt {
		return 0, 0, false, fmt.Errorf("column %d has %T statistics", col, st)
	}
	if !is.HasMinMax() {
		return 0, 0, false, nil
	}
	return is.Min(), is.Max(), true, nil
}
