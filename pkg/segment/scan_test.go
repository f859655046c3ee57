package segment

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/silt-io/silt/pkg/event"
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
					tm.IsValid(i) != !w.Time.IsZero() || (tm.IsValid(i) && int64(tm.Value(i)) != w.Time.UnixNano()) ||
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
