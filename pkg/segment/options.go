package segment

import (
	"errors"
	"fmt"

	"github.com/silt-io/silt/pkg/vfs"
)

// Defaults of [WriterOptions].
const (
	// DefaultRowGroupRows is the row count at which a row group is flushed.
	DefaultRowGroupRows = 64 * 1024
	// DefaultRowGroupBytes flushes a row group early when its events carry
	// this much payload and envelope text, so memory stays bounded for large
	// events too.
	DefaultRowGroupBytes = 64 << 20
	// DefaultPageBytes is the target size of a Parquet data page before
	// compression. Smaller pages make seeks cheaper, larger ones compress
	// better: 1 MiB pages are 2.5% smaller than 128 KiB ones, and a seek
	// decompresses one of them per flat column (about 2 ms for the gzip
	// payload page).
	DefaultPageBytes = 1 << 20
	// DefaultCompressionLevel is the zstd level. The Go zstd encoder maps
	// levels to four speeds (1-2, 3-5, 6-9, 10-22); 6 costs about 1.5x the
	// time of 3 and saves about 15% of the bytes of analytics events.
	DefaultCompressionLevel = 6
)

// WriterOptions tune a segment [Writer]. The zero value means the defaults.
type WriterOptions struct {
	// Project is the project every event of the segment belongs to. It is
	// stored in the file's metadata and returned in [Info]. Events whose
	// Project is set must match it.
	Project string
	// RowGroupRows is the largest number of rows in one row group
	// (0: DefaultRowGroupRows).
	RowGroupRows int
	// RowGroupBytes flushes a row group once the buffered events' sizes
	// (see event.Event.Size) reach it (0: DefaultRowGroupBytes).
	RowGroupBytes int
	// PageBytes is the target uncompressed size of a data page (0: DefaultPageBytes).
	PageBytes int
	// CompressionLevel is the zstd level, 1 to 22 (0: DefaultCompressionLevel),
	// of the columns compressed with zstd. The id, time, ingest_time and
	// attribute-value columns use at least level 12.
	CompressionLevel int
	// DataCompression chooses the codec of the data column (JSON payloads).
	DataCompression DataCompression
	// FS is the filesystem the file is written through (nil: vfs.OS).
	FS vfs.FS
}

// DataCompression is the codec of a segment's data column.
type DataCompression int

const (
	// DataGzip, the default, compresses JSON payloads with gzip at level 9:
	// 12% smaller than zstd at its best level on small JSON objects, but
	// slower to write (about 20 MB/s of payload: writing a segment of
	// analytics events takes up to 1.4 times the CPU of DataZstd) and to
	// read (about 550 MB/s).
	DataGzip DataCompression = iota
	// DataZstd compresses them with zstd at CompressionLevel: faster to
	// write and to read, 2.5 bytes more per analytics event (6% more).
	DataZstd
)

// withDefaults fills zero fields with the defaults.
func (o WriterOptions) withDefaults() WriterOptions {
	if o.RowGroupRows == 0 {
		o.RowGroupRows = DefaultRowGroupRows
	}
	if o.RowGroupBytes == 0 {
		o.RowGroupBytes = DefaultRowGroupBytes
	}
	if o.PageBytes == 0 {
		o.PageBytes = DefaultPageBytes
	}
	if o.CompressionLevel == 0 {
		o.CompressionLevel = DefaultCompressionLevel
	}
	return o
}

// Validate reports options that cannot work. Zero fields are valid (defaults).
func (o WriterOptions) Validate() error {
	var errs []error
	if o.RowGroupRows < 0 {
		errs = append(errs, fmt.Errorf("RowGroupRows %d is negative", o.RowGroupRows))
	}
	if o.RowGroupBytes < 0 || o.RowGroupBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("RowGroupBytes %d is not in [0, 1 GiB]", o.RowGroupBytes))
	}
	if o.PageBytes < 0 {
		errs = append(errs, fmt.Errorf("PageBytes %d is negative", o.PageBytes))
	}
	if o.CompressionLevel < 0 || o.CompressionLevel > 22 {
		errs = append(errs, fmt.Errorf("CompressionLevel %d is not in [0, 22]", o.CompressionLevel))
	}
	if o.DataCompression != DataGzip && o.DataCompression != DataZstd {
		errs = append(errs, fmt.Errorf("DataCompression %d is unknown", o.DataCompression))
	}
	return errors.Join(errs...)
}

// ReaderOption configures [Open].
type ReaderOption func(*readerConfig)

// readerConfig is what ReaderOptions set.
type readerConfig struct {
	project string
	name    string
	cursors *CursorCache
	fs      vfs.FS
}

// WithFS makes [Open] read the file through fsys instead of vfs.OS.
func WithFS(fsys vfs.FS) ReaderOption {
	return func(c *readerConfig) { c.fs = fsys }
}

// WithName names the segment in a [Reader]'s errors (a segment ID or a
// path relative to the data directory) instead of the path it was opened
// with, so errors that reach clients hold no server paths.
func WithName(name string) ReaderOption {
	return func(c *readerConfig) { c.name = name }
}

// WithProject sets the Project of the events a [Reader] returns, overriding
// the project stored in the segment.
func WithProject(project string) ReaderOption {
	return func(c *readerConfig) { c.project = project }
}
