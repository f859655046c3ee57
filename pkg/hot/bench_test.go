package hot

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// benchEvent is a ~200-byte JSON event.
func benchEvent(i int) event.Event {
	data := fmt.Sprintf(`{"user":"user-%06d","action":"click","page":"/products/%d","ref":"campaign-spring","session":"s-%08x","duration_ms":%d,"pad":"%s"}`,
		i%100000, i%977, i, i%5000, strings.Repeat("x", 40))
	return event.Event{Type: "page.click", Source: "web", Attributes: map[string]string{"country": "de"}, Data: []byte(data)}
}

func benchEvents(n int) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = benchEvent(i)
	}
	return evs
}

func benchStore(b *testing.B, sync bool, threshold int64) *Store {
	b.Helper()
	return benchStoreAt(b, b.TempDir(), sync, threshold)
}

// benchStoreIn opens a store without Sync in dir (to reopen it).
func benchStoreIn(b *testing.B, dir string) *Store { return benchStoreAt(b, dir, false, 0) }

func benchStoreAt(b *testing.B, dir string, sync bool, threshold int64) *Store {
	b.Helper()
	s, err := Open(Options{
		Dir: dir, Sync: sync, valueThreshold: threshold,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

var durabilities = []struct {
	name string
	sync bool
}{{"durable", true}, {"nosync", false}}

// benchmarkAppend runs appends of batch events from clients goroutines, each
// on one of streams streams, and reports events/s.
func benchmarkAppend(b *testing.B, s *Store, batch, clients, streams int) {
	evs := benchEvents(batch)
	// Packed once: packing is the API's work (record.Pack, or its fast
	// path from the wire), not the store's.
	packed := record.Pack(evs...)
	var next atomic.Int64
	b.SetBytes(int64(batch * len(evs[0].Data)))
	b.SetParallelism((clients + 1) / 2) // GOMAXPROCS is 2 on the target machine
	b.ResetTimer()
	start, cpu := time.Now(), processCPU()
	b.RunParallel(func(pb *testing.PB) {
		stream := fmt.Sprintf("s%d", next.Add(1)%int64(streams))
		for pb.Next() {
			if _, err := s.Append(context.Background(), event.AppendRequest{Project: "bench", Stream: stream, Events: packed, AutoCreate: true}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "events/s")
	// CPU of the whole process (callers, committer, Badger, kernel work
	// such as msync's writeback) per event: the store's share of the
	// end-to-end benchmarks' CPU budget (docs/benchmarks.md, "CPU floors").
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N*batch), "cpu-ns/event")
}

// processCPU is the process's user + system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkAppendBatch100(b *testing.B) {
	for _, d := range durabilities {
		b.Run(d.name, func(b *testing.B) { benchmarkAppend(b, benchStore(b, d.sync, 0), 100, 8, 8) })
	}
}

func BenchmarkAppendBatch1000(b *testing.B) {
	for _, d := range durabilities {
		b.Run(d.name, func(b *testing.B) { benchmarkAppend(b, benchStore(b, d.sync, 0), 1000, 8, 8) })
	}
	// Blocks in the LSM tree instead of the value log.
	b.Run("durable-lsm", func(b *testing.B) { benchmarkAppend(b, benchStore(b, true, maxValueThreshold), 1000, 8, 8) })
	// After a query: the committer also copies each block into the query
	// cache (blockcache.go).
	b.Run("durable-queried", func(b *testing.B) {
		s := benchStore(b, true, 0)
		s.blocks.queried()
		benchmarkAppend(b, s, 1000, 8, 8)
	})
}

func BenchmarkAppendSingle(b *testing.B) {
	for _, d := range durabilities {
		b.Run(d.name+"-64clients", func(b *testing.B) { benchmarkAppend(b, benchStore(b, d.sync, 0), 1, 64, 8) })
	}
}

func BenchmarkRead(b *testing.B) {
	for _, batch := range []int{1, 100} {
		for _, reopen := range []bool{false, true} {
			name := fmt.Sprintf("written-%d-per-append/page-1000", batch)
			if reopen {
				// Reopened, the events are in Badger's tables rather than
				// its memtable, and their blocks' checksums are verified
				// as the tables open and as blocks enter the block cache.
				name = fmt.Sprintf("written-%d-per-append/reopened/page-1000", batch)
			}
			b.Run(name, func(b *testing.B) { benchmarkRead(b, batch, reopen) })
		}
	}
}

// benchmarkRead reads pages of 1000 events from random seqs of a stream of
// 100,000 written batch events per append; with reopen, from a store closed
// and opened again (reporting the time Open took).
func benchmarkRead(b *testing.B, batch int, reopen bool) {
	dir := b.TempDir()
	s := benchStoreIn(b, dir)
	const total = 100_000
	evs := benchEvents(batch)
	for range total / batch {
		if _, err := s.Append(context.Background(), event.AppendRequest{Project: "bench", Stream: "s", Events: record.Pack(evs...), AutoCreate: true}); err != nil {
			b.Fatal(err)
		}
	}
	var open time.Duration
	if reopen {
		if err := s.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		s = benchStoreIn(b, dir)
		open = time.Since(start)
	}
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		from := uint64(1 + (i*7919)%(total-1000))
		res, err := s.Read(context.Background(), event.ReadRequest{Project: "bench", Stream: "s", FromSeq: from, Limit: 1000})
		if err != nil || len(res.Events) != 1000 {
			b.Fatalf("read: %d events, %v", len(res.Events), err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/time.Since(start).Seconds(), "events/s")
	if reopen {
		b.ReportMetric(float64(open.Microseconds())/1000, "open-ms")
	}
}

// BenchmarkLayout compares, directly on Badger, this package's block layout
// with one key per event: each op commits one group of 10 requests of 100
// events in one synced transaction; read scans 1000 events from a
// random seq and decodes them.
func BenchmarkLayout(b *testing.B) {
	for _, layout := range []string{"block", "event"} {
		b.Run(layout+"/write-durable", func(b *testing.B) {
			db := benchBadger(b)
			recs := encodedRecords(100)
			b.ResetTimer()
			seq := uint64(1)
			for range b.N {
				txn := db.NewTransaction(true)
				for range 10 {
					seq = layoutWrite(b, txn, layout, seq, recs)
				}
				if err := txn.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
		})
		b.Run(layout+"/read-1000", func(b *testing.B) {
			db := benchBadger(b)
			recs := encodedRecords(100)
			seq := uint64(1)
			for range 100 {
				txn := db.NewTransaction(true)
				for range 10 {
					seq = layoutWrite(b, txn, layout, seq, recs)
				}
				if err := txn.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := range b.N {
				from := 1 + rand.Uint64N(seq-1001)
				if n := layoutRead(b, db, from, 1000); n != 1000 {
					b.Fatalf("read %d events", n)
				}
				_ = i
			}
			b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

func benchBadger(b *testing.B) *badger.DB {
	db, err := badger.Open(badger.DefaultOptions(b.TempDir()).WithLogger(nil).WithSyncWrites(false).
		WithDetectConflicts(false).WithMemTableSize(badgerMemTableSize).WithValueThreshold(badgerValueThreshold).WithSyncWrites(true))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	return db
}

// encodedRecords returns n length-prefixed records, one per slice.
func encodedRecords(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		e := benchEvent(i)
		out[i] = appendEvent(nil, &e, fmt.Sprintf("01J%023d", i))
	}
	return out
}

// layoutWrite writes recs from seq on, as one block or as one key per event.
func layoutWrite(b *testing.B, txn *badger.Txn, layout string, seq uint64, recs [][]byte) uint64 {
	ingest := time.Now()
	if layout == "block" {
		v := appendBlockHeader(nil, blockHeader{FirstSeq: seq, Count: uint64(len(recs)), IngestTime: ingest, ContentType: event.ContentTypeJSON})
		for _, r := range recs {
			v = append(v, r...)
		}
		if err := txn.Set(blockKey(1, seq+uint64(len(recs))-1), v); err != nil {
			b.Fatal(err)
		}
		return seq + uint64(len(recs))
	}
	for _, r := range recs {
		v := appendBlockHeader(nil, blockHeader{FirstSeq: seq, Count: 1, IngestTime: ingest, ContentType: event.ContentTypeJSON})
		if err := txn.Set(blockKey(1, seq), append(v, r...)); err != nil {
			b.Fatal(err)
		}
		seq++
	}
	return seq
}

// layoutRead decodes n events from seq from; both layouts share the seek.
func layoutRead(b *testing.B, db *badger.DB, from uint64, n int) int {
	got := 0
	var scratch []byte
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 16, Prefix: idPrefix(spaceBlock, 1)})
		defer it.Close()
		for it.Seek(blockKey(1, from)); it.Valid() && got < n; it.Next() {
			err := it.Item().Value(func(v []byte) error {
				c, err := openBlock(v, &scratch)
				if err != nil {
					return err
				}
				for c.more() && got < n {
					if c.seq() < from {
						if err := c.skip(); err != nil {
							return err
						}
						continue
					}
					var e event.Event
					if err := c.decode(&e); err != nil {
						return err
					}
					got++
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return got
}
