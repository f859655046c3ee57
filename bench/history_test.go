package bench

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/server"
)

// History tier workloads (see docs/benchmarks.md, "History tier").
const (
	// historyStreams is how many streams the events are spread over; one
	// appender per stream.
	historyStreams = 4
	// historyBatch is the number of events per Append.
	historyBatch = 1_000
	// historyPage is the catch-up Read's page: the API's largest limit.
	historyPage = 10_000
	// firstEventLimit is the small page of the time-to-first-event Read.
	firstEventLimit = 10
	// defaultHistoryEvents is how many events BenchmarkHistory rotates and
	// reads unless SILT_BENCH_HISTORY_EVENTS says otherwise.
	defaultHistoryEvents = 1_000_000
)

// historyIDs is SILT_BENCH_HISTORY_IDS: "server" (the default) lets the
// server make each event's ULID, as a client that sends no id does;
// "noprefix" sends client ids that share no prefix with the previous
// event's. Such ids dodged a bug fixed in 27acbe3 (arrow-go v18.4.1's
// DELTA_BYTE_ARRAY pages of the id column continued the previous page's
// prefix, so seeks into later pages failed); they stay so today's figures
// compare with the earlier ones (docs/benchmarks.md).
func historyIDs(tb testing.TB) string {
	tb.Helper()
	switch v := os.Getenv("SILT_BENCH_HISTORY_IDS"); v {
	case "", "server":
		return "server"
	case "noprefix":
		return v
	default:
		tb.Fatalf("SILT_BENCH_HISTORY_IDS=%q: want server or noprefix", v)
		return ""
	}
}

// noPrefixID is the id of event i of a stream under
// SILT_BENCH_HISTORY_IDS=noprefix: 26 characters like a ULID, unique in
// the stream, and its first character differs from event i-1's.
func noPrefixID(i int) string { return fmt.Sprintf("%c%025d", 'a'+i%26, i) }

// envCount returns the positive integer in the environment variable name,
// or def when it is unset.
func envCount(tb testing.TB, name string, def int) int {
	tb.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < historyStreams {
		tb.Fatalf("%s=%q: want an integer of at least %d", name, s, historyStreams)
	}
	return n
}

// historyConfig is an in-process server for the history benchmarks: acks
// without fsync, and no background rotation (neither by age nor by size),
// so that the only rotation is the one the benchmark asks for.
func historyConfig(dir string) server.Config {
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.Sync = false
	cfg.RotateAfter = 0
	cfg.HotMaxBytes = 0
	cfg.Logger = slog.New(slog.DiscardHandler)
	return cfg
}

// historyData is what fillHistory appended.
type historyData struct {
	streams []string
	counts  []int // events per stream
	events  int
	// dataJSON is the bytes of the events' JSON payloads (the data alone);
	// eventJSON the bytes of each whole event written as one JSON document
	// (type, source, attributes, metrics, data), as the NATS benchmarks send.
	dataJSON, eventJSON int64
}

