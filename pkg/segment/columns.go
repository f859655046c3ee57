package segment

import (
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// This file opens the pages of a column chunk, for arrow-go's column
// readers and for Silt's own page decoders (package pagecodec), with page
// headers bounded.

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
