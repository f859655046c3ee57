package segment

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// fuzzSeed is a small segment: 300 events of 3 streams in 3 row groups of
// small pages, written by Writer.
func fuzzSeed(f *testing.F) []byte {
	f.Helper()
	path := filepath.Join(f.TempDir(), "seed.parquet")
	events := variedEvents(21, 300, 3)
	if _, err := writeFile(f.Context(), path, events, WriterOptions{RowGroupRows: 100, PageBytes: 1024}); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// damage applies edits to a copy of good: each 5 bytes of edits are a
// position (4 bytes, modulo the length) and a byte to XOR there. At most
// 64 edits count.
func damage(good, edits []byte) []byte {
	b := append([]byte(nil), good...)
	for i := 0; i+5 <= len(edits) && i < 64*5; i += 5 {
		at := binary.LittleEndian.Uint32(edits[i:])
		b[int(at%uint32(len(b)))] ^= edits[i+4]
	}
	return b
}

// maxOpAlloc bounds what one operation on a damaged segment of a few KiB
// may allocate (reading it whole takes about 3 MiB): a length or count read
// from damaged bytes must never size an allocation. ScanRows may take
// maxHeaderRetryAlloc more per column: its arrow-go record reader retries
// a page header it cannot parse with twice the bytes, up to 4 MiB, which
// allocates about 50 MiB on each damaged header (Silt's own readers bound
// headers; see maxPageHeaderBytes).
const maxOpAlloc, maxHeaderRetryAlloc = 16 << 20, 64 << 20

// scanAll runs every decoder of r over the whole file: Read and SeekTime
// per stream, Scan of every column of every row group (with and without
// dictionary arrays), ScanRows of the flat columns over all rows, and
// RowGroupStats. Every error is fine; an operation that allocates more than
// its allowance fails t.
func scanAll(t testing.TB, r *Reader) {
	run := func(op string, allowance uint64, f func() error) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := f()
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > allowance {
			t.Fatalf("%s of a %d-byte segment allocated %d bytes (error %v)", op, r.Info().Bytes, n, err)
		}
	}
	info := r.Info()
	var flat []string
	for _, f := range Schema.Fields() {
		if f.Name != ColumnAttributes && f.Name != ColumnMetrics {
			flat = append(flat, f.Name)
		}
	}
	perColumn := maxOpAlloc + maxHeaderRetryAlloc*uint64(len(flat))
	// In the arrowdecode build Read and Scan go through pqarrow too.
	ownAlloc := uint64(maxOpAlloc)
	if arrowDecoders {
		ownAlloc = maxOpAlloc + maxHeaderRetryAlloc*numLeaves
	}
	for _, s := range info.Streams {
		run("Read", ownAlloc, func() error {
			_, err := r.Read(t.Context(), s.Stream, s.FirstSeq, 1_000_000, 0)
			return err
		})
		run("SeekTime", maxOpAlloc, func() error {
			_, _, err := r.SeekTime(t.Context(), s.Stream, s.MaxIngestTime)
			return err
		})
	}
	rgs := make([]int, len(info.RowGroups))
	for i := range rgs {
		rgs[i] = i
		run("RowGroupStats", maxOpAlloc, func() error {
			_, err := r.RowGroupStats(i)
			return err
		})
	}
	var all []string
	for _, f := range Schema.Fields() {
		all = append(all, f.Name)
	}
	touch := func(rec arrow.RecordBatch) error {
		for _, c := range rec.Columns() {
			_ = c.String() // walk every value, as a consumer would
		}
		return nil
	}
	for _, dict := range [][]string{nil, {ColumnStream, ColumnType, ColumnSource, ColumnContentType}} {
		run("Scan", ownAlloc, func() error {
			_, err := r.Scan(t.Context(), rgs, all, ScanOptions{BatchRows: 64, Dictionaries: dict}, func(_ int, rec arrow.RecordBatch) error {
				return touch(rec)
			})
			return err
		})
	}
	run("ScanRows", perColumn, func() error {
		_, err := r.ScanRows(t.Context(), 0, info.Rows, flat, 64, touch)
		return err
	})
	if info.Rows > 2 {
		run("ScanRows", perColumn, func() error {
			_, err := r.ScanRows(t.Context(), info.Rows/3, info.Rows-1, flat, 7, touch)
			return err
		})
	}
}

// FuzzReader_Damaged damages a small valid segment at the positions the
// input names and reads all of it with every decoder: Open, Read, SeekTime,
// Scan, ScanRows, RowGroupStats. With trusted set, row-group CRCs are taken
// as checked, as if the damage had kept the CRC (or the writer had written
// wrong data), so the bytes reach the page decoders. Errors are fine;
// panics, hangs and unbounded allocations are not.
func FuzzReader_Damaged(f *testing.F) {
	good := fuzzSeed(f)
	edit := func(pos int, x byte) []byte { return append(binary.LittleEndian.AppendUint32(nil, uint32(pos)), x) }
	f.Add([]byte{}, false)
	f.Add(edit(len(good)/2, 0xff), false)
	f.Add(edit(len(good)/2, 0xff), true)
	f.Add(edit(len(good)/3, 0x01), true)
	f.Add(edit(len(good)-20, 0x01), true)
	f.Add(append(edit(100, 0x80), edit(700, 0x7f)...), true)
	f.Fuzz(func(t *testing.T, edits []byte, trusted bool) {
		b := damage(good, edits)
		p := filepath.Join(t.TempDir(), "f.parquet")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Open(p, withCursorCache(NewCursorCache(0)))
		if err != nil {
			return
		}
		defer r.Close()
		if trusted {
			for i := range r.verified {
				r.verified[i].Store(true)
			}
		}
		scanAll(t, r)
	})
}
