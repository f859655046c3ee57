package segment

import (
	"context"
	"fmt"
	"hash/crc32"
	"os"
	"sort"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/silt-io/silt/pkg/event"
)

// maxBatchRows caps the rows decoded into Arrow arrays at once.
const maxBatchRows = 8192

// Reader reads events from one segment file. It is safe for concurrent use
// by many goroutines (every Read decodes with its own column readers over
// one shared file handle), but Close must not race with them: the owner
// closes the Reader once its last Read has returned.
type Reader struct {
	path string
	f    *os.File
	pf   *file.Reader
	// fr makes the column readers of each scan; it holds no per-read state.
	fr      *pqarrow.FileReader
	info    Info
	project string
	// leaf indexes of the Parquet columns Read and SeekTime project.
	leafAll             []int
	leafSeq, leafIngest int

	stats readerCounters
	// verified[i] is set once row group i's CRC has been checked.
	verified []atomic.Bool
}

// readerCounters count what Reads did; see [ReaderStats].
type readerCounters struct {
	reads, rowGroups, rows atomic.Int64
}

// ReaderStats says what a Reader has read since Open, so callers and tests
// can see pruning at work.
type ReaderStats struct {
	// Reads counts calls of Read and SeekTime.
	Reads int64
	// RowGroupsRead counts row groups whose column chunks were decoded.
	RowGroupsRead int64
	// RowsDecoded counts rows decoded into Arrow arrays.
	RowsDecoded int64
}

// Open opens the segment at path and reads its footer. Events read through
// it carry the project stored in the segment unless [WithProject] says otherwise.
func Open(path string, opts ...ReaderOption) (r *Reader, err error) {
	var cfg readerConfig
	for _, o := range opts {
		o(&cfg)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open segment %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
		}
	}()
	defer recoverCorrupt(&err, "open segment", path)
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open segment %s: %w", path, err)
	}
	props := parquet.NewReaderProperties(memory.DefaultAllocator)
	pf, err := file.NewParquetReader(f, file.WithReadProps(props))
	if err != nil {
		return nil, fmt.Errorf("open segment %s: %w: %w", path, ErrCorrupt, err)
	}
	info, err := infoFromFooter(pf, st.Size())
	if err != nil {
		return nil, fmt.Errorf("open segment %s: %w", path, err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("open segment %s: %w: %w", path, ErrCorrupt, err)
	}
	if err := checkSchema(fr); err != nil {
		return nil, fmt.Errorf("open segment %s: %w", path, err)
	}
	r = &Reader{path: path, f: f, pf: pf, fr: fr, info: info, project: info.Project, verified: make([]atomic.Bool, len(info.RowGroups))}
	if cfg.project != "" {
		r.project = cfg.project
	}
	sc := pf.MetaData().Schema
	for i := range sc.NumColumns() {
		r.leafAll = append(r.leafAll, i)
	}
	r.leafSeq, r.leafIngest = sc.ColumnIndexByName(colSeq), sc.ColumnIndexByName(colIngestTime)
	if r.leafSeq < 0 || r.leafIngest < 0 || sc.NumColumns() != 15 {
		return nil, fmt.Errorf("open segment %s: %w: not a segment schema", path, ErrCorrupt)
	}
	return r, nil
}

// ReadInfo returns the Info of the segment at path from its footer alone:
// the same value that Write returned when it wrote the file.
func ReadInfo(path string) (Info, error) {
	r, err := Open(path)
	if err != nil {
		return Info{}, err
	}
	defer r.Close()
	return r.Info(), nil
}

// Close closes the file. No Read may be in flight or start after it.
func (r *Reader) Close() error {
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("close segment %s: %w", r.path, err)
	}
	return nil
}

// Path is the file the Reader reads.
func (r *Reader) Path() string { return r.path }

// Info describes the segment. Callers must not modify its slices.
func (r *Reader) Info() Info { return r.info }

