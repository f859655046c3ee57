// Package bench runs Silt and NATS JetStream side by side on the same
// workloads: both are real servers on loopback TCP in this process, Silt
// reached through its Connect client, NATS through nats.go. Results and the
// command that produced them are in docs/benchmarks.md.
package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Workload constants (see docs/benchmarks.md).
const (
	readStreamLen   = 100_000
	readPage        = 1_000
	subscribeRate   = 200 // events/s the writer of BenchmarkSubscribeLatency appends
	concurrentUsers = 64
	calibrateFor    = 2 * time.Second
)

// reportRate reports events/s of wall time and, from cpu (started with the
// timer), events per CPU-second of the whole process (client and server
// together), which a busy machine disturbs far less than wall time.
func reportRate(b *testing.B, events int, cpu cpuMeter) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	if used := cpu.used(); used > 0 {
		b.ReportMetric(float64(events)/used.Seconds(), "events/cpu-s")
	}
}

// cpuMeter measures the process's CPU time (user + system) since it started.
type cpuMeter struct{ start time.Duration }

func startCPU() cpuMeter { return cpuMeter{processCPU()} }

func (m cpuMeter) used() time.Duration { return processCPU() - m.start }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportLatency(b *testing.B, lat []time.Duration) {
	p50, p99 := quantiles(lat)
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
}

// forEngine starts each engine once, runs fn as the sub-benchmark
// "engine=<name>" against it, and stops it.
func forEngine(b *testing.B, fn func(b *testing.B, e engine)) {
	for _, spec := range engines() {
		e := spec.start(b)
		b.Run("engine="+spec.name, func(b *testing.B) { fn(b, e) })
		e.Close()
	}
}

func newStream(b *testing.B, e engine) string {
	b.Helper()
	s, err := e.NewStream(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkAppendBatch: clients goroutines each append batches of size
// events to one shared stream, waiting for each batch's ack before sending
// their next (clients=1 is one producer; clients=4 shows what pipelining
// several producers through the group commit adds).
func BenchmarkAppendBatch(b *testing.B) {
	for _, c := range []struct{ size, clients int }{{100, 1}, {1000, 1}, {1000, 4}, {1000, 16}} {
		b.Run(fmt.Sprintf("size=%d/clients=%d", c.size, c.clients), func(b *testing.B) {
			forEngine(b, func(b *testing.B, e engine) {
				ctx := context.Background()
				stream := newStream(b, e)
				var next atomic.Int64
				var failed atomic.Pointer[error]
				var wg sync.WaitGroup
				b.ResetTimer()
				cpu := startCPU()
				for range c.clients {
					wg.Go(func() {
						for {
							i := int(next.Add(1)) - 1
							if i >= b.N || failed.Load() != nil {
								return
							}
							if err := e.AppendBatch(ctx, stream, batch(i*c.size, c.size)); err != nil {
								failed.Store(&err)
								return
							}
						}
					})
				}
				wg.Wait()
				if err := failed.Load(); err != nil {
					b.Fatal(*err)
				}
				reportRate(b, b.N*c.size, cpu)
			})
		})
	}
}

// BenchmarkAppendSingle: clients goroutines each append one event at a
// time (closed loop) to one shared stream.
func BenchmarkAppendSingle(b *testing.B) {
	for _, clients := range []int{1, concurrentUsers} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			forEngine(b, func(b *testing.B, e engine) {
				stream := newStream(b, e)
				b.ResetTimer()
				cpu := startCPU()
				lat := closedLoop(b, e, stream, clients, b.N)
				b.StopTimer()
				reportRate(b, b.N, cpu)
				reportLatency(b, lat)
			})
		})
	}
}

// closedLoop runs n single-event appends spread over clients goroutines and
// returns every append's latency.
func closedLoop(tb testing.TB, e engine, stream string, clients, n int) []time.Duration {
	ctx := context.Background()
	var next atomic.Int64
	lats := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for c := range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || failed.Load() != nil {
					return
				}
				t0 := time.Now()
				if _, err := e.AppendOne(ctx, stream, &samplePool[i%len(samplePool)]); err != nil {
					failed.Store(&err)
					return
				}
				lats[c] = append(lats[c], time.Since(t0))
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		tb.Fatal(*err)
	}
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	return all
}

// BenchmarkRead: read a 100,000-event stream from the start in pages of
// 1,000 (Silt: Read; NATS: ordered consumer, Fetch(1000)). One op is one
// pass over the whole stream.
func BenchmarkRead(b *testing.B) {
	forEngine(b, func(b *testing.B, e engine) {
		ctx := context.Background()
		stream := fill(b, e, readStreamLen)
		b.ResetTimer()
		cpu := startCPU()
		for range b.N {
			n, err := e.ReadAll(ctx, stream, readPage, readStreamLen)
			if err != nil {
				b.Fatal(err)
			}
			if n != readStreamLen {
				b.Fatalf("read %d events, want %d", n, readStreamLen)
			}
		}
		reportRate(b, b.N*readStreamLen, cpu)
	})
}

// fill returns a new stream holding n events, appended in batches of 1,000.
// The stream is cached per engine so the b.N rounds share it.
func fill(b *testing.B, e engine, n int) string {
	b.Helper()
	fillMu.Lock()
	defer fillMu.Unlock()
	if s, ok := filled[e]; ok {
		return s
	}
	stream := newStream(b, e)
	for off := 0; off < n; off += 1000 {
		if err := e.AppendBatch(context.Background(), stream, batch(off, min(1000, n-off))); err != nil {
			b.Fatal(err)
		}
	}
	filled[e] = stream
	return stream
}

var (
	fillMu sync.Mutex
	filled = map[engine]string{}
)

