package segment

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
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
		if err := appendRecordRef(fromRecords, e.Stream, e.Seq, ingest, blockCT, body); err != nil {
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
	if err := appendRecordRef(fromRecords, "s", 1, ingest, "", []byte{0, 5, 'a'}); err == nil {
		t.Error("appendRecordRef took a truncated body")
	}
}

// TestColumnBuilder_MatchesRecordBuilder builds the same record bodies with
// both builders, in batches (so the ColumnBuilder reuses its buffers), for
// every column at once and for a few projections, and checks each column
// equals RecordBuilder's.
func TestColumnBuilder_MatchesRecordBuilder(t *testing.T) {
	t.Parallel()
	events := append(edgeEvents(), genEvents(6, 1500, 3)...)
	ingest := time.Date(2026, 11, 29, 12, 0, 0, 123, time.UTC)
	var all []string
	for _, f := range Schema.Fields() {
		all = append(all, f.Name)
	}
	for _, cols := range [][]string{all, {ColumnType}, {ColumnTime, ColumnMetrics}, {ColumnAttributes, ColumnData, ColumnStream}, {ColumnDataBinary, ColumnSeq, ColumnContentType}} {
		cb, err := newColumnBuilder(cols)
		if err != nil {
			t.Fatal(err)
		}
		for start := 0; start < len(events); start += 700 {
			batch := events[start:min(start+700, len(events))]
			rb := NewRecordBuilder(memory.DefaultAllocator)
			for i, e := range batch {
				blockCT := event.ContentTypeJSON
				if i%7 == 3 {
					blockCT = "text/plain"
				}
				if i%2 == 0 && e.ContentType == blockCT {
					e.ContentType = ""
				}
				body := record.AppendBody(nil, &e, e.ID)
				if err := appendRecordRef(rb, e.Stream, e.Seq, ingest, blockCT, body); err != nil {
					t.Fatal(err)
				}
				if err := cb.AppendRecord(e.Stream, e.Seq, ingest, blockCT, body); err != nil {
					t.Fatal(err)
				}
			}
			if err := cb.AppendRecord("s", 1, ingest, "", []byte{0, 5, 'a'}); err == nil {
				t.Fatal("AppendRecord took a truncated body")
			}
			if cb.Rows() != len(batch) {
				t.Fatalf("%d rows after a bad body, want %d", cb.Rows(), len(batch))
			}
			want := rb.NewRecord()
			got := cb.Build()
			if got.NumCols() != int64(len(cols)) || got.NumRows() != want.NumRows() {
				t.Fatalf("columns %v: %d columns of %d rows, want %d of %d", cols, got.NumCols(), got.NumRows(), len(cols), want.NumRows())
			}
			for i := range int(got.NumCols()) {
				name := got.ColumnName(i)
				w := want.Column(want.Schema().FieldIndices(name)[0])
				if !array.Equal(got.Column(i), w) || got.Column(i).NullN() != w.NullN() {
					t.Errorf("columns %v, rows %d..: column %s differs", cols, start, name)
				}
			}
			got.Release()
			want.Release()
			rb.Release()
		}
	}
}

// TestColumnBuilder_SelectKeys checks that the maps keep only the selected
// keys, with their values, and that Select clears the selection.
func TestColumnBuilder_SelectKeys(t *testing.T) {
	t.Parallel()
	events := genEvents(7, 500, 3)
	ingest := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	cb, err := newColumnBuilder([]string{ColumnAttributes, ColumnMetrics})
	if err != nil {
		t.Fatal(err)
	}
	cb.SelectKeys([]string{"plan", "absent"}, []string{})
	for _, e := range events {
		if err := cb.AppendRecord(e.Stream, e.Seq, ingest, event.ContentTypeJSON, record.AppendBody(nil, &e, e.ID)); err != nil {
			t.Fatal(err)
		}
	}
	rec := cb.Build()
	attrs, metrics := rec.Column(0).(*array.Map), rec.Column(1).(*array.Map)
	keys, vals := attrs.Keys().(*array.String), attrs.Items().(*array.String)
	for i, e := range events {
		lo, hi := attrs.ValueOffsets(i)
		plan, has := e.Attributes["plan"]
		if want := int64(0); has {
			want = 1
			if hi-lo != want || keys.Value(int(lo)) != "plan" || vals.Value(int(lo)) != plan {
				t.Fatalf("row %d: attributes %d entries, want plan=%q", i, hi-lo, plan)
			}
		} else if hi != lo {
			t.Fatalf("row %d: %d attributes, want none", i, hi-lo)
		}
		if mlo, mhi := metrics.ValueOffsets(i); mhi != mlo {
			t.Fatalf("row %d: %d metrics, want none", i, mhi-mlo)
		}
	}
	rec.Release()
	if err := cb.Select([]string{ColumnAttributes}); err != nil {
		t.Fatal(err)
	}
	e := events[0]
	if err := cb.AppendRecord(e.Stream, e.Seq, ingest, event.ContentTypeJSON, record.AppendBody(nil, &e, e.ID)); err != nil {
		t.Fatal(err)
	}
	rec = cb.Build()
	defer rec.Release()
	if lo, hi := rec.Column(0).(*array.Map).ValueOffsets(0); int(hi-lo) != len(e.Attributes) {
		t.Fatalf("after Select: %d attributes, want all %d", hi-lo, len(e.Attributes))
	}
}

