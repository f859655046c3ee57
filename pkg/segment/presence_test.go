package segment

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// requiredSourceSegment is a segment written before source and subject
// became nullable, before times were defaulted and before payloads were
// optional: its source and subject columns are required, and its time
// column has nulls (testdata/required-source.parquet, two row groups).
const requiredSourceSegment = "testdata/required-source.parquet"

// requiredSourceEvents are the events of requiredSourceSegment as readers
// return them now: every source and subject present (the empty ones
// marked so), the empty binary payload present, and no event without a
// time.
func requiredSourceEvents() []event.Event {
	ingest := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	return []event.Event{
		{Project: "p", Stream: "a", Seq: 1, ID: "id-a1", Type: "t.one", Time: ingest, IngestTime: ingest,
			ContentType: event.ContentTypeJSON, Data: []byte(`{"n":1}`), Attributes: map[string]string{"k": "v"},
			Metrics: map[string]float64{"m": 1}, Present: event.PartSource | event.PartSubject},
		{Project: "p", Stream: "a", Seq: 2, ID: "id-a2", Type: "t.two", Source: "src", Subject: "sub", Time: at,
			IngestTime: ingest.Add(time.Second), ContentType: "application/octet-stream", Present: event.PartPayload},
		{Project: "p", Stream: "a", Seq: 3, ID: "id-a3", Type: "t.one", Subject: "s", Time: ingest.Add(2 * time.Second),
			IngestTime: ingest.Add(2 * time.Second), ContentType: "text/plain", Data: []byte("hello"), Present: event.PartSource},
		{Project: "p", Stream: "b", Seq: 1, ID: "id-b1", Type: "t.two", Source: "src", Time: at.Add(time.Hour),
			IngestTime: ingest.Add(3 * time.Second), ContentType: event.ContentTypeJSON, Data: []byte(`[1,2]`), Present: event.PartSubject},
	}
}

