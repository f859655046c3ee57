package segment

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/silt-io/silt/pkg/durable"
	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/segment/internal/pagecodec"
	"github.com/silt-io/silt/pkg/vfs"
)

// Writer writes one segment file from events appended in (stream, seq)
// order. It buffers at most one row group (WriterOptions.RowGroupRows rows
// or RowGroupBytes bytes) in memory and writes it out when full, so a
// rotation of millions of events runs in bounded memory.
//
// The file is written under a temporary name next to its final path and
// renamed into place by Close after an fsync; until then nothing exists at
// the path. A Writer is not safe for concurrent use.
type Writer struct {
	path string
	opts WriterOptions
	fsys vfs.FS
	f    vfs.File
	buf  *bufio.Writer
	sum  *summer
	fw   *pqarrow.FileWriter
	rows *rowBuilder

	// info accumulates the Info of the rows written so far: Streams and
	// RowGroups grow as events are appended and row groups flushed.
	info Info
	// last is the position of the last appended event.
	last Position
	// pending describes the rows buffered in rows since the last flush.
	pending                   int64
	pendingBytes              int
	pendingFirst              Position
	pendingMinIngest, pendMax int64
	minIngest, maxIngest      int64
	minTime, maxTime          int64
	hasTime                   bool
	// err is sticky: after a failed write the Writer only aborts.
	err  error
	done bool
}

// NewWriter starts writing a segment to path, creating its parent
// directories. Call Append for each event, then Close to publish the file
// or Abort to drop it.
func NewWriter(path string, opts WriterOptions) (*Writer, error) {
	pagecodec.RegisterZstd() // before arrow-go's Parquet code looks up a codec
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("create segment %s: %w", path, err)
	}
	opts = opts.withDefaults()
	fsys := vfs.Or(opts.FS)
	f, err := durable.CreateTemp(fsys, path)
	if err != nil {
		return nil, fmt.Errorf("create segment %s: %w", path, err)
	}
	buf := bufio.NewWriterSize(f, 1<<20)
	sum := &summer{w: buf}
	fw, err := pqarrow.NewFileWriter(Schema, sum, writerProperties(opts), pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(memory.DefaultAllocator)))
	if err != nil {
		_ = f.Close()
		_ = fsys.Remove(f.Name())
		return nil, fmt.Errorf("create segment %s: %w", path, err)
	}
	return &Writer{
		path: path, opts: opts, fsys: fsys, f: f, buf: buf, sum: sum, fw: fw,
		rows: newRowBuilder(memory.DefaultAllocator),
		info: Info{Project: opts.Project, TimesFilled: true},
	}, nil
}

// Path is where Close publishes the segment.
func (w *Writer) Path() string { return w.path }

// Append adds e, which must come after the previous event in (stream, seq)
// order and have a non-zero IngestTime. The Writer copies what it needs:
// e may be reused after Append returns.
func (w *Writer) Append(e *event.Event) error {
	if w.done {
		return fmt.Errorf("append to segment %s: writer is closed", w.path)
	}
	if w.err != nil {
		return w.err
	}
	if err := w.check(e); err != nil {
		return fmt.Errorf("append to segment %s: %w", w.path, err)
	}
	pos := Position{e.Stream, e.Seq}
	ingest := e.IngestTime.UnixNano()
	row := w.info.Rows

	if n := len(w.info.Streams); n == 0 || w.info.Streams[n-1].Stream != e.Stream {
		w.info.Streams = append(w.info.Streams, StreamRange{
			Stream: e.Stream, FirstSeq: e.Seq, FirstRow: row,
			MinIngestTime: e.IngestTime.UTC(), MaxIngestTime: e.IngestTime.UTC(),
		})
	}
	s := &w.info.Streams[len(w.info.Streams)-1]
	s.LastSeq = e.Seq
	s.Count++
	s.DataBytes += uint64(len(e.Data))
	if e.IngestTime.Before(s.MinIngestTime) {
		s.MinIngestTime = e.IngestTime.UTC()
	}
	if e.IngestTime.After(s.MaxIngestTime) {
		s.MaxIngestTime = e.IngestTime.UTC()
	}

	if row == 0 {
		w.minIngest, w.maxIngest = ingest, ingest
	}
	w.minIngest, w.maxIngest = min(w.minIngest, ingest), max(w.maxIngest, ingest)
	if t := eventTime(e).UnixNano(); !w.hasTime {
		w.minTime, w.maxTime, w.hasTime = t, t, true
	} else {
		w.minTime, w.maxTime = min(w.minTime, t), max(w.maxTime, t)
	}
	if w.pending == 0 {
		w.pendingFirst = pos
		w.pendingMinIngest, w.pendMax = ingest, ingest
	}
	w.pendingMinIngest, w.pendMax = min(w.pendingMinIngest, ingest), max(w.pendMax, ingest)

	w.rows.append(e)
	w.last = pos
	w.info.Rows++
	w.pending++
	w.pendingBytes += e.Size()
	if w.pending >= int64(w.opts.RowGroupRows) || w.pendingBytes >= w.opts.RowGroupBytes {
		if err := w.flush(); err != nil {
			w.err = fmt.Errorf("append to segment %s: %w", w.path, err)
			return w.err
		}
	}
	return nil
}

// minNanos and maxNanos bound the times a segment can store: Unix
// nanoseconds in an int64 (years 1678 to 2262).
var (
	minNanos = time.Unix(0, math.MinInt64)
	maxNanos = time.Unix(0, math.MaxInt64)
)

