package segment

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/segment/internal/pagecodec"
)

// TestScanRows_MatchesTheRowsItNames seeks to random row ranges (within a
// row group, across several, with small pages so seeks skip pages) and
// checks every flat value against the events written there.
func TestScanRows_MatchesTheRowsItNames(t *testing.T) {
	t.Parallel()
	events := genEvents(11, 5000, 7)
	sorted := slices.Clone(events)
	slices.SortStableFunc(sorted, func(a, b event.Event) int {
		return Position{a.Stream, a.Seq}.Compare(Position{b.Stream, b.Seq})
	})
	_, info, r := writeSegment(t, events, WriterOptions{RowGroupRows: 700, PageBytes: 4 << 10})
	if len(info.RowGroups) < 5 {
		t.Fatalf("%d row groups, want several", len(info.RowGroups))
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	cols := []string{ColumnStream, ColumnSeq, ColumnType, ColumnTime, ColumnData}
	for range 40 {
		from := rnd.Int64N(info.Rows)
		to := min(info.Rows, from+1+rnd.Int64N(2000))
		row := from
		st, err := r.ScanRows(t.Context(), from, to, cols, 256, func(rec arrow.RecordBatch) error {
			stream := rec.Column(0).(*array.String)
			seq := rec.Column(1).(*array.Uint64)
			typ := rec.Column(2).(*array.String)
			tm := rec.Column(3).(*array.Timestamp)
			data := rec.Column(4).(*array.String)
			for i := range int(rec.NumRows()) {
				w := sorted[row]
				if stream.Value(i) != w.Stream || seq.Value(i) != w.Seq || typ.Value(i) != w.Type ||
					!tm.IsValid(i) || int64(tm.Value(i)) != eventTime(&w).UnixNano() ||
					(data.IsValid(i) && data.Value(i) != string(w.Data)) {
					t.Fatalf("rows %d..%d: row %d is %s/%d, want %s/%d", from, to, row, stream.Value(i), seq.Value(i), w.Stream, w.Seq)
				}
				row++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if row != to || st.Rows != to-from {
			t.Fatalf("rows %d..%d: scanned to %d (%d rows)", from, to, row, st.Rows)
		}
	}
	if _, err := r.ScanRows(t.Context(), 0, 10, []string{ColumnAttributes}, 256, func(arrow.RecordBatch) error { return nil }); err == nil {
		t.Error("ScanRows took a map column")
	}
}

// TestScan_MatchesPqarrow decodes every column of every row group, in
// batches that straddle pages, and checks the arrays equal pqarrow's
// decoding of the same file: nulls, empty maps, binary payloads included.
func TestScan_MatchesPqarrow(t *testing.T) {
	t.Parallel()
	t.Run("generated", func(t *testing.T) {
		t.Parallel()
		scanMatchesPqarrow(t, genEvents(5, 3000, 9))
	})
	// Times anywhere in the int64 range: deltas that wrap and need all
	// 64 bits, next to runs of equal times and nulls.
	t.Run("extreme-times", func(t *testing.T) {
		t.Parallel()
		events := genEvents(6, 3000, 9)
		rnd := rand.New(rand.NewPCG(8, 9))
		for i := range events {
			switch rnd.IntN(4) {
			case 0:
				events[i].Time = time.Unix(0, int64(rnd.Uint64()))
			case 1:
				events[i].Time = time.Unix(0, []int64{math.MinInt64 + 1, math.MaxInt64, -1, 1}[rnd.IntN(4)])
			case 2:
				events[i].Time = time.Time{}
			}
		}
		scanMatchesPqarrow(t, events)
	})
	t.Run("all-null-times", func(t *testing.T) {
		t.Parallel()
		ev := genEvents(11, 4000, 2)
		for i := range ev {
			ev[i].Time = time.Time{}
		}
		scanMatchesPqarrow(t, ev)
	})
	t.Run("no-maps", func(t *testing.T) {
		t.Parallel()
		ev := genEvents(12, 4000, 2)
		for i := range ev {
			ev[i].Attributes, ev[i].Metrics = nil, nil
		}
		scanMatchesPqarrow(t, ev)
	})
	// Types too many for one dictionary page: the writer falls back to
	// plain pages, which the dictionary decoder leaves to arrow-go.
	t.Run("dictionary-fallback", func(t *testing.T) {
		t.Parallel()
		ev := genEvents(13, 3000, 2)
		for i := range ev {
			ev[i].Type = fmt.Sprintf("%05d-%s", i, strings.Repeat("x", 2000))
			ev[i].Source = fmt.Sprintf("src-%d", i%3)
		}
		scanMatchesPqarrow(t, ev)
	})
}

// scanMatchesPqarrow is TestScan_MatchesPqarrow over one set of events.
func scanMatchesPqarrow(t *testing.T, events []event.Event) {
	_, info, r := writeSegment(t, events, WriterOptions{RowGroupRows: 700, PageBytes: 4 << 10})
	var cols []string
	for _, f := range Schema.Fields() {
		cols = append(cols, f.Name)
	}
	fr, err := pqarrow.NewFileReader(r.pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 20}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []ScanOptions{{BatchRows: 1}, {BatchRows: 333}, {BatchRows: 4096}, {BatchRows: 333, Dictionaries: cols}} {
		batch := opts.BatchRows
		got := make([][]arrow.Array, len(cols))
		dicts := 0
		st, err := r.Scan(t.Context(), []int{0, 1, 2, 3, 4}, cols, opts, func(_ int, rec arrow.RecordBatch) error {
			if rec.NumRows() > int64(batch) {
				t.Fatalf("batch of %d rows, want at most %d", rec.NumRows(), batch)
			}
			for i := range cols {
				if rec.Schema().Field(i).Name != cols[i] {
					t.Fatalf("field %d is %s, want %s", i, rec.Schema().Field(i).Name, cols[i])
				}
				col := rec.Column(i)
				if d, ok := col.(*array.Dictionary); ok {
					if opts.Dictionaries == nil {
						t.Fatalf("column %s is a dictionary array unasked", cols[i])
					}
					dicts++
					col = undict(t, d)
					defer col.Release()
				}
				// The record is valid only during the call: keep a copy.
				c, err := array.Concatenate([]arrow.Array{col}, memory.DefaultAllocator)
				if err != nil {
					t.Fatal(err)
				}
				got[i] = append(got[i], c)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var rows int64
		for _, g := range info.RowGroups[:5] {
			rows += g.Rows
		}
		if opts.Dictionaries != nil && dicts == 0 && !arrowDecoders { // pqarrow delivers none
			t.Fatal("no column came as a dictionary array")
		}
		if st.Rows != rows {
			t.Fatalf("batch %d: scanned %d rows, want %d", batch, st.Rows, rows)
		}
		leaves, err := leavesFor(cols, true)
		if err != nil {
			t.Fatal(err)
		}
		rr, err := fr.GetRecordReader(t.Context(), leaves, []int{0, 1, 2, 3, 4})
		if err != nil {
			t.Fatal(err)
		}
		want := make([][]arrow.Array, len(cols))
		for rr.Next() {
			rec := rr.RecordBatch()
			for i := range cols {
				rec.Column(i).Retain()
				want[i] = append(want[i], rec.Column(i))
			}
		}
		if err := rr.Err(); err != nil {
			t.Fatal(err)
		}
		rr.Release()
		for i, name := range cols {
			g, err := array.Concatenate(got[i], memory.DefaultAllocator)
			if err != nil {
				t.Fatal(err)
			}
			w, err := array.Concatenate(want[i], memory.DefaultAllocator)
			if err != nil {
				t.Fatal(err)
			}
			if g.NullN() != w.NullN() || !array.Equal(g, w) {
				t.Errorf("batch %d: column %s differs from pqarrow's (%d rows, %d nulls; want %d rows, %d nulls)", batch, name, g.Len(), g.NullN(), w.Len(), w.NullN())
			}
		}
	}
}

// undict makes the string array that dictionary array d encodes.
func undict(t *testing.T, d *array.Dictionary) arrow.Array {
	t.Helper()
	dict, ok := d.Dictionary().(*array.String)
	if !ok {
		t.Fatalf("dictionary of %s", d.Dictionary().DataType())
	}
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	for i := range d.Len() {
		if d.IsNull(i) {
			b.AppendNull()
			continue
		}
		b.Append(dict.Value(d.GetValueIndex(i)))
	}
	return b.NewArray()
}

// TestScan_OwnDecodersReadSiltSegments checks that Scan's own page
// decoders (package pagecodec), not arrow-go's readers, read the columns
// they are for in a segment the writer made: the INT64 columns, and the
// dictionary-encoded strings.
func TestScan_OwnDecodersReadSiltSegments(t *testing.T) {
	t.Parallel()
	_, _, r := writeSegment(t, genEvents(3, 2000, 5), WriterOptions{RowGroupRows: 700, PageBytes: 4 << 10})
	rgr := r.rowGroup(1)
	for _, leaf := range []int{leafSeq, leafTime, leafIngestTime} {
		if !pagecodec.CanReadInt64(rgr, leaf) {
			t.Errorf("pagecodec.Int64Chunk cannot read %s", leafShapes[leaf].path)
		}
	}
	for _, leaf := range []int{leafStream, leafType, leafSource, leafContentType} {
		if !pagecodec.CanReadDict(rgr, leaf) {
			t.Errorf("pagecodec.DictChunk cannot read %s", leafShapes[leaf].path)
		}
	}
	for _, leaf := range []int{leafID, leafData} {
		if pagecodec.CanReadDict(rgr, leaf) {
			t.Errorf("pagecodec.DictChunk claims %s, which has no dictionary", leafShapes[leaf].path)
		}
	}
}
