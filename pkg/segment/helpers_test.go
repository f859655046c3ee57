package segment

import (
	"context"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
)

// writeFile writes events, already sorted by (stream, seq), as one segment
// at path through a Writer (NewWriter, Append, Close; Abort on an error)
// and returns its Info.
func writeFile(ctx context.Context, path string, events []event.Event, opts WriterOptions) (Info, error) {
	w, err := NewWriter(path, opts)
	if err != nil {
		return Info{}, err
	}
	for i := range events {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				_ = w.Abort()
				return Info{}, fmt.Errorf("write segment %s: %w", path, err)
			}
		}
		if err := w.Append(&events[i]); err != nil {
			_ = w.Abort()
			return Info{}, err
		}
	}
	return w.Close(ctx)
}

// readInfo returns the Info of the segment at path as Open rebuilds it
// from the footer alone: the same value the Writer returned.
func readInfo(path string) (Info, error) {
	r, err := Open(path)
	if err != nil {
		return Info{}, err
	}
	defer r.Close()
	return r.Info(), nil
}

// withCursorCache makes a Reader keep the cursors its Reads leave in cc
// rather than in the cache every Reader shares; NewCursorCache(0), or nil,
// turns the caching off.
func withCursorCache(cc *CursorCache) ReaderOption {
	return func(c *readerConfig) { c.cursors = cc }
}

// newColumnBuilder returns a builder of the named columns of Schema.
func newColumnBuilder(columns []string) (*ColumnBuilder, error) {
	b := &ColumnBuilder{}
	if err := b.Select(columns); err != nil {
		return nil, err
	}
	return b, nil
}

// want is e as a Reader returns it: Project stamped, empty maps and data
// as nil, times in UTC.
func want(e event.Event, project string) event.Event {
	e.Project = project
	if len(e.Attributes) == 0 {
		e.Attributes = nil
	}
	if len(e.Metrics) == 0 {
		e.Metrics = nil
	}
	if len(e.Data) == 0 {
		e.Data = nil
	}
	e.Time = eventTime(&e).UTC()
	e.IngestTime = e.IngestTime.UTC()
	if !e.HasPayload() {
		e.ContentType = ""
	}
	e.SetPresent(e.HasSource(), e.HasSubject(), e.HasPayload())
	return e
}

// diffEvent describes how got differs from want ("" if not at all): every
// field, times to the nanosecond and in UTC, floats bit for bit.
func diffEvent(got, want event.Event) string {
	switch {
	case got.Project != want.Project, got.Stream != want.Stream, got.Seq != want.Seq, got.ID != want.ID,
		got.Type != want.Type, got.Source != want.Source, got.Subject != want.Subject, got.ContentType != want.ContentType:
		return fmt.Sprintf("envelope: got %q/%q/%d id=%q type=%q source=%q subject=%q ct=%q, want %q/%q/%d id=%q type=%q source=%q subject=%q ct=%q",
			got.Project, got.Stream, got.Seq, got.ID, got.Type, got.Source, got.Subject, got.ContentType,
			want.Project, want.Stream, want.Seq, want.ID, want.Type, want.Source, want.Subject, want.ContentType)
	case got.Time.IsZero() != want.Time.IsZero() || got.Time.UnixNano() != want.Time.UnixNano() || (!got.Time.IsZero() && got.Time.Location() != time.UTC):
		return fmt.Sprintf("time: got %v, want %v", got.Time, want.Time)
	case got.IngestTime.UnixNano() != want.IngestTime.UnixNano() || got.IngestTime.Location() != time.UTC:
		return fmt.Sprintf("ingest time: got %v, want %v", got.IngestTime, want.IngestTime)
	case (got.Attributes == nil) != (want.Attributes == nil) || !maps.Equal(got.Attributes, want.Attributes):
		return fmt.Sprintf("attributes: got %v, want %v", got.Attributes, want.Attributes)
	case (got.Metrics == nil) != (want.Metrics == nil) || !maps.EqualFunc(got.Metrics, want.Metrics, func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }):
		return fmt.Sprintf("metrics: got %v, want %v", got.Metrics, want.Metrics)
	case (got.Data == nil) != (want.Data == nil) || string(got.Data) != string(want.Data):
		return fmt.Sprintf("data: got %q, want %q", got.Data, want.Data)
	case got.Present != want.Present:
		return fmt.Sprintf("present: got %b, want %b", got.Present, want.Present)
	}
	return ""
}

