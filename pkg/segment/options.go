package segment

import (
	"errors"
	"fmt"
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
	// compression. Smaller pages make seeks cheaper, larger ones compress better.
	DefaultPageBytes = 128 << 10
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
	// (see [EventSize]) reach it (0: DefaultRowGroupBytes).
	RowGroupBytes int
	// PageBytes is the target uncompressed size of a data page (0: DefaultPageBytes).
	PageBytes int
	// CompressionLevel is the zstd level, 1 to 22 (0: DefaultCompressionLevel).
	CompressionLevel int
}

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
	return errors.Join(errs...)
}

// ReaderOption configures [Open].
type ReaderOption func(*readerConfig)

// readerConfig is what ReaderOptions set.
type readerConfig struct {
	project string
}

// WithProject sets the Project of the events a [Reader] returns, overriding
// the project stored in the segment.
func WithProject(project string) ReaderOption {
	return func(c *readerConfig) { c.project = project }
}
