package hot

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// scanRecords collects the records ScanRecords gives for stream s of p,
// copying their bodies.
func scanRecords(t *testing.T, s *Store, stream string) []record.Stored {
	t.Helper()
	var out []record.Stored
	err := s.View(t.Context(), func(sn *Snapshot) error {
		x, err := sn.Stream("p", stream)
		if err != nil {
			return err
		}
		return sn.ScanRecords(t.Context(), x, x.LastSeq, func(r *record.Stored) error {
			c := *r
			c.Body = bytes.Clone(r.Body)
			out = append(out, c)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestScanRecords_CacheServesTheSameRecords scans streams of compressed
// and uncompressed blocks twice: the second scan comes from the cache and
// must give the same records; with a budget of a few blocks, older blocks
// are evicted and scans still give every record.
func TestScanRecords_CacheServesTheSameRecords(t *testing.T) {
	t.Parallel()
	for _, budget := range []int64{DefaultQueryCacheBytes, 4 << 10} {
		t.Run(fmt.Sprint(budget), func(t *testing.T) {
			t.Parallel()
			s := openStore(t, func(o *Options) { o.QueryCacheBytes = budget })
			rnd := rand.New(rand.NewPCG(1, 2))
			for i := range 20 {
				evs := make([]event.Event, 1+i*7)
				for j := range evs {
					// Every other append's blocks stay uncompressed: S2 does
					// not shrink random hex.
					data := fmt.Appendf(nil, `{"n":%d,"pad":"%0100d"}`, j, j)
					if i%2 == 1 {
						r := make([]byte, 256)
						for k := range r {
							r[k] = "0123456789abcdef"[rnd.IntN(16)]
						}
						data = fmt.Appendf(nil, `{"r":"%s"}`, r)
					}
					evs[j] = event.Event{Type: "t", Attributes: map[string]string{"k": fmt.Sprint(j)}, Data: data}
				}
				if _, err := s.Append(t.Context(), event.AppendRequest{Project: "p", Stream: fmt.Sprint("s", i%3), Events: record.Pack(evs...), AutoCreate: true}); err != nil {
					t.Fatal(err)
				}
			}
			for stream := range 3 {
				name := fmt.Sprint("s", stream)
				first := scanRecords(t, s, name)
				if s.blocks.len() == 0 {
					t.Fatal("the cache kept nothing")
				}
				second := scanRecords(t, s, name)
				if len(first) == 0 || len(first) != len(second) {
					t.Fatalf("%s: %d then %d records", name, len(first), len(second))
				}
				for i := range first {
					a, b := first[i], second[i]
					if a.Seq != uint64(i+1) || a.Seq != b.Seq || !a.IngestTime.Equal(b.IngestTime) || a.ContentType != b.ContentType || !bytes.Equal(a.Body, b.Body) {
						t.Fatalf("%s record %d: %+v, then %+v", name, i, a, b)
					}
				}
			}
			if s.blocks.bytes() > budget {
				t.Errorf("cache holds %d bytes, budget %d", s.blocks.bytes(), budget)
			}
			if budget < DefaultQueryCacheBytes && s.blocks.len() >= 20 {
				t.Errorf("a %d-byte cache kept all %d blocks", budget, s.blocks.len())
			}
		})
	}
}

// TestScanRecords_NoCache checks that a negative budget turns the cache off.
func TestScanRecords_NoCache(t *testing.T) {
	t.Parallel()
	s := openStore(t, func(o *Options) { o.QueryCacheBytes = -1 })
	if _, err := s.Append(t.Context(), event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(50, "t")...), AutoCreate: true}); err != nil {
		t.Fatal(err)
	}
	if got := scanRecords(t, s, "s"); len(got) != 50 || s.blocks != nil {
		t.Fatalf("%d records, cache %v", len(got), s.blocks)
	}
}

// TestScanRecords_CacheTakesNewBlocksWhileQueried checks the write-through:
// after a query, the blocks of later appends go into the cache as they
// commit (compressed and uncompressed ones, and not those of a producer's
// duplicate), and a scan served from them reads what Badger holds.
func TestScanRecords_CacheTakesNewBlocksWhileQueried(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	rnd := rand.New(rand.NewPCG(3, 4))
	appendSome := func(i int, producer *event.Producer) {
		t.Helper()
		evs := make([]event.Event, 20+i)
		for j := range evs {
			data := fmt.Appendf(nil, `{"n":%d,"pad":"%0100d"}`, j, j)
			if i%2 == 1 { // incompressible: an uncompressed block
				r := make([]byte, 256)
				for k := range r {
					r[k] = "0123456789abcdef"[rnd.IntN(16)]
				}
				data = fmt.Appendf(nil, `{"r":"%s"}`, r)
			}
			evs[j] = event.Event{Type: "t", Time: time.Unix(int64(j), 0), Attributes: map[string]string{"k": fmt.Sprint(j)}, Data: data}
		}
		if _, err := s.Append(t.Context(), event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(evs...), AutoCreate: true, Producer: producer}); err != nil {
			t.Fatal(err)
		}
	}
	appendSome(0, nil)
	if n := s.blocks.len(); n != 0 {
		t.Fatalf("%d blocks cached before any query", n)
	}
	scanRecords(t, s, "s") // a query: from now on new blocks are cached
	before := s.blocks.len()
	for i := 1; i <= 4; i++ {
		appendSome(i, nil)
	}
	prod := &event.Producer{ID: "pr", Epoch: 1, Seq: 0}
	appendSome(5, prod)
	cached := s.blocks.len()
	appendSome(5, prod) // a duplicate: acknowledged, nothing written
	if got := s.blocks.len(); cached-before < 5 || got != cached {
		t.Fatalf("cache entries %d before the appends, %d after, %d after a duplicate; want 5 more, then none", before, cached, got)
	}
	recs := scanRecords(t, s, "s")
	var evs []event.Event
	err := s.View(t.Context(), func(sn *Snapshot) error {
		x, err := sn.Stream("p", "s")
		if err != nil {
			return err
		}
		return sn.Scan(t.Context(), x, x.LastSeq, func(e *event.Event) error {
			evs = append(evs, *e)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(evs) {
		t.Fatalf("%d records from the cache, %d events from Badger", len(recs), len(evs))
	}
	for i, r := range recs {
		var e event.Event
		if err := record.DecodeBody(r.Body, &e); err != nil {
			t.Fatal(err)
		}
		w := evs[i]
		if r.Seq != w.Seq || !r.IngestTime.Equal(w.IngestTime) || e.ID != w.ID || !e.Time.Equal(w.Time) || string(e.Data) != string(w.Data) {
			t.Fatalf("record %d: seq %d id %s, Badger has seq %d id %s", i, r.Seq, e.ID, w.Seq, w.ID)
		}
	}
}

// len is the number of blocks in c.
func (c *blockCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// bytes is what c's blocks cost against its budget.
func (c *blockCache) bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}
