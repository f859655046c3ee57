package pagecodec

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// The columns of the files chunkFile writes, in order: required and
// optional INT64, required and optional dictionary-encoded strings.
const (
	colInt = iota
	colOptInt
	colStr
	colOptStr
	numCols
)

// chunkSpec says how chunkFile draws its columns.
type chunkSpec struct {
	seed      uint64
	rows      int  // per row group; two row groups
	pageBytes int  // arrow-go's data page size
	batch     int  // arrow-go's write batch: it checks the page size once per batch
	delta     bool // DELTA_BINARY_PACKED rather than PLAIN for the INT64 columns
	shape     int  // how the INT64 values are drawn (see int64Value)
	distinct  int  // distinct strings
	nullEvery int  // about one null in nullEvery rows of the optional columns (0: none)
}

// specFrom makes a chunkSpec of fuzz input.
func specFrom(seed uint64, rows, pageBytes uint16, flags uint8) chunkSpec {
	return chunkSpec{
		seed: seed, rows: int(rows % 3000), pageBytes: 64 + int(pageBytes%8192),
		batch: 1 + int(flags>>4)*16, delta: flags&1 != 0, shape: int(flags>>1) % 4,
		distinct: 1 + int(seed%97), nullEvery: int(flags>>3) % 4 * 3,
	}
}

// int64Value draws a value of shape: increasing seqs, nanosecond times a
// few ms apart, small signed numbers, or any int64 (deltas that overflow).
func int64Value(rnd *rand.Rand, shape int, prev int64) int64 {
	switch shape {
	case 0:
		return prev + 1 + rnd.Int64N(3)/2
	case 1:
		return prev + rnd.Int64N(5_000_000)
	case 2:
		return rnd.Int64N(200) - 100
	}
	return int64(rnd.Uint64())
}

// chunkColumns are the values chunkFile writes, per row group and column:
// ints or strs, packed (nulls take no slot), and defs.
type chunkColumns struct {
	ints [2][numCols][]int64
	strs [2][numCols][]parquet.ByteArray
	defs [2][numCols][]int16
}

// chunkFile writes two row groups of spec's four columns with arrow-go's
// file writer: version 1 data pages, snappy (arrow-go's zstd makes an
// encoder per page, slow; the decoders see decompressed pages), page
// statistics.
func chunkFile(t testing.TB, spec chunkSpec) []byte {
	t.Helper()
	b, _, err := chunkFileColumns(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// chunkFileColumns is chunkFile that also returns what it wrote, and
// arrow-go's write errors (see errArrowDeltaWriter).
func chunkFileColumns(t testing.TB, spec chunkSpec) ([]byte, *chunkColumns, error) {
	t.Helper()
	str := func(name string, rep parquet.Repetition) schema.Node {
		n, err := schema.NewPrimitiveNodeLogical(name, rep, schema.StringLogicalType{}, parquet.Types.ByteArray, -1, -1)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	root, err := schema.NewGroupNode("schema", parquet.Repetitions.Required, schema.FieldList{
		schema.NewInt64Node("i", parquet.Repetitions.Required, -1),
		schema.NewInt64Node("oi", parquet.Repetitions.Optional, -1),
		str("s", parquet.Repetitions.Required),
		str("os", parquet.Repetitions.Optional),
	}, -1)
	if err != nil {
		t.Fatal(err)
	}
	enc := parquet.Encodings.Plain
	if spec.delta {
		enc = parquet.Encodings.DeltaBinaryPacked
	}
	props := parquet.NewWriterProperties(
		parquet.WithDictionaryDefault(false), parquet.WithDictionaryFor("s", true), parquet.WithDictionaryFor("os", true),
		parquet.WithEncodingFor("i", enc), parquet.WithEncodingFor("oi", enc),
		parquet.WithDataPageVersion(parquet.DataPageV1), parquet.WithDataPageSize(int64(spec.pageBytes)),
		parquet.WithBatchSize(int64(spec.batch)), parquet.WithCompression(compress.Codecs.Snappy), parquet.WithStats(true),
	)
	rnd := rand.New(rand.NewPCG(spec.seed, uint64(spec.shape)))
	pool := make([]string, spec.distinct)
	for i := range pool {
		pool[i] = fmt.Sprintf("%0*d", rnd.IntN(20), i)
	}
	var buf bytes.Buffer
	w := file.NewParquetWriter(&buf, root, file.WithWriterProps(props))
	var cols chunkColumns
	for rg := range 2 {
		rgw := w.AppendRowGroup()
		for c := range numCols {
			optional := c == colOptInt || c == colOptStr
			defs := make([]int16, spec.rows)
			prev := int64(0)
			for i := range defs {
				defs[i] = 1
				if optional && spec.nullEvery > 0 && rnd.IntN(spec.nullEvery) == 0 {
					defs[i] = 0
					continue
				}
				if c == colInt || c == colOptInt {
					prev = int64Value(rnd, spec.shape, prev)
					cols.ints[rg][c] = append(cols.ints[rg][c], prev)
				} else {
					cols.strs[rg][c] = append(cols.strs[rg][c], parquet.ByteArray(pool[rnd.IntN(len(pool))]))
				}
			}
			var ds []int16
			if optional {
				ds = defs
				cols.defs[rg][c] = defs
			}
			cw, err := rgw.NextColumn()
			if err != nil {
				t.Fatal(err)
			}
			switch cw := cw.(type) {
			case *file.Int64ColumnChunkWriter:
				_, err = cw.WriteBatch(cols.ints[rg][c], ds, nil)
			case *file.ByteArrayColumnChunkWriter:
				_, err = cw.WriteBatch(cols.strs[rg][c], ds, nil)
			}
			if err == nil {
				err = cw.Close()
			}
			if err != nil {
				return nil, nil, fmt.Errorf("row group %d column %d: write: %w", rg, c, err)
			}
		}
		if err := rgw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), &cols, nil
}

// openChunkFile opens a file chunkFile wrote.
func openChunkFile(t testing.TB, b []byte) *file.Reader {
	t.Helper()
	rd, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

// testPage is a page's decompressed bytes and its value count.
type testPage struct {
	data []byte
	nv   int32
}

// dataPages returns the pages of column col in row group rg of a file
// chunkFile wrote (a dictionary first, where there is one).
func dataPages(t testing.TB, b []byte, rg, col int) []testPage {
	t.Helper()
	pr, err := openChunkFile(t, b).RowGroup(rg).GetColumnPageReader(col)
	if err != nil {
		t.Fatal(err)
	}
	var out []testPage
	for pr.Next() {
		out = append(out, testPage{bytes.Clone(pr.Page().Data()), pr.Page().NumValues()})
	}
	if err := pr.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// pageReader is a file.PageReader over pages made in memory; pages calls
// only Next, Page and Err.
type pageReader struct {
	file.PageReader
	pages []file.Page
	cur   file.Page
}

func (r *pageReader) Next() bool {
	if len(r.pages) == 0 {
		return false
	}
	r.cur, r.pages = r.pages[0], r.pages[1:]
	return true
}

func (r *pageReader) Page() file.Page { return r.cur }

func (r *pageReader) Err() error { return nil }

// dataPage is a version 1 data page of nv values (levels included) of
// encoding enc holding data.
func dataPage(data []byte, nv int32, enc parquet.Encoding) file.Page {
	return file.NewDataPageV1(memory.NewBufferBytes(data), nv, enc, parquet.Encodings.RLE, parquet.Encodings.RLE, int32(len(data)))
}

// allocated runs f and returns the bytes it allocated.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
