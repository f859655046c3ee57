package tiered

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/hot"
	"github.com/silt-io/silt/pkg/record"
)

// tiers is a hot Store with a history Store over it, in one data dir.
type tiers struct {
	dir  string
	hot  *hot.Store
	hist *Store
}

var quietLog = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// openTiers opens both tiers in dir with the background rotator off unless
// a mod turns it on; they close at cleanup (or earlier by close).
func openTiers(t testing.TB, dir string, mods ...func(*Options)) *tiers {
	t.Helper()
	hopts := hot.DefaultOptions(filepath.Join(dir, "hot"))
	hopts.Sync = false
	hopts.Logger = quietLog
	h, err := hot.Open(hopts)
	if err != nil {
		t.Fatalf("open hot: %v", err)
	}
	opts := Options{Root: filepath.Join(dir, "segments"), Hot: h, CheckEvery: -1, Logger: quietLog}
	opts.Writer.RowGroupRows = 100 // several row groups per segment
	for _, m := range mods {
		m(&opts)
	}
	hist, err := Open(context.Background(), opts)
	if err != nil {
		_ = h.Close(context.Background())
		t.Fatalf("open history: %v", err)
	}
	tr := &tiers{dir: dir, hot: h, hist: hist}
	t.Cleanup(tr.close)
	return tr
}

var closeMu sync.Mutex

func (tr *tiers) close() {
	closeMu.Lock()
	defer closeMu.Unlock()
	if tr.hist == nil {
		return
	}
	_ = tr.hist.Close(context.Background())
	_ = tr.hot.Close(context.Background())
	tr.hist, tr.hot = nil, nil
}

// testEvent is the deterministic content of a stream's seq-th event.
func testEvent(stream string, seq uint64) event.Event {
	return event.Event{
		ID:         fmt.Sprintf("%s-%d", stream, seq),
		Type:       []string{"page.view", "click", "signup"}[seq%3],
		Source:     "web",
		Subject:    fmt.Sprintf("user-%d", seq%17),
		Attributes: map[string]string{"org": fmt.Sprintf("org-%d", seq%5), "stream": stream},
		Metrics:    map[string]float64{"duration_ms": float64(seq%1000) / 10},
		Data:       fmt.Appendf(nil, `{"n":%d,"path":"/docs/%d","stream":%q}`, seq, seq%23, stream),
	}
}

// appendN appends events next..next+n-1 of a stream in batches of batch.
func appendN(t testing.TB, h *hot.Store, project, stream string, from, n, batch uint64) {
	t.Helper()
	for seq := from; seq < from+n; {
		var evs []event.Event
		for ; seq < from+n && uint64(len(evs)) < batch; seq++ {
			evs = append(evs, testEvent(stream, seq))
		}
		res, err := h.Append(context.Background(), event.AppendRequest{Project: project, Stream: stream, Events: record.Pack(evs...), AutoCreate: true})
		if err != nil {
			t.Fatalf("append to %s: %v", stream, err)
		}
		if res.LastSeq != seq-1 {
			t.Fatalf("append to %s ended at seq %d, want %d", stream, res.LastSeq, seq-1)
		}
	}
}

// checkEvents fails unless evs are the stream's events from seq from on,
// each with the content testEvent gives it.
func checkEvents(t testing.TB, project, stream string, from uint64, evs []event.Event) {
	t.Helper()
	if err := diffEvents(project, stream, from, evs); err != nil {
		t.Fatal(err)
	}
}

// diffEvents is checkEvents for any goroutine.
func diffEvents(project, stream string, from uint64, evs []event.Event) error {
	for i := range evs {
		e := evs[i]
		want := testEvent(stream, from+uint64(i))
		want.Project, want.Stream, want.Seq = project, stream, from+uint64(i)
		want.ContentType = event.ContentTypeJSON
		want.IngestTime = e.IngestTime
		want.Time = e.IngestTime // testEvent has no time: it reads with its ingest time
		if e.IngestTime.IsZero() {
			return fmt.Errorf("%s seq %d has no ingest time", stream, e.Seq)
		}
		if !reflect.DeepEqual(e, want) {
			return fmt.Errorf("%s event %d:\n got  %+v\n want %+v", stream, i, e, want)
		}
	}
	return nil
}

// readAll pages through a stream from seq 1 with the given page limits.
func readAll(t testing.TB, s *Store, project, stream string, limit, maxBytes int) []event.Event {
	t.Helper()
	out, err := readPages(s, project, stream, limit, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readPages is readAll for any goroutine.
func readPages(s *Store, project, stream string, limit, maxBytes int) ([]event.Event, error) {
	var out []event.Event
	next := uint64(1)
	for range 1_000_000 {
		res, err := s.Read(context.Background(), event.ReadRequest{Project: project, Stream: stream, FromSeq: next, Limit: limit, MaxBytes: maxBytes})
		if err != nil {
			return nil, fmt.Errorf("read %s from %d: %w", stream, next, err)
		}
		out = append(out, res.Events...)
		if len(res.Events) == 0 && !res.UpToDate() {
			return nil, fmt.Errorf("read %s from %d: empty page before the tail %d", stream, next, res.LastSeq)
		}
		next = res.NextSeq
		if res.UpToDate() {
			return out, nil
		}
	}
	return nil, errors.New("readPages did not end")
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