// BenchmarkSubscribeLatency: a subscriber follows the stream live from its
// tail; one writer appends single events at subscribeRate events/s. The
// latency is from just before Append to the subscriber's receipt. One op is
// one event.
func BenchmarkSubscribeLatency(b *testing.B) {
	forEngine(b, func(b *testing.B, e engine) {
		ctx := context.Background()
		stream := newStream(b, e)
		var mu sync.Mutex
		recv := make(map[uint64]time.Time, b.N)
		all := make(chan struct{})
		want := uint64(b.N)
		stop, err := e.Subscribe(ctx, stream, func(seq uint64) {
			now := time.Now()
			mu.Lock()
			recv[seq] = now
			n := uint64(len(recv))
			mu.Unlock()
			if n == want {
				close(all)
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		defer stop()
		sent := make(map[uint64]time.Time, b.N)
		interval := time.Second / subscribeRate
		b.ResetTimer()
		start := time.Now()
		for i := range b.N {
			if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
				time.Sleep(d)
			}
			t0 := time.Now()
			seq, err := e.AppendOne(ctx, stream, &samplePool[i%len(samplePool)])
			if err != nil {
				b.Fatal(err)
			}
			sent[seq] = t0
		}
		select {
		case <-all:
		case <-time.After(30 * time.Second):
			b.Fatalf("subscriber got %d of %d events", len(recv), b.N)
		}
		b.StopTimer()
		mu.Lock()
		defer mu.Unlock()
		lat := make([]time.Duration, 0, b.N)
		for seq, t0 := range sent {
			t1, ok := recv[seq]
			if !ok {
				b.Fatalf("seq %d never reached the subscriber", seq)
			}
			lat = append(lat, t1.Sub(t0))
		}
		reportLatency(b, lat)
	})
}

// BenchmarkAppendLatencyHalfLoad: first measure the engine's 64-client
// single-event throughput (calibrateFor, closed loop), then offer half of
// it as open-loop load: append i is due at start + i/rate and is sent at
// that time on its own goroutine whether or not earlier ones have been
// acknowledged. Latency is from the due time to the ack, so a server that
// falls behind is charged for the queueing (no coordinated omission).
func BenchmarkAppendLatencyHalfLoad(b *testing.B) {
	for _, spec := range engines() {
		e := spec.start(b)
		stream := newStream(b, e)
		t0 := time.Now()
		n := 0
		for time.Since(t0) < calibrateFor {
			closedLoop(b, e, stream, concurrentUsers, 2000)
			n += 2000
		}
		rate := float64(n) / time.Since(t0).Seconds() / 2
		b.Run("engine="+spec.name, func(b *testing.B) {
			stream := newStream(b, e)
			b.ResetTimer()
			cpu := startCPU()
			lat := openLoop(b, e, stream, rate, b.N)
			b.StopTimer()
			reportRate(b, b.N, cpu)
			b.ReportMetric(rate, "offered-events/s")
			reportLatency(b, lat)
		})
		e.Close()
	}
}

// openLoop sends n single-event appends at rate events/s, each on its own
// goroutine at its due time, and returns each one's latency from its due
// time to its ack.
func openLoop(tb testing.TB, e engine, stream string, rate float64, n int) []time.Duration {
	ctx := context.Background()
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	var inflight atomic.Int64
	start := time.Now()
	for i := 0; i < n; {
		now := time.Now()
		// Send everything due by now, then sleep to the next due time.
		for ; i < n; i++ {
			due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			if due.After(now) {
				time.Sleep(due.Sub(now))
				break
			}
			if inflight.Add(1) > 20_000 {
				tb.Fatalf("more than 20,000 appends in flight at %.0f events/s: the engine cannot keep up", rate)
			}
			i := i
			wg.Go(func() {
				defer inflight.Add(-1)
				if _, err := e.AppendOne(ctx, stream, &samplePool[i%len(samplePool)]); err != nil {
					failed.Store(&err)
					return
				}
				lat[i] = time.Since(due)
			})
		}
		if failed.Load() != nil {
			break
		}
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		tb.Fatal(*err)
	}
	return lat
}

// BenchmarkSiltTransport compares the Connect client over h2c and over
// HTTP/1.1 against the durable server, to choose defaultHTTPProto, and
// shows what gzip of responses costs (the "-identity" clients do not accept
// gzip, so the server sends responses uncompressed).
func BenchmarkSiltTransport(b *testing.B) {
	for _, proto := range []string{"h2c", "http1", "h2c-identity"} {
		b.Run("proto="+proto, func(b *testing.B) {
			e := startSilt(b, true, false, proto)
			defer e.Close()
			b.Run("workload=batch1000", func(b *testing.B) {
				stream := newStream(b, e)
				b.ResetTimer()
				cpu := startCPU()
				for i := range b.N {
					if err := e.AppendBatch(context.Background(), stream, batch(i*1000, 1000)); err != nil {
						b.Fatal(err)
					}
				}
				reportRate(b, b.N*1000, cpu)
			})
			b.Run("workload=single64", func(b *testing.B) {
				stream := newStream(b, e)
				b.ResetTimer()
				cpu := startCPU()
				lat := closedLoop(b, e, stream, concurrentUsers, b.N)
				b.StopTimer()
				reportRate(b, b.N, cpu)
				reportLatency(b, lat)
			})
			b.Run("workload=read", func(b *testing.B) {
				stream := fill(b, e, readStreamLen)
				b.ResetTimer()
				cpu := startCPU()
				for range b.N {
					if _, err := e.ReadAll(context.Background(), stream, readPage, readStreamLen); err != nil {
						b.Fatal(err)
					}
				}
				reportRate(b, b.N*readStreamLen, cpu)
			})
		})
	}
}