// inRange reports whether t is representable as Unix nanoseconds.
func inRange(t time.Time) bool { return !t.Before(minNanos) && !t.After(maxNanos) }

// check validates e against the segment so far.
func (w *Writer) check(e *event.Event) error {
	switch {
	case e.Stream == "":
		return fmt.Errorf("%w: empty stream name", ErrInvalidEvent)
	case e.Seq == 0:
		return fmt.Errorf("%w: stream %q has seq 0", ErrInvalidEvent, e.Stream)
	case w.opts.Project != "" && e.Project != "" && e.Project != w.opts.Project:
		return fmt.Errorf("%w: event of project %q in a segment of project %q", ErrInvalidEvent, e.Project, w.opts.Project)
	case e.IngestTime.IsZero() || !inRange(e.IngestTime):
		return fmt.Errorf("%w: %s/%d has ingest time %v", ErrInvalidEvent, e.Stream, e.Seq, e.IngestTime)
	case !e.Time.IsZero() && !inRange(e.Time):
		return fmt.Errorf("%w: %s/%d has time %v out of range", ErrInvalidEvent, e.Stream, e.Seq, e.Time)
	}
	if w.info.Rows > 0 {
		if p := (Position{e.Stream, e.Seq}); p.Compare(w.last) <= 0 {
			return fmt.Errorf("%w: %s/%d after %s/%d", ErrUnsorted, p.Stream, p.Seq, w.last.Stream, w.last.Seq)
		}
	}
	return nil
}

// flush writes the buffered rows as one row group.
func (w *Writer) flush() error {
	if w.pending == 0 {
		return nil
	}
	rec := w.rows.newRecord()
	defer rec.Release()
	offset := w.sum.n
	w.sum.crc = 0
	if err := w.fw.Write(rec); err != nil {
		return fmt.Errorf("write row group %d: %w", len(w.info.RowGroups), err)
	}
	w.info.RowGroups = append(w.info.RowGroups, RowGroupInfo{
		Index: len(w.info.RowGroups), Rows: w.pending, FirstRow: w.info.Rows - w.pending,
		First: w.pendingFirst, Last: w.last,
		MinIngestTime: fromNanos(w.pendingMinIngest), MaxIngestTime: fromNanos(w.pendMax),
		Offset: offset, Bytes: w.sum.n - offset, CRC: w.sum.crc,
	})
	w.pending, w.pendingBytes = 0, 0
	return nil
}

// Close writes the last row group and the footer, makes the file durable
// and renames it to its path, and returns its Info. A segment needs at least
// one event. If Close fails, or ctx is done before the rename, nothing is
// left at the path and the temporary file is removed.
func (w *Writer) Close(ctx context.Context) (Info, error) {
	if w.done {
		return Info{}, fmt.Errorf("close segment %s: writer is closed", w.path)
	}
	info, err := w.close(ctx)
	if err != nil {
		_ = w.Abort()
		return Info{}, fmt.Errorf("close segment %s: %w", w.path, err)
	}
	return info, nil
}

// close is Close without the cleanup on error.
func (w *Writer) close(ctx context.Context) (Info, error) {
	if w.err != nil {
		return Info{}, w.err
	}
	if w.info.Rows == 0 {
		return Info{}, ErrEmpty
	}
	if err := w.flush(); err != nil {
		return Info{}, err
	}
	info := w.info
	info.MinIngestTime, info.MaxIngestTime = fromNanos(w.minIngest), fromNanos(w.maxIngest)
	if w.hasTime {
		info.MinTime, info.MaxTime = fromNanos(w.minTime), fromNanos(w.maxTime)
	}
	meta, err := encodeMeta(&info)
	if err != nil {
		return Info{}, err
	}
	if err := w.fw.AppendKeyValueMetadata(metaKey, meta); err != nil {
		return Info{}, fmt.Errorf("add metadata: %w", err)
	}
	if err := w.fw.Close(); err != nil {
		return Info{}, fmt.Errorf("write footer: %w", err)
	}
	if err := w.buf.Flush(); err != nil {
		return Info{}, fmt.Errorf("write: %w", err)
	}
	st, err := w.f.Stat()
	if err != nil {
		return Info{}, fmt.Errorf("stat: %w", err)
	}
	info.Bytes = st.Size()
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	w.rows.release()
	w.done = true
	if err := durable.Publish(w.fsys, w.f, w.path); err != nil {
		return Info{}, err
	}
	return info, nil
}

// Abort drops the segment: it closes and removes the temporary file and
// leaves nothing at the path. Abort after a successful Close does nothing.
func (w *Writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.rows.release()
	_ = w.fw.Close()
	cerr := w.f.Close()
	if err := w.fsys.Remove(w.f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("abort segment %s: %w", w.path, err)
	}
	if cerr != nil && !errors.Is(cerr, os.ErrClosed) {
		return fmt.Errorf("abort segment %s: %w", w.path, cerr)
	}
	return nil
}

// castagnoli is the CRC-32C table; CPUs compute it in hardware.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// summer counts and checksums the bytes written through it, so the Writer
// knows each row group's byte range and CRC.
type summer struct {
	w   io.Writer
	n   int64
	crc uint32
}

// Write implements io.Writer.
func (s *summer) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.crc = crc32.Update(s.crc, castagnoli, p[:n])
	s.n += int64(n)
	return n, err
}