// TestColumnBuilder_ActsLikeRecordBuilderOnDamagedBodies damages record
// bodies (flipped bits and bytes, truncation, inserted continuation bytes
// that make lengths longer) and checks that both builders accept and
// reject the same ones and build equal rows from those they accept.
func TestColumnBuilder_ActsLikeRecordBuilderOnDamagedBodies(t *testing.T) {
	t.Parallel()
	var all []string
	for _, f := range Schema.Fields() {
		all = append(all, f.Name)
	}
	events := append(edgeEvents(), genEvents(21, 300, 3)...)
	rnd := rand.New(rand.NewPCG(3, 4))
	ingest := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mismatch := 0
	for iter := 0; iter < 10000 && mismatch < 5; iter++ {
		e := events[rnd.IntN(len(events))]
		body := record.AppendBody(nil, &e, e.ID)
		// mutate
		switch rnd.IntN(6) {
		case 4:
			i := rnd.IntN(len(body))
			body = append(body[:i:i], append([]byte{byte(rnd.Uint32()) | 0x80}, body[i:]...)...)
		case 5:
			for range 1 + rnd.IntN(3) {
				body[rnd.IntN(len(body))] = byte(rnd.Uint32())
			}
		case 0:
			body[rnd.IntN(len(body))] = byte(rnd.Uint32())
		case 1:
			body = body[:rnd.IntN(len(body))]
		case 2:
			i := rnd.IntN(len(body))
			body[i] ^= 1 << rnd.IntN(8)
		case 3:
		}
		rb := NewRecordBuilder(memory.DefaultAllocator)
		cb, _ := newColumnBuilder(all)
		err1 := appendRecordRef(rb, "s", 1, ingest, event.ContentTypeJSON, body)
		err2 := cb.AppendRecord("s", 1, ingest, event.ContentTypeJSON, body)
		if (err1 == nil) != (err2 == nil) {
			t.Errorf("body %x: RecordBuilder err %v, ColumnBuilder err %v", body, err1, err2)
			mismatch++
			rb.Release()
			continue
		}
		if err1 == nil {
			want := rb.NewRecord()
			got := cb.Build()
			for i := range int(got.NumCols()) {
				name := got.ColumnName(i)
				w := want.Column(want.Schema().FieldIndices(name)[0])
				if !array.ApproxEqual(got.Column(i), w, array.WithNaNsEqual(true), array.WithAbsTolerance(0)) || got.Column(i).NullN() != w.NullN() {
					t.Errorf("body %x: column %s differs: got %v want %v", body, name, got.Column(i), w)
					mismatch++
				}
			}
			got.Release()
			want.Release()
		}
		rb.Release()
	}
}

