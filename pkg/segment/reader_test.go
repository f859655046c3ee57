package segment

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
)

func TestReader_Read_EveryBoundary(t *testing.T) {
	t.Parallel()
	events := genEvents(3, 30_000, 25)
	_, info, r := writeSegment(t, events, WriterOptions{Project: "acme", RowGroupRows: 997})
	streams := byStream(events, "acme")
	for _, s := range info.Streams {
		es := streams[s.Stream]
		// Seqs worth reading from: below the first, the first, the last,
		// past the last, and both sides of every row-group boundary.
		froms := []uint64{0, 1, s.FirstSeq, s.FirstSeq + 1, s.LastSeq, s.LastSeq + 1, s.LastSeq + 100}
		for _, g := range info.RowGroups {
			for _, row := range []int64{g.FirstRow - 1, g.FirstRow, g.FirstRow + g.Rows - 1} {
				if row >= s.FirstRow && row < s.FirstRow+s.Count {
					froms = append(froms, events[row].Seq)
				}
			}
		}
		for _, from := range froms {
			for _, limit := range []int{1, 999, 2500} {
				for _, maxBytes := range []int{0, 1000} {
					got, err := r.Read(t.Context(), s.Stream, from, limit, maxBytes)
					if err != nil {
						t.Fatalf("Read(%s, %d, %d, %d): %v", s.Stream, from, limit, maxBytes, err)
					}
					checkEvents(t, fmt.Sprintf("Read(%s, %d, %d, %d)", s.Stream, from, limit, maxBytes), got, expectRead(es, from, limit, maxBytes))
				}
			}
		}
	}
	if got, err := r.Read(t.Context(), "no such stream", 0, 10, 0); err != nil || len(got) != 0 {
		t.Fatalf("Read(unknown stream): %d events, %v", len(got), err)
	}
	if _, err := r.Read(t.Context(), "stream-000", 0, 0, 0); err == nil {
		t.Fatal("Read with limit 0 succeeded")
	}
}