// fillHistory creates historyStreams streams and appends n events over
// them, one appender per stream, in batches of historyBatch binary_data
// events. Event i of stream k is samplePool[(k*per+i) % len], so the
// streams cycle through the pool from different places.
func fillHistory(tb testing.TB, c *siltClient, n int, ids string) historyData {
	tb.Helper()
	ctx := context.Background()
	d := historyData{events: n}
	per := n / historyStreams
	for k := range historyStreams {
		s, err := c.NewStream(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		cnt := per
		if k == historyStreams-1 {
			cnt = n - per*(historyStreams-1)
		}
		d.streams = append(d.streams, s)
		d.counts = append(d.counts, cnt)
	}
	var wg sync.WaitGroup
	errs := make([]error, historyStreams)
	for k := range historyStreams {
		wg.Go(func() {
			base := k * per
			for off := 0; off < d.counts[k]; off += historyBatch {
				evs := batch(base+off, min(historyBatch, d.counts[k]-off))
				var err error
				if ids == "noprefix" {
					err = appendWithIDs(ctx, c, d.streams[k], evs, off)
				} else {
					err = c.AppendBatch(ctx, d.streams[k], evs)
				}
				if err != nil {
					errs[k] = fmt.Errorf("append to %s at %d: %w", d.streams[k], off, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			tb.Fatal(err)
		}
	}
	for k := range historyStreams {
		for i := range d.counts[k] {
			s := &samplePool[(k*per+i)%len(samplePool)]
			d.dataJSON += int64(s.dataLen)
			d.eventJSON += int64(len(s.nats))
		}
	}
	return d
}

// appendWithIDs appends evs as binary_data events whose ids are
// noPrefixID(first), noPrefixID(first+1), …
func appendWithIDs(ctx context.Context, c *siltClient, stream string, evs []*sample, first int) error {
	in := make([]*siltv1.EventInput, len(evs))
	for i, s := range evs {
		b := s.bin
		in[i] = &siltv1.EventInput{
			Id: noPrefixID(first + i), Type: b.GetType(), Source: b.Source,
			Attributes: b.GetAttributes(), Metrics: b.GetMetrics(),
			Payload: b.GetPayload(), ContentType: b.GetContentType(),
		}
	}
	res, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: benchProject, Stream: stream, Events: in}))
	if err != nil {
		return err
	}
	if got := res.Msg.GetLastSeq() - res.Msg.GetFirstSeq() + 1; got != uint64(len(evs)) {
		return fmt.Errorf("appended %d events, acknowledged %d", len(evs), got)
	}
	return nil
}

// dirSize returns the apparent size (sum of file lengths) and the
// allocated size (blocks on disk) of the files under dir. Badger's live
// memtable and value-log files are preallocated, mostly sparse mmaps, so
// the two differ while a server runs.
func dirSize(tb testing.TB, dir string) (apparent, allocated int64) {
	tb.Helper()
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		apparent += fi.Size()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			allocated += st.Blocks * 512
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return apparent, allocated
}

// segmentTotals sums the rows and bytes of the project's segments as
// ListSegments reports them.
func segmentTotals(tb testing.TB, c *siltClient) (rows, bytes int64, segments int) {
	tb.Helper()
	res, err := c.admin.ListSegments(context.Background(), connect.NewRequest(&siltv1.ListSegmentsRequest{Project: benchProject}))
	if err != nil {
		tb.Fatal(err)
	}
	for _, s := range res.Msg.GetSegments() {
		rows += s.GetRows()
		bytes += s.GetBytes()
	}
	return rows, bytes, len(res.Msg.GetSegments())
}

// coldFixture is a running server whose streams are all in segments.
type coldFixture struct {
	dir  string
	cfg  server.Config
	e    *siltEngine
	data historyData
	// restarted is set once the server was restarted for the first read
	// after a restart; firstAfterRestart is that read's latency.
	restarted         bool
	firstAfterRestart time.Duration
}

func (f *coldFixture) close() {
	f.e.Close()
	_ = os.RemoveAll(f.dir)
}

// rotationRound is one measured rotation.
type rotationRound struct {
	took, cpu time.Duration
	// hotLive is the hot dir's allocated size with the server running,
	// hotFlushed its apparent size after a graceful stop (memtable flushed
	// to an SSTable, value log truncated to its end), both before the
	// rotation.
	hotLive, hotFlushed int64
	parquet             int64
	segments            int
}

// rotateFresh starts a server in a new dir under root, appends n events,
// stops it gracefully (which flushes Badger's memtable), measures the hot
// dir, starts it again on the same dir and times one Rotate through the
// admin API. The timer runs only around Rotate.
func rotateFresh(b *testing.B, root string, n int, ids string) (*coldFixture, rotationRound) {
	b.Helper()
	dir, err := os.MkdirTemp(root, "silt-")
	if err != nil {
		b.Fatal(err)
	}
	f := &coldFixture{dir: dir, cfg: historyConfig(dir)}
	e := startSiltConfig(b, f.cfg, false, httpProto())
	f.data = fillHistory(b, e.siltClient, n, ids)
	var r rotationRound
	hot := filepath.Join(dir, "hot")
	_, r.hotLive = dirSize(b, hot)
	e.Close()
	r.hotFlushed, _ = dirSize(b, hot)
	f.e = startSiltConfig(b, f.cfg, false, httpProto())

	cpu := startCPU()
	b.StartTimer()
	t0 := time.Now()
	res, err := f.e.admin.Rotate(context.Background(), connect.NewRequest(&siltv1.RotateRequest{Project: benchProject}))
	r.took = time.Since(t0)
	b.StopTimer()
	r.cpu = cpu.used()
	if err != nil {
		f.close()
		b.Fatal(err)
	}
	var rotated int64
	for _, s := range res.Msg.GetSegments() {
		rotated += s.GetRows()
	}
	rows, bytes, segs := segmentTotals(b, f.e.siltClient)
	if rotated != int64(n) || rows != int64(n) {
		f.close()
		b.Fatalf("rotated %d events, segments list %d, want %d", rotated, rows, n)
	}
	r.parquet, r.segments = bytes, segs
	return f, r
}

// readFailure adds, to a Read error that says a segment is corrupt, the
// bug that once caused it.
func readFailure(err error) error {
	if strings.Contains(err.Error(), "segment is corrupt") {
		return fmt.Errorf("%w\n(segments written before 27acbe3 have broken id pages; see docs/benchmarks.md, \"History tier\")", err)
	}
	return err
}

// BenchmarkHistory measures the history tier through the API of a real
// server on loopback (sync off, no background rotation): one forced
// rotation of SILT_BENCH_HISTORY_EVENTS (default 1,000,000) analytics
// events over 4 streams into Parquet, the bytes per event of each form,
// then catch-up reads and time to first event from those cold segments.
// SILT_BENCH_HISTORY_IDS picks who makes the event ids (see historyIDs).
func BenchmarkHistory(b *testing.B) {
	n := envCount(b, "SILT_BENCH_HISTORY_EVENTS", defaultHistoryEvents)
	ids := historyIDs(b)
	root := b.TempDir()
	var fx *coldFixture
	defer func() {
		if fx != nil {
			fx.close()
		}
	}()
	// cold returns the fixture, rotating a fresh one if the rotate
	// sub-benchmark did not run (e.g. -bench 'History/op=catchup').
	cold := func(b *testing.B) *coldFixture {
		if fx == nil {
			b.StopTimer()
			fx, _ = rotateFresh(b, root, n, ids)
			b.StartTimer()
		}
		return fx
	}

	b.Run(fmt.Sprintf("op=rotate/events=%d/ids=%s", n, ids), func(b *testing.B) {
		b.StopTimer()
		var sum rotationRound
		var data historyData
		for range b.N {
			if fx != nil {
				fx.close()
				fx = nil
			}
			f, r := rotateFresh(b, root, n, ids)
			fx, data = f, f.data
			sum.took += r.took
			sum.cpu += r.cpu
			sum.hotLive += r.hotLive
			sum.hotFlushed += r.hotFlushed
			sum.parquet += r.parquet
			sum.segments += r.segments
		}
		events := float64(b.N * n)
		b.ReportMetric(events/sum.took.Seconds(), "events/s")
		b.ReportMetric(events/sum.cpu.Seconds(), "events/cpu-s")
		b.ReportMetric(float64(b.N)*float64(data.dataJSON)/1e6/sum.took.Seconds(), "json-MB/s")
		b.ReportMetric(float64(sum.parquet)/events, "parquet-B/event")
		b.ReportMetric(float64(sum.hotFlushed)/events, "badger-B/event")
		b.ReportMetric(float64(sum.hotLive)/events, "badger-live-B/event")
		b.ReportMetric(float64(data.dataJSON)/float64(n), "data-json-B/event")
		b.ReportMetric(float64(data.eventJSON)/float64(n), "event-json-B/event")
		b.ReportMetric(float64(sum.segments)/float64(b.N), "segments")
	})

	// Catch-up: every stream from seq 1 in pages of 10,000 with raw_json,
	// by the benchmark's binary client; one op reads all n events. Once
	// with gzip accepted (the default client), once without.
	for _, gz := range []bool{true, false} {
		b.Run(fmt.Sprintf("op=catchup/page=%d/gzip=%t/ids=%s", historyPage, gz, ids), func(b *testing.B) {
			f := cold(b)
			c := f.e.siltClient
			if !gz {
				c = newSiltClient(f.e.srv.Addr(), httpProto()+"-identity", false)
				defer c.httpc.CloseIdleConnections()
			}
			ctx := context.Background()
			b.ResetTimer()
			cpu := startCPU()
			for range b.N {
				for k, s := range f.data.streams {
					got, err := c.ReadAll(ctx, s, historyPage, f.data.counts[k])
					if err != nil {
						b.Fatal(readFailure(err))
					}
					if got != f.data.counts[k] {
						b.Fatalf("read %d events of %s, want %d", got, s, f.data.counts[k])
					}
				}
			}
			reportRate(b, b.N*f.data.events, cpu)
		})
	}

	// Catch-up by Subscribe: every stream from seq 1 until the caught-up
	// marker, uncompressed; the server streams batches of 1,000 while the
	// client decodes, so the two overlap where a Read loop takes turns.
	b.Run(fmt.Sprintf("op=catchup-subscribe/gzip=false/ids=%s", ids), func(b *testing.B) {
		f := cold(b)
		c := newSiltClient(f.e.srv.Addr(), httpProto()+"-identity", false)
		defer c.httpc.CloseIdleConnections()
		ctx := context.Background()
		b.ResetTimer()
		cpu := startCPU()
		for range b.N {
			for k, s := range f.data.streams {
				got, err := c.SubscribeBacklog(ctx, s)
				if err != nil {
					b.Fatal(readFailure(err))
				}
				if got != f.data.counts[k] {
					b.Fatalf("subscribe delivered %d events of %s before caught up, want %d", got, s, f.data.counts[k])
				}
			}
		}
		reportRate(b, b.N*f.data.events, cpu)
	})

	// Time to first event: a Read of firstEventLimit events from a random
	// seq of a random stream, all cold. One op is one Read; its latency is
	// from the call to the response (a Read is unary, so its first event
	// arrives with its last). first-after-restart-ms is the very first such
	// Read after a server restart, which opens the segment and checks its
	// row group's CRC (the page cache stays warm).
	b.Run(fmt.Sprintf("op=first-event/limit=%d/ids=%s", firstEventLimit, ids), func(b *testing.B) {
		f := cold(b)
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(3, 4))
		read := func(b *testing.B) time.Duration {
			k := rng.IntN(len(f.data.streams))
			seq := 1 + rng.Uint64N(uint64(f.data.counts[k]))
			t0 := time.Now()
			res, err := f.e.events.Read(ctx, connect.NewRequest(&siltv1.ReadRequest{
				Project: benchProject, Stream: f.data.streams[k],
				Start: &siltv1.ReadRequest_FromSeq{FromSeq: seq}, Limit: firstEventLimit, RawJson: true,
			}))
			d := time.Since(t0)
			if err != nil {
				b.Fatal(readFailure(err))
			}
			evs := res.Msg.GetEvents()
			if len(evs) == 0 || evs[0].GetSeq() != seq {
				b.Fatalf("read from seq %d of %s: got %d events, want them to start there", seq, f.data.streams[k], len(evs))
			}
			if ids == "noprefix" {
				for _, ev := range evs {
					if want := noPrefixID(int(ev.GetSeq()) - 1); ev.GetId() != want {
						b.Fatalf("%s/%d has id %q, appended with %q", f.data.streams[k], ev.GetSeq(), ev.GetId(), want)
					}
				}
			}
			return d
		}
		if !f.restarted {
			b.StopTimer()
			f.e.Close()
			f.e = startSiltConfig(b, f.cfg, false, httpProto())
			f.firstAfterRestart = read(b)
			f.restarted = true
			b.StartTimer()
		}
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		cpu := startCPU()
		for range b.N {
			lat = append(lat, read(b))
		}
		b.StopTimer()
		reportLatency(b, lat)
		// CPU of client and server per Read, which a busy machine disturbs
		// far less than the latency.
		b.ReportMetric(float64(cpu.used())/float64(time.Millisecond)/float64(b.N), "cpu-ms/read")
		b.ReportMetric(float64(f.firstAfterRestart)/float64(time.Millisecond), "first-after-restart-ms")
	})
}