// Stats returns what the Reader has read so far.
func (r *Reader) Stats() ReaderStats {
	return ReaderStats{Reads: r.stats.reads.Load(), RowGroupsRead: r.stats.rowGroups.Load(), RowsDecoded: r.stats.rows.Load()}
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
	out = make([]event.Event, 0, min(end-row, maxBatchRows))
	dec := newDecoder(r.project)
	size := 0
	for rg := r.info.rowGroupOfRow(row); row < end && rg < len(r.info.RowGroups); rg++ {
		g := r.info.RowGroups[rg]
		n := min(end, g.FirstRow+g.Rows) - row
		full := false
		err := r.scan(ctx, rg, row-g.FirstRow, n, r.leafAll, func(rec arrow.RecordBatch, first int64) (bool, error) {
			c, err := columnsOf(rec)
			if err != nil {
				return false, err
			}
			hi := int(rec.NumRows())
			if maxBytes > 0 {
				for i := range hi {
					l := c.dataLen(i)
					if len(out)+i > 0 && size+l > maxBytes {
						hi, full = i, true
						break
					}
					size += l
				}
			}
			before := len(out)
			out = dec.decode(&c, 0, hi, out)
			for i := before; i < len(out); i++ {
				want := fromSeq
				if i > 0 {
					want = out[i-1].Seq + 1
				}
				if out[i].Stream != stream || out[i].Seq < want || (s.Gapless() && out[i].Seq != want) {
					return false, fmt.Errorf("%w: row %d holds %s/%d, want %s/%d", ErrCorrupt, row+first+int64(i-before), out[i].Stream, out[i].Seq, stream, want)
				}
			}
			return !full, nil
		})
		if err != nil {
			return nil, fmt.Errorf("read segment %s: %w", r.path, err)
		}
		if full {
			break
		}
		row += n
	}
	return out, nil
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
	err := r.scan(ctx, rg, lo-g.FirstRow, hi-lo, []int{r.leafSeq}, func(rec arrow.RecordBatch, first int64) (bool, error) {
		seqs, ok := rec.Column(0).(*array.Uint64)
		if !ok {
			return false, fmt.Errorf("%w: seq column has type %v", ErrCorrupt, rec.Column(0).DataType())
		}
		vals := seqs.Uint64Values()
		if i := sort.Search(len(vals), func(i int) bool { return vals[i] >= seq }); i < len(vals) {
			found = lo + first + int64(i)
			return false, nil
		}
		return true, nil
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
		err := r.scan(ctx, rg, lo-g.FirstRow, hi-lo, []int{r.leafSeq, r.leafIngest}, func(rec arrow.RecordBatch, _ int64) (bool, error) {
			seqs, ok1 := rec.Column(0).(*array.Uint64)
			times, ok2 := rec.Column(1).(*array.Timestamp)
			if !ok1 || !ok2 {
				return false, fmt.Errorf("%w: seq or ingest_time column has the wrong type", ErrCorrupt)
			}
			for i, v := range times.TimestampValues() {
				if int64(v) >= want {
					seq, ok = seqs.Value(i), true
					return false, nil
				}
			}
			return true, nil
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

// scan decodes n rows of row group rg from its row offset, projecting the
// given leaf columns, and passes each batch to fn with the batch's first
// row relative to offset, until fn returns false or n rows were passed. The
// batches are released when fn returns.
//
// Flat columns seek to the offset through the page index, decoding only the
// pages from the one holding the offset on. Map columns cannot seek (arrow-go
// v18.4.1's SeekToRow yields no rows for repeated fields), so they decode
// and drop the rows before the offset; they are small next to the payload.
func (r *Reader) scan(ctx context.Context, rg int, offset, n int64, leaves []int, fn func(rec arrow.RecordBatch, first int64) (bool, error)) error {
	if n <= 0 {
		return nil
	}
	r.stats.rowGroups.Add(1)
	if err := r.verify(rg); err != nil {
		return err
	}
	readers, sc, err := r.fieldReaders(ctx, leaves, rg)
	defer func() {
		for _, cr := range readers {
			cr.Release()
		}
	}()
	if err != nil {
		return fmt.Errorf("read row group %d: %w", rg, err)
	}
	if offset > 0 {
		for i, cr := range readers {
			if sc.Field(i).Type.ID() != arrow.MAP {
				if err := cr.SeekToRow(offset); err != nil {
					return fmt.Errorf("seek row group %d to row %d: %w", rg, offset, err)
				}
				continue
			}
			if _, err := nextArray(cr, offset); err != nil {
				return fmt.Errorf("skip to row %d of row group %d: %w", offset, rg, err)
			}
		}
	}
	cols := make([]arrow.Array, len(readers))
	for done := int64(0); done < n; {
		if err := ctx.Err(); err != nil {
			return err
		}
		want := min(n-done, maxBatchRows)
		for i, cr := range readers {
			a, err := nextArray(cr, want)
			if err != nil {
				releaseAll(cols[:i])
				return fmt.Errorf("read rows %d to %d of row group %d: %w", offset+done, offset+done+want, rg, err)
			}
			cols[i] = a
		}
		rec := array.NewRecordBatch(sc, cols, want)
		releaseAll(cols)
		r.stats.rows.Add(want)
		more, err := fn(rec, done)
		rec.Release()
		if err != nil || !more {
			return err
		}
		done += want
	}
	return nil
}

// fieldReaders makes the column readers of the fields holding leaves for
// one row group. Unlike pqarrow's GetFieldReaders it runs in the calling
// goroutine, so recoverCorrupt sees a decoder panic.
func (r *Reader) fieldReaders(ctx context.Context, leaves []int, rg int) ([]*pqarrow.ColumnReader, *arrow.Schema, error) {
	fields, err := r.fr.Manifest.GetFieldIndices(leaves)
	if err != nil {
		return nil, nil, err
	}
	include := make(map[int]bool, len(leaves))
	for _, l := range leaves {
		include[l] = true
	}
	readers := make([]*pqarrow.ColumnReader, 0, len(fields))
	out := make([]arrow.Field, 0, len(fields))
	for _, f := range fields {
		cr, err := r.fr.GetFieldReader(ctx, f, include, []int{rg})
		if err != nil {
			return readers, nil, err
		}
		readers = append(readers, cr)
		out = append(out, *cr.Field())
	}
	return readers, arrow.NewSchema(out, nil), nil
}

// nextArray reads the next n rows of a column as one array; the caller
// releases it. Fewer rows than asked means the row group is shorter than
// the metadata says.
func nextArray(cr *pqarrow.ColumnReader, n int64) (arrow.Array, error) {
	ch, err := cr.NextBatch(n)
	if err != nil {
		return nil, err
	}
	defer ch.Release()
	if int64(ch.Len()) != n {
		return nil, fmt.Errorf("%w: column %s has %d rows where %d were expected", ErrCorrupt, cr.Field().Name, ch.Len(), n)
	}
	switch chunks := ch.Chunks(); len(chunks) {
	case 1:
		chunks[0].Retain()
		return chunks[0], nil
	default:
		return array.Concatenate(chunks, memory.DefaultAllocator)
	}
}

// releaseAll releases arrays and clears the slice.
func releaseAll(as []arrow.Array) {
	for i, a := range as {
		if a != nil {
			a.Release()
			as[i] = nil
		}
	}
}

// verify checks row group rg's bytes against its CRC, once per Reader.
// The Parquet decoder panics on some corrupt input in goroutines of its
// own, where no recover can reach; checking first turns any damage to the
// data into an ErrCorrupt error before a byte of it is decoded.
func (r *Reader) verify(rg int) error {
	if r.verified[rg].Load() {
		return nil
	}
	g := r.info.RowGroups[rg]
	buf := make([]byte, g.Bytes)
	if _, err := r.f.ReadAt(buf, g.Offset); err != nil {
		return fmt.Errorf("%w: read row group %d: %w", ErrCorrupt, rg, err)
	}
	if got := crc32.Checksum(buf, castagnoli); got != g.CRC {
		return fmt.Errorf("%w: row group %d has CRC %08x, want %08x", ErrCorrupt, rg, got, g.CRC)
	}
	r.verified[rg].Store(true)
	return nil
}

// checkSchema fails unless the file's Arrow schema is the segment schema.
func checkSchema(fr *pqarrow.FileReader) error {
	sc, err := fr.Schema()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if sc.NumFields() != numFields {
		return fmt.Errorf("%w: %d fields, want %d", ErrCorrupt, sc.NumFields(), numFields)
	}
	for i, f := range sc.Fields() {
		w := Schema.Field(i)
		if f.Name != w.Name || f.Nullable != w.Nullable || !arrow.TypeEqual(f.Type, w.Type) {
			return fmt.Errorf("%w: field %d is %s, want %s", ErrCorrupt, i, f, w)
		}
	}
	return nil
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
			if cc.Compression() != compress.Codecs.Zstd {
				return Info{}, fmt.Errorf("%w: row group %d column %d is not zstd-compressed", ErrCorrupt, i, c)
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
			return Info{}, fmt.Errorf("%w: row group %d has no %s statistics: %v", ErrCorrupt, i, colIngestTime, err)
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