func TestReader_Read_WholeSegmentInPages(t *testing.T) {
	t.Parallel()
	events := genEvents(4, 20_000, 7)
	_, info, r := writeSegment(t, events, WriterOptions{RowGroupRows: 4096})
	var all []event.Event
	for _, s := range info.Streams {
		for from := uint64(0); ; {
			page, err := r.Read(t.Context(), s.Stream, from, 777, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			all = append(all, page...)
			from = page[len(page)-1].Seq + 1
		}
	}
	wantAll := make([]event.Event, len(events))
	for i, e := range events {
		wantAll[i] = want(e, "")
	}
	checkEvents(t, "paged", all, wantAll)
}

func TestReader_Read_PrunesRowGroups(t *testing.T) {
	t.Parallel()
	events := genEvents(5, 100_000, 3)
	_, info, r := writeSegment(t, events, WriterOptions{RowGroupRows: 1000})
	if len(info.RowGroups) != 100 {
		t.Fatalf("%d row groups, want 100", len(info.RowGroups))
	}
	s := info.Streams[len(info.Streams)-1]
	streams := byStream(events, "")
	cases := []struct {
		name       string
		from       uint64
		limit      int
		wantGroups int64
		maxRows    int64
	}{
		{"near the end", s.LastSeq - 10, 5, 1, 1000},
		{"across a boundary", events[info.RowGroups[98].FirstRow-3].Seq, 10, 2, 2000},
		{"last event", s.LastSeq, 100, 1, 1000},
	}
	for _, c := range cases {
		before := r.Stats()
		got, err := r.Read(t.Context(), s.Stream, c.from, c.limit, 0)
		if err != nil {
			t.Fatal(err)
		}
		checkEvents(t, c.name, got, expectRead(streams[s.Stream], c.from, c.limit, 0))
		after := r.Stats()
		if groups, rows := after.RowGroupsRead-before.RowGroupsRead, after.RowsDecoded-before.RowsDecoded; groups != c.wantGroups || rows > int64(c.limit) {
			t.Fatalf("%s: read %d row groups and decoded %d rows; want %d row groups and at most %d rows", c.name, groups, rows, c.wantGroups, c.limit)
		}
	}
}

func TestReader_Read_StreamWithHoles(t *testing.T) {
	t.Parallel()
	// A stream rewritten for retention keeps some seqs only.
	var events []event.Event
	for _, e := range genEvents(6, 5000, 1) {
		if e.Seq%3 != 0 && e.Seq%17 != 0 {
			events = append(events, e)
		}
	}
	_, info, r := writeSegment(t, events, WriterOptions{RowGroupRows: 250})
	if info.Streams[0].Gapless() {
		t.Fatal("stream with holes reported gapless")
	}
	es := byStream(events, "")["stream-000"]
	for from := uint64(0); from <= 5001; from += 7 {
		got, err := r.Read(t.Context(), "stream-000", from, 300, 0)
		if err != nil {
			t.Fatal(err)
		}
		checkEvents(t, fmt.Sprintf("from %d", from), got, expectRead(es, from, 300, 0))
	}
}

func TestReader_SeekTime(t *testing.T) {
	t.Parallel()
	events := genEvents(8, 20_000, 5)
	_, info, r := writeSegment(t, events, WriterOptions{RowGroupRows: 1500})
	streams := byStream(events, "")
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range info.Streams {
		es := streams[s.Stream]
		ts := []time.Time{time.Time{}, s.MinIngestTime, s.MinIngestTime.Add(-1), s.MaxIngestTime, s.MaxIngestTime.Add(1)}
		for range 50 {
			e := es[rng.IntN(len(es))]
			ts = append(ts, e.IngestTime, e.IngestTime.Add(1), e.IngestTime.Add(-1))
		}
		for _, ts := range ts {
			seq, ok, err := r.SeekTime(t.Context(), s.Stream, ts)
			if err != nil {
				t.Fatal(err)
			}
			wantSeq, wantOK := uint64(0), false
			for _, e := range es {
				if !e.IngestTime.Before(ts) {
					wantSeq, wantOK = e.Seq, true
					break
				}
			}
			if seq != wantSeq || ok != wantOK {
				t.Fatalf("SeekTime(%s, %v) = %d, %v; want %d, %v", s.Stream, ts, seq, ok, wantSeq, wantOK)
			}
		}
	}
	if _, ok, err := r.SeekTime(t.Context(), "missing", genT0); ok || err != nil {
		t.Fatalf("SeekTime(missing) = %v, %v", ok, err)
	}
}

func TestReader_Read_ConcurrentReaders(t *testing.T) {
	t.Parallel()
	events := genEvents(9, 20_000, 9)
	_, info, r := writeSegment(t, events, WriterOptions{RowGroupRows: 2000})
	streams := byStream(events, "acme-override")
	r2, err := Open(r.Path(), WithProject("acme-override"))
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 3))
			for range 40 {
				s := info.Streams[rng.IntN(len(info.Streams))]
				from := s.FirstSeq + uint64(rng.Int64N(s.Count))
				limit := 1 + rng.IntN(3000)
				got, err := r2.Read(t.Context(), s.Stream, from, limit, 0)
				if err != nil {
					errs <- err
					return
				}
				wantEvents := expectRead(streams[s.Stream], from, limit, 0)
				if len(got) != len(wantEvents) {
					errs <- fmt.Errorf("Read(%s, %d, %d): %d events, want %d", s.Stream, from, limit, len(got), len(wantEvents))
					return
				}
				for i := range got {
					if d := diffEvent(got[i], wantEvents[i]); d != "" {
						errs <- fmt.Errorf("Read(%s, %d, %d) event %d: %s", s.Stream, from, limit, i, d)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestReader_Open_CorruptFiles(t *testing.T) {
	t.Parallel()
	path, _, _ := writeSegment(t, genEvents(10, 3000, 4), WriterOptions{RowGroupRows: 500})
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	variants := map[string][]byte{
		"empty":        nil,
		"garbage":      []byte("this is not a parquet file at all, not even close!"),
		"magic only":   []byte("PAR1PAR1"),
		"no footer":    good[:len(good)/2],
		"cut footer":   good[:len(good)-10],
		"almost whole": good[:len(good)-1],
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for i := range 30 {
		b := append([]byte(nil), good...)
		for range 1 + rng.IntN(20) {
			b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
		}
		variants[fmt.Sprintf("flipped %d", i)] = b
	}
	for name, b := range variants {
		p := filepath.Join(dir, name+".parquet")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		err := exercise(t, p)
		if name[:4] != "flip" && !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}

// exercise opens a possibly corrupt segment and reads all of it; it must
// return an error or data, never panic.
func exercise(t testing.TB, path string) error {
	r, err := Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	info := r.Info()
	for _, s := range info.Streams {
		if _, err := r.Read(t.Context(), s.Stream, s.FirstSeq, 1_000_000, 0); err != nil {
			return err
		}
		if _, _, err := r.SeekTime(t.Context(), s.Stream, s.MaxIngestTime); err != nil {
			return err
		}
	}
	return nil
}

func FuzzReader(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "seed.parquet")
	if _, err := writeFile(f.Context(), path, genEvents(11, 300, 3), WriterOptions{RowGroupRows: 100}); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, uint32(0), byte(0))
	f.Add(good, uint32(len(good)/2), byte(0xff))
	f.Add(good, uint32(len(good)-20), byte(1))
	f.Add(good[:len(good)-8], uint32(0), byte(0))
	f.Fuzz(func(t *testing.T, b []byte, at uint32, x byte) {
		b = append([]byte(nil), b...)
		if len(b) > 0 {
			b[int(at)%len(b)] ^= x
		}
		p := filepath.Join(t.TempDir(), "f.parquet")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_ = exercise(t, p)
	})
}

// variedEvents are generated events whose maps have 0 to 12 entries, so
// that map rows of many sizes straddle page boundaries.
func variedEvents(seed uint64, n, streams int) []event.Event {
	events := genEvents(seed, n, streams)
	rng := rand.New(rand.NewPCG(seed, 77))
	for i := range events {
		e := &events[i]
		switch k := rng.IntN(6); k {
		case 0:
			e.Attributes = nil
		case 1:
			e.Metrics = nil
		case 2:
			for j := range 4 + rng.IntN(9) {
				e.Attributes[fmt.Sprintf("k%02d", j)] = fmt.Sprintf("v%d", rng.IntN(1000))
			}
			e.Metrics[fmt.Sprintf("m%d", rng.IntN(3))] = rng.Float64()
		}
	}
	return events
}

func TestReader_Read_SmallPagesAndCursors(t *testing.T) {
	t.Parallel()
	events := variedEvents(12, 30_000, 5)
	// Tiny pages: flat columns seek through many pages, and map rows
	// straddle version 1 pages.
	path, info, _ := writeSegment(t, events, WriterOptions{RowGroupRows: 3000, PageBytes: 512})
	// A cache of its own: other tests' Readers share the default one.
	r, err := Open(path, withCursorCache(NewCursorCache(2)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	noCursors, err := Open(path, withCursorCache(NewCursorCache(0)))
	if err != nil {
		t.Fatal(err)
	}
	defer noCursors.Close()
	streams := byStream(events, "")
	rng := rand.New(rand.NewPCG(12, 12))
	for range 300 {
		s := info.Streams[rng.IntN(len(info.Streams))]
		from := s.FirstSeq + uint64(rng.Int64N(s.Count))
		limit := 1 + rng.IntN(4000)
		maxBytes := 0
		if rng.IntN(2) == 0 {
			maxBytes = 1 + rng.IntN(100_000)
		}
		wantEvents := expectRead(streams[s.Stream], from, limit, maxBytes)
		for _, rd := range []*Reader{r, noCursors} {
			got, err := rd.Read(t.Context(), s.Stream, from, limit, maxBytes)
			if err != nil {
				t.Fatal(err)
			}
			checkEvents(t, fmt.Sprintf("Read(%s, %d, %d, %d)", s.Stream, from, limit, maxBytes), got, wantEvents)
		}
	}
	// Paging through a stream continues each Read with the cursor the
	// previous one left: one seek per row group, however small the pages
	// and whatever maxBytes cuts.
	for _, s := range info.Streams {
		before := r.Stats()
		var all []event.Event
		for from := s.FirstSeq; from <= s.LastSeq; {
			page, err := r.Read(t.Context(), s.Stream, from, 1+rng.IntN(700), 1+rng.IntN(50_000))
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page...)
			from = page[len(page)-1].Seq + 1
		}
		checkEvents(t, "paged "+s.Stream, all, streams[s.Stream])
		first, last := info.rowGroupOfRow(s.FirstRow), info.rowGroupOfRow(s.FirstRow+s.Count-1)
		// (The arrowdecode build has no cursors: each Read decodes from a
		// row group's start.)
		if seeks := r.Stats().Seeks - before.Seeks; seeks != int64(last-first+1) && !arrowDecoders {
			t.Errorf("paging through %s (row groups %d to %d) opened %d cursors", s.Stream, first, last, seeks)
		}
	}
}