// checkEvents fails t unless got equals want (as a Reader returns them).
func checkEvents(t *testing.T, what string, got, want []event.Event) {
	t.Helper()
	if len(got) != len(want) {
		first := func(es []event.Event) string {
			if len(es) == 0 {
				return "none"
			}
			return fmt.Sprintf("%s/%d..%d", es[0].Stream, es[0].Seq, es[len(es)-1].Seq)
		}
		t.Fatalf("%s: got %d events (%s), want %d (%s)", what, len(got), first(got), len(want), first(want))
	}
	for i := range got {
		if d := diffEvent(got[i], want[i]); d != "" {
			t.Fatalf("%s: event %d (%s/%d): %s", what, i, want[i].Stream, want[i].Seq, d)
		}
	}
}

// byStream groups events (sorted by stream, seq) as a Reader returns them.
func byStream(events []event.Event, project string) map[string][]event.Event {
	out := map[string][]event.Event{}
	for _, e := range events {
		out[e.Stream] = append(out[e.Stream], want(e, project))
	}
	return out
}

// expectRead is what Read(stream, from, limit, maxBytes) must return from
// a stream's events.
func expectRead(stream []event.Event, from uint64, limit, maxBytes int) []event.Event {
	i, _ := slices.BinarySearchFunc(stream, from, func(e event.Event, s uint64) int { return int64cmp(e.Seq, s) })
	var out []event.Event
	size := 0
	for ; i < len(stream) && len(out) < limit; i++ {
		if maxBytes > 0 && len(out) > 0 && size+len(stream[i].Data) > maxBytes {
			break
		}
		size += len(stream[i].Data)
		out = append(out, stream[i])
	}
	return out
}

func int64cmp(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// writeSegment writes events to a new file in a temp dir and opens it.
func writeSegment(t testing.TB, events []event.Event, opts WriterOptions) (string, Info, *Reader) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "project=acme", "date=2026-03-01", "seg.parquet")
	info, err := writeFile(t.Context(), path, events, opts)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return path, info, r
}

// edgeEvents exercise every field: JSON and binary payloads, empty and
// invalid-UTF-8 data, nil time, time zones, unicode, empty and nil maps,
// extreme floats and times.
func edgeEvents() []event.Event {
	berlin := time.FixedZone("CET", 3600)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	return []event.Event{
		{Stream: "a", Seq: 1, ID: "01JNZ3K8Q4W5E6R7T8Y9U0I1O2", Type: "page.view", Source: "web", Subject: "u_1",
			Time: t0.Add(-time.Second).In(berlin), IngestTime: t0,
			Attributes: map[string]string{"org": "org_1", "user": "u_1", "": "empty key"}, Metrics: map[string]float64{"duration_ms": 12.5, "neg": -0.25},
			ContentType: event.ContentTypeJSON, Data: []byte(`{"a":1,"b":[true,null,"x"]}`)},
		{Stream: "a", Seq: 2, ID: "idempotency-key-2", Type: "binary", Source: "api", IngestTime: t0.Add(1),
			ContentType: "application/octet-stream", Data: []byte{0, 1, 2, 0xff, 0xfe, 0}},
		{Stream: "a", Seq: 3, ID: "", Type: "", IngestTime: t0.Add(2), Attributes: map[string]string{}, Metrics: map[string]float64{},
			ContentType: event.ContentTypeJSON, Data: []byte{}},
		{Stream: "a", Seq: 7, ID: "gap", Type: "t", IngestTime: t0.Add(2), ContentType: event.ContentTypeJSON, Data: []byte(`"after a gap"`)},
		{Stream: "b/ünïcødé 🚀", Seq: 40, ID: "ключ", Type: "日本語.イベント", Source: "源", Subject: "sujet é",
			Time: time.Unix(0, 1).UTC(), IngestTime: t0.Add(time.Hour),
			Attributes: map[string]string{"emoji": "🎉", "k": ""}, Metrics: map[string]float64{"inf": math.Inf(1), "-inf": math.Inf(-1), "tiny": math.SmallestNonzeroFloat64, "max": math.MaxFloat64},
			ContentType: event.ContentTypeJSON, Data: []byte(`{"text":"héllo 🌍","n":-1e300}`)},
		{Stream: "b/ünïcødé 🚀", Seq: 41, ID: "bad utf8", Type: "t", IngestTime: t0.Add(time.Hour),
			Time:        time.Date(2262, 4, 11, 0, 0, 0, 0, time.UTC),
			ContentType: event.ContentTypeJSON, Data: []byte("{\"x\":\"\xff\xfe\"}")},
		{Stream: "c", Seq: 1, ID: "plain", Type: "text", IngestTime: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Hour),
			Time: time.Date(1800, 1, 1, 0, 0, 0, 1, berlin), ContentType: "text/plain; charset=utf-8", Data: []byte("plain text")},
		{Stream: "c", Seq: 2, ID: "no content type", IngestTime: t0, Data: []byte(`{"json":"but not declared"}`)},
		{Stream: "c", Seq: 3, ID: "nil data", IngestTime: t0},
	}
}
