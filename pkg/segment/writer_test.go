package segment

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/vfs"
)

func TestWriter_Write_RoundTripsEveryField(t *testing.T) {
	t.Parallel()
	events := edgeEvents()
	_, info, r := writeSegment(t, events, WriterOptions{Project: "acme", RowGroupRows: 2})
	if info.Rows != int64(len(events)) || len(info.Streams) != 3 || len(info.RowGroups) != 5 {
		t.Fatalf("info: %d rows, %d streams, %d row groups", info.Rows, len(info.Streams), len(info.RowGroups))
	}
	for name, wantEvents := range byStream(events, "acme") {
		got, err := r.Read(t.Context(), name, 0, 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		checkEvents(t, name, got, wantEvents)
	}
}

func TestWriter_Write_InfoMatchesReadInfo(t *testing.T) {
	t.Parallel()
	events := genEvents(7, 20_000, 13)
	path, info, _ := writeSegment(t, events, WriterOptions{Project: "acme", RowGroupRows: 3000})
	got, err := readInfo(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, info) {
		t.Fatalf("ReadInfo differs from Write's Info:\n got %+v\nwant %+v", got, info)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Bytes != st.Size() || info.Rows != 20_000 || len(info.RowGroups) != 7 || len(info.Streams) != 13 {
		t.Fatalf("info: %d bytes (file %d), %d rows, %d row groups, %d streams", info.Bytes, st.Size(), info.Rows, len(info.RowGroups), len(info.Streams))
	}
	// Every stream's range and every row group's positions match the events.
	groups := byStream(events, "acme")
	for _, s := range info.Streams {
		es := groups[s.Stream]
		var data uint64
		for _, e := range es {
			data += uint64(len(e.Data))
		}
		if s.DataBytes != data || data == 0 {
			t.Fatalf("stream %s: DataBytes %d, want %d", s.Stream, s.DataBytes, data)
		}
		if s.FirstSeq != es[0].Seq || s.LastSeq != es[len(es)-1].Seq || s.Count != int64(len(es)) ||
			!s.MinIngestTime.Equal(es[0].IngestTime) || !s.MaxIngestTime.Equal(es[len(es)-1].IngestTime) || !s.Gapless() {
			t.Fatalf("stream %+v does not match its events", s)
		}
	}
	for _, g := range info.RowGroups {
		first, last := events[g.FirstRow], events[g.FirstRow+g.Rows-1]
		if g.First != (Position{first.Stream, first.Seq}) || g.Last != (Position{last.Stream, last.Seq}) {
			t.Fatalf("row group %+v: first %s/%d last %s/%d", g, first.Stream, first.Seq, last.Stream, last.Seq)
		}
	}
	var minTime, maxTime time.Time
	for _, e := range events {
		et := eventTime(&e) // no time: the ingest time
		if minTime.IsZero() || et.Before(minTime) {
			minTime = et
		}
		if et.After(maxTime) {
			maxTime = et
		}
	}
	if !info.MinTime.Equal(minTime) || !info.MaxTime.Equal(maxTime) {
		t.Fatalf("time range %v..%v, want %v..%v", info.MinTime, info.MaxTime, minTime, maxTime)
	}
}

func TestWriter_Write_RejectsInvalidInput(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ev := func(stream string, seq uint64) event.Event {
		return event.Event{Stream: stream, Seq: seq, IngestTime: t0}
	}
	cases := map[string]struct {
		events []event.Event
		want   error
	}{
		"duplicate seq":     {[]event.Event{ev("a", 1), ev("a", 1)}, ErrUnsorted},
		"decreasing seq":    {[]event.Event{ev("a", 2), ev("a", 1)}, ErrUnsorted},
		"decreasing stream": {[]event.Event{ev("b", 1), ev("a", 2)}, ErrUnsorted},
		"unsorted late":     {append(genEvents(1, 5000, 3), ev("stream-000", 1)), ErrUnsorted},
		"seq zero":          {[]event.Event{ev("a", 0)}, ErrInvalidEvent},
		"empty stream":      {[]event.Event{ev("", 1)}, ErrInvalidEvent},
		"zero ingest time":  {[]event.Event{{Stream: "a", Seq: 1}}, ErrInvalidEvent},
		"time out of range": {[]event.Event{{Stream: "a", Seq: 1, IngestTime: t0, Time: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}}, ErrInvalidEvent},
		"other project":     {[]event.Event{{Project: "other", Stream: "a", Seq: 1, IngestTime: t0}}, ErrInvalidEvent},
		"no events":         {nil, ErrEmpty},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "seg.parquet")
			_, err := writeFile(t.Context(), path, c.events, WriterOptions{Project: "acme", RowGroupRows: 1000})
			if !errors.Is(err, c.want) {
				t.Fatalf("Write: %v, want %v", err, c.want)
			}
			assertNoFiles(t, dir)
		})
	}
}

