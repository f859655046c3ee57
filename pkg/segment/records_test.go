package segment

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// TestRecordBuilder_AppendRecordMatchesAppend: a row built from a record
// body is the row Append builds from the decoded event, for every edge
// event and many generated ones, with the block's content type standing
// in when the body names none.
func TestRecordBuilder_AppendRecordMatchesAppend(t *testing.T) {
	t.Parallel()
	events := append(edgeEvents(), genEvents(5, 2000, 3)...)
	fromRecords := NewRecordBuilder(memory.DefaultAllocator)
	defer fromRecords.Release()
	fromEvents := NewRecordBuilder(memory.DefaultAllocator)
	defer fromEvents.Release()
	ingest := time.Date(2026, 11, 29, 12, 0, 0, 123, time.UTC)
	for i, e := range events {
		blockCT := event.ContentTypeJSON
		if i%7 == 3 {
			blockCT = "text/plain"
		}
		if i%2 == 0 && e.ContentType == blockCT {
			e.ContentType = "" // the block's, as the hot tier stores it
		}
		body := record.AppendBody(nil, &e, e.ID)
		if err := fromRecords.AppendRecord(e.Stream, e.Seq, ingest, blockCT, body); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		var d event.Event
		if err := record.DecodeBody(body, &d); err != nil {
			t.Fatal(err)
		}
		d.Stream, d.Seq, d.IngestTime = e.Stream, e.Seq, ingest
		if d.ContentType == "" {
			d.ContentType = blockCT
		}
		fromEvents.Append(&d)
	}
	a, b := fromRecords.NewRecord(), fromEvents.NewRecord()
	defer a.Release()
	defer b.Release()
	if a.NumRows() != int64(len(events)) || !array.RecordEqual(a, b) {
		for c := range a.NumCols() {
			if !array.Equal(a.Column(int(c)), b.Column(int(c))) {
				t.Errorf("column %s differs", a.ColumnName(int(c)))
			}
		}
		t.Fatalf("records differ (%d rows)", a.NumRows())
	}
	if err := fromRecords.AppendRecord("s", 1, ingest, "", []byte{0, 5, 'a'}); err == nil {
		t.Error("AppendRecord took a truncated body")
	}
}