// TestColumnBuilder_ZeroTimeIsNull checks a body whose time flag is set
// but whose time is the zero time (not one AppendBody writes): both
// builders give a null time.
func TestColumnBuilder_ZeroTimeIsNull(t *testing.T) {
	t.Parallel()
	body := []byte{record.FlagHasTime}
	for range 4 {
		body = record.AppendString(body, "x")
	}
	body = record.AppendTime(body, time.Time{}) // sec -62135596800, nsec 0
	body = append(body, 0, 0)                   // no attributes, no metrics
	body = record.AppendString(body, "")
	body = record.AppendString(body, "{}")
	ingest := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rb := NewRecordBuilder(memory.DefaultAllocator)
	defer rb.Release()
	if err := appendRecordRef(rb, "s", 1, ingest, event.ContentTypeJSON, body); err != nil {
		t.Fatal(err)
	}
	cb, err := newColumnBuilder([]string{ColumnTime})
	if err != nil {
		t.Fatal(err)
	}
	if err := cb.AppendRecord("s", 1, ingest, event.ContentTypeJSON, body); err != nil {
		t.Fatal(err)
	}
	want := rb.NewRecord()
	defer want.Release()
	got := cb.Build()
	defer got.Release()
	w := want.Column(want.Schema().FieldIndices(ColumnTime)[0])
	if !array.Equal(got.Column(0), w) {
		t.Fatalf("time column: ColumnBuilder %v (nulls %d), RecordBuilder %v (nulls %d)", got.Column(0), got.Column(0).NullN(), w, w.NullN())
	}
}

// TestColumnBuilder_RepeatedKeys checks bodies that repeat map keys (not
// made by AppendBody, but accepted by both builders), with rows of up to
// 41 entries, where an unstable sort would order equal keys differently.
func TestColumnBuilder_RepeatedKeys(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(5, 6))
	ingest := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for iter := range 300 {
		n := 2 + rnd.IntN(40)
		body := []byte{0}
		for range 4 {
			body = record.AppendString(body, "x")
		}
		body = binary.AppendUvarint(body, uint64(n))
		for i := range n {
			body = record.AppendString(body, fmt.Sprint("k", rnd.IntN(3)))
			body = record.AppendString(body, fmt.Sprint("v", i))
		}
		body = binary.AppendUvarint(body, uint64(n))
		for i := range n {
			body = record.AppendString(body, fmt.Sprint("m", rnd.IntN(3)))
			body = binary.LittleEndian.AppendUint64(body, math.Float64bits(float64(i)))
		}
		body = record.AppendString(body, "")
		body = record.AppendString(body, "{}")
		rb := NewRecordBuilder(memory.DefaultAllocator)
		if err := appendRecordRef(rb, "s", 1, ingest, event.ContentTypeJSON, body); err != nil {
			t.Fatal(err)
		}
		cb, _ := newColumnBuilder([]string{ColumnAttributes, ColumnMetrics})
		if err := cb.AppendRecord("s", 1, ingest, event.ContentTypeJSON, body); err != nil {
			t.Fatal(err)
		}
		want := rb.NewRecord()
		got := cb.Build()
		for i := range int(got.NumCols()) {
			name := got.ColumnName(i)
			w := want.Column(want.Schema().FieldIndices(name)[0])
			if !array.Equal(got.Column(i), w) {
				t.Fatalf("iter %d, %d entries: column %s differs:\n got %v\nwant %v", iter, n, name, got.Column(i), w)
			}
		}
		got.Release()
		want.Release()
		rb.Release()
	}
}

// TestColumnBuilder_TimeOutOfRangeIsIngestTime: a hot record whose time
// nanoseconds cannot hold (written before the API refused such times)
// has no time, as the rotator writes it: its ingest time, not a wrapped one (2300
// used to read as 1715).
func TestColumnBuilder_TimeOutOfRangeIsIngestTime(t *testing.T) {
	t.Parallel()
	ingest := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tm := range []time.Time{time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)} {
		body := []byte{record.FlagHasTime}
		for range 4 {
			body = record.AppendString(body, "x")
		}
		body = record.AppendTime(body, tm)
		body = append(body, 0, 0)
		body = record.AppendString(body, "")
		body = record.AppendString(body, "{}")
		cb, err := newColumnBuilder([]string{ColumnTime})
		if err != nil {
			t.Fatal(err)
		}
		if err := cb.AppendRecord("s", 1, ingest, event.ContentTypeJSON, body); err != nil {
			t.Fatal(err)
		}
		got := cb.Build()
		if c := got.Column(0).(*array.Timestamp); c.IsNull(0) || int64(c.Value(0)) != ingest.UnixNano() {
			t.Errorf("time %v: column holds %v, want the ingest time", tm, got.Column(0))
		}
		got.Release()
	}
}