// assertNoFiles fails unless dir is empty: no segment, no temporary file.
func assertNoFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
}

func TestWriter_Abort_LeavesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "seg.parquet")
	w, err := NewWriter(path, WriterOptions{RowGroupRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	g := newGenerator(1, 1000, 3)
	var e event.Event
	for g.next(&e) {
		if err := w.Append(&e); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || !IsTemp(entries[0].Name()) || !strings.HasPrefix(entries[0].Name(), "seg.parquet.tmp-") {
		t.Fatalf("while writing, dir holds %v; want one temporary file", entries)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("segment exists before Close: %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	assertNoFiles(t, dir)
	if _, err := w.Close(t.Context()); err == nil {
		t.Fatal("Close after Abort succeeded")
	}
	if err := w.Append(&e); err == nil {
		t.Fatal("Append after Abort succeeded")
	}
}

func TestWriter_Close_CanceledContextLeavesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := NewWriter(filepath.Join(dir, "seg.parquet"), WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := genEvents(1, 1, 1)[0]
	if err := w.Append(&e); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := w.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close: %v", err)
	}
	assertNoFiles(t, dir)
}

func TestWriter_Append_FlushesByBytes(t *testing.T) {
	t.Parallel()
	big := make([]byte, 256<<10)
	var events []event.Event
	for i := range 20 {
		events = append(events, event.Event{Stream: "s", Seq: uint64(i + 1), IngestTime: genT0, ContentType: "application/octet-stream", Data: big})
	}
	_, info, r := writeSegment(t, events, WriterOptions{RowGroupBytes: 1 << 20})
	if len(info.RowGroups) != 5 {
		t.Fatalf("%d row groups, want 5 of 4 events", len(info.RowGroups))
	}
	got, err := r.Read(t.Context(), "s", 3, 100, 600<<10)
	if err != nil {
		t.Fatal(err)
	}
	checkEvents(t, "maxBytes", got, expectRead(byStream(events, "")["s"], 3, 100, 600<<10))
}

func TestWriter_Options_Validate(t *testing.T) {
	t.Parallel()
	for _, o := range []WriterOptions{{RowGroupRows: -1}, {CompressionLevel: 23}, {PageBytes: -1}, {RowGroupBytes: 2 << 30}, {DataCompression: 7}} {
		if o.Validate() == nil {
			t.Errorf("%+v is valid", o)
		}
		if _, err := NewWriter(filepath.Join(t.TempDir(), "x.parquet"), o); err == nil {
			t.Errorf("NewWriter(%+v) succeeded", o)
		}
	}
	if err := (WriterOptions{}).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestWriter_Write_DataCompression(t *testing.T) {
	t.Parallel()
	events := genEvents(13, 5000, 3)
	for _, c := range []struct {
		dc    DataCompression
		codec compress.Compression
	}{{DataGzip, compress.Codecs.Gzip}, {DataZstd, compress.Codecs.Zstd}} {
		_, info, r := writeSegment(t, events, WriterOptions{RowGroupRows: 2000, PageBytes: 4096, DataCompression: c.dc})
		for rg := range info.RowGroups {
			cc, err := r.pf.MetaData().RowGroup(rg).ColumnChunk(leafData)
			if err != nil {
				t.Fatal(err)
			}
			if cc.Compression() != c.codec {
				t.Fatalf("DataCompression %d: row group %d data column is %s, want %s", c.dc, rg, cc.Compression(), c.codec)
			}
		}
		for name, es := range byStream(events, "") {
			got, err := r.Read(t.Context(), name, 0, len(es), 0)
			if err != nil {
				t.Fatal(err)
			}
			checkEvents(t, name, got, es)
		}
	}
}

func TestCleanTemp_RemovesOnlyTemporaryFiles(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	keep := filepath.Join(root, "project=a", "date=2026-01-01", "s1.parquet")
	if _, err := writeFile(t.Context(), keep, genEvents(1, 10, 1), WriterOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"project=a/date=2026-01-01/s2.parquet.tmp-0011", "project=b/date=2026-01-02/s3.parquet.tmp-ff"} {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("half a segment"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n, err := CleanTemp(vfs.OS, root)
	if err != nil || n != 2 {
		t.Fatalf("CleanTemp: %d, %v; want 2", n, err)
	}
	if _, err := readInfo(keep); err != nil {
		t.Fatalf("segment damaged: %v", err)
	}
	if n, err := CleanTemp(vfs.OS, filepath.Join(root, "missing")); n != 0 || err != nil {
		t.Fatalf("CleanTemp(missing): %d, %v", n, err)
	}
}