// TestReader_RequiredSourceSegment: a segment of the older schema reads
// as before through Read (the hand-written decoders), Scan (Silt's page
// decoders and arrow-go's) and ScanRows (pqarrow), with the time rule of
// now: no null source or subject, and null times read as ingest times.
func TestReader_RequiredSourceSegment(t *testing.T) {
	t.Parallel()
	r, err := Open(requiredSourceSegment)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	all := requiredSourceEvents()
	var got []event.Event
	for _, s := range []string{"a", "b"} {
		evs, err := r.Read(t.Context(), s, 1, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, evs...)
	}
	checkEvents(t, "Read", got, all)
	if r.Info().TimesFilled {
		t.Errorf("an old segment says its times are filled")
	}

	cols := []string{ColumnSource, ColumnSubject, ColumnTime, ColumnContentType, ColumnData, ColumnDataBinary}
	// check checks a batch, valid only during the callback, from row *i on.
	check := func(what string, rec arrow.RecordBatch, i *int) {
		t.Helper()
		tm := rec.Column(2).(*array.Timestamp)
		data, bin := rec.Column(4), rec.Column(5)
		for j := range int(rec.NumRows()) {
			w := all[*i]
			if src, ok := rec.Column(0).(*array.String); ok && (src.IsNull(j) || src.Value(j) != w.Source) {
				t.Errorf("%s row %d: source %v, want %q", what, *i, src, w.Source)
			}
			if rec.Column(0).IsNull(j) {
				t.Errorf("%s row %d: source null", what, *i)
			}
			if sub := rec.Column(1).(*array.String); sub.IsNull(j) || sub.Value(j) != w.Subject {
				t.Errorf("%s row %d: subject %v, want %q", what, *i, sub, w.Subject)
			}
			if tm.IsNull(j) || int64(tm.Value(j)) != w.Time.UnixNano() {
				t.Errorf("%s row %d: time %v, want %v", what, *i, tm, w.Time)
			}
			if data.IsNull(j) && bin.IsNull(j) {
				t.Errorf("%s row %d: no payload, want one", what, *i)
			}
			*i++
		}
	}
	for _, dicts := range [][]string{nil, {ColumnSource}} {
		i := 0
		_, err = r.Scan(t.Context(), []int{0, 1}, cols, ScanOptions{BatchRows: 2, Dictionaries: dicts}, func(_ int, rec arrow.RecordBatch) error {
			check("Scan", rec, &i)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if i != len(all) {
			t.Errorf("Scan: %d rows, want %d", i, len(all))
		}
	}
	i := 0
	if _, err := r.ScanRows(t.Context(), 0, 4, cols, 3, func(rec arrow.RecordBatch) error {
		check("ScanRows", rec, &i)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if i != len(all) {
		t.Errorf("ScanRows: %d rows, want %d", i, len(all))
	}
	// Row group 0 holds a/1 and a/2: a/1 has no time, so its bounds take
	// in the row group's ingest times.
	st, err := r.RowGroupStats(0)
	if err != nil {
		t.Fatal(err)
	}
	if !st.HasTime || !st.MinTime.Equal(all[1].Time) || !st.MaxTime.Equal(all[1].IngestTime) {
		t.Errorf("row group 0 times %v..%v (%v), want %v..%v", st.MinTime, st.MaxTime, st.HasTime, all[1].Time, all[1].IngestTime)
	}
}

// presenceEvents are events with source, subject and payload absent,
// present and empty, and present, some without a time.
func presenceEvents() []event.Event {
	ingest := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	return []event.Event{
		{Stream: "s", Seq: 1, ID: "1", Type: "point", IngestTime: ingest, Metrics: map[string]float64{"ms": 2}},
		{Stream: "s", Seq: 2, ID: "2", Type: "t", IngestTime: ingest, ContentType: "application/octet-stream",
			Present: event.PartSource | event.PartSubject | event.PartPayload},
		{Stream: "s", Seq: 3, ID: "3", Type: "t", Source: "web", IngestTime: ingest, ContentType: event.ContentTypeJSON,
			Data: []byte(`{}`), Present: event.PartSubject, Time: ingest.Add(-time.Hour)},
		{Stream: "s", Seq: 4, ID: "4", Type: "t", Subject: "u", IngestTime: ingest.Add(time.Second), ContentType: "text/plain", Data: []byte("x")},
	}
}

// TestSegment_Presence: absent and empty source, subject and payload, and
// a missing time, read back alike through Read, Scan and ColumnBuilder
// (the hot tier's rows for a query).
func TestSegment_Presence(t *testing.T) {
	t.Parallel()
	evs := presenceEvents()
	path := filepath.Join(t.TempDir(), "p.parquet")
	if _, err := writeFile(t.Context(), path, evs, WriterOptions{Project: "p"}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := r.Read(t.Context(), "s", 1, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	wants := make([]event.Event, len(evs))
	for i := range evs {
		wants[i] = want(evs[i], "p")
	}
	checkEvents(t, "Read", got, wants)
	if !r.Info().TimesFilled {
		t.Errorf("a new segment says its times are not filled")
	}

	cols := []string{ColumnSource, ColumnSubject, ColumnTime, ColumnContentType, ColumnData, ColumnDataBinary}
	cb, err := newColumnBuilder(cols)
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		body := record.AppendBody(nil, &evs[i], evs[i].ID)
		if err := cb.AppendRecord("s", evs[i].Seq, evs[i].IngestTime, "application/x-stream-default", body); err != nil {
			t.Fatal(err)
		}
	}
	hot := cb.Build()
	for _, dicts := range [][]string{nil, {ColumnSource}} {
		_, err = r.Scan(t.Context(), []int{0}, cols, ScanOptions{BatchRows: 10, Dictionaries: dicts}, func(_ int, rec arrow.RecordBatch) error {
			for c := range cols {
				a, b := rec.Column(c), hot.Column(c)
				if d, ok := a.(*array.Dictionary); ok {
					for j := range d.Len() {
						if d.IsNull(j) != b.IsNull(j) {
							t.Errorf("dictionary %s row %d: null %v, hot null %v", cols[c], j, d.IsNull(j), b.IsNull(j))
						}
					}
					continue
				}
				if !array.Equal(a, b) {
					t.Errorf("%s: segment %v, hot %v", cols[c], a, b)
				}
			}
			src, data, bin := rec.Column(0), rec.Column(4), rec.Column(5)
			if !src.IsNull(0) || src.IsNull(1) || !data.IsNull(0) || !bin.IsNull(0) || bin.IsNull(1) {
				t.Errorf("nulls: source %v, data %v, data_binary %v", src, data, bin)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	hot.Release()
}

// TestColumnBuilder_OldRecord: a hot record written before the presence
// flags (flags 0, every string empty) gives the row it always gave: an
// empty source and subject, not null, and an empty payload of the block's
// content type; its time is its ingest time.
func TestColumnBuilder_OldRecord(t *testing.T) {
	t.Parallel()
	body := []byte{0, 1, 'i', 1, 't', 0, 0, 0, 0, 0, 0}
	cols := []string{ColumnSource, ColumnSubject, ColumnTime, ColumnContentType, ColumnData, ColumnDataBinary}
	cb, err := newColumnBuilder(cols)
	if err != nil {
		t.Fatal(err)
	}
	ingest := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := cb.AppendRecord("s", 1, ingest, "application/octet-stream", body); err != nil {
		t.Fatal(err)
	}
	rec := cb.Build()
	defer rec.Release()
	src, sub := rec.Column(0).(*array.String), rec.Column(1).(*array.String)
	tm, ct := rec.Column(2).(*array.Timestamp), rec.Column(3).(*array.String)
	data, bin := rec.Column(4), rec.Column(5).(*array.Binary)
	if src.IsNull(0) || src.Value(0) != "" || sub.IsNull(0) || sub.Value(0) != "" {
		t.Errorf("source %v, subject %v: want both empty, not null", src, sub)
	}
	if tm.IsNull(0) || int64(tm.Value(0)) != ingest.UnixNano() {
		t.Errorf("time %v, want the ingest time", tm)
	}
	if ct.Value(0) != "application/octet-stream" || !data.IsNull(0) || bin.IsNull(0) || len(bin.Value(0)) != 0 {
		t.Errorf("content type %v, data %v, data_binary %v: want an empty payload of the block's type", ct, data, bin)
	}
}
