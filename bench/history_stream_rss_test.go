package bench

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// Defaults of BenchmarkHistoryStreamRSS; SILT_BENCH_STREAM_EVENTS and
// SILT_BENCH_STREAM_RATE override the first two.
const (
	defaultStreamEvents = 1_000_000
	defaultStreamRate   = 40_000 // events/s, below the rotator's ~72k/s
)

// BenchmarkHistoryStreamRSS measures the peak resident memory of a `silt
// serve` child that rotates as it goes: SILT_BENCH_STREAM_EVENTS events
// arrive at a steady SILT_BENCH_STREAM_RATE events/s (4 clients, batches
// of 1,000, durable acks) while the background rotator seals them into
// Parquet under the server's default thresholds (--rotate-after 1m,
// --hot-max-bytes 256 MiB; SILT_BENCH_STREAM_HOT_MAX sets another size in
// bytes), until every event is in a segment. Memory is
// sampled every 10 ms from the start; VmHWM is read at the end. Where
// BenchmarkHistoryRotateRSS asks how much one rotation of N hot events
// costs, this asks whether a server that rotates as it ingests stays
// bounded as N grows.
func BenchmarkHistoryStreamRSS(b *testing.B) {
	n := envCount(b, "SILT_BENCH_STREAM_EVENTS", defaultStreamEvents)
	rate := envCount(b, "SILT_BENCH_STREAM_RATE", defaultStreamRate)
	hotMax := envCount(b, "SILT_BENCH_STREAM_HOT_MAX", 256<<20)
	bin := buildSilt(b)
	b.Run(fmt.Sprintf("events=%d/rate=%d/hot-max-MiB=%d", n, rate, hotMax>>20), func(b *testing.B) {
		b.StopTimer()
		for range b.N {
			dir := b.TempDir()
			child := startSiltChild(b, bin, dir, "--sync=true", "--rotate-after", "1m",
				"--hot-max-bytes", strconv.Itoa(hotMax), "--history-interval", "0")
			c := newSiltClient(child.addr, httpProto(), false)
			pid := child.cmd.Process.Pid
			stop := sampleMem(pid)
			b.StartTimer()
			t0 := time.Now()
			streamAppends(b, c, n, rate)
			appended := time.Since(t0)
			rotated := waitRotated(b, c, n)
			b.StopTimer()
			m := stop()
			st := readMemStatus(b, pid)
			hot := dirBytes(b, filepath.Join(dir, "hot"))
			c.httpc.CloseIdleConnections()
			child.stop(b)
			mib := func(v int64) float64 { return float64(v) / (1 << 20) }
			b.ReportMetric(float64(n)/appended.Seconds(), "appended-events/s")
			b.ReportMetric(rotated.Seconds(), "drain-s")
			b.ReportMetric(mib(st.hwm), "peak-MiB")
			b.ReportMetric(mib(m.anon), "max-anon-MiB")
			b.ReportMetric(mib(m.file), "max-file-MiB")
			b.ReportMetric(mib(hot), "hot-dir-end-MiB")
		}
	})
}

// streamAppends appends n events to 4 streams at rate events/s: batch i of
// 1,000 is due at start + i·1000/rate, and a client late for its batch
// sends it at once.
func streamAppends(b *testing.B, c *siltClient, n, rate int) {
	ctx := context.Background()
	streams := make([]string, historyStreams)
	for k := range streams {
		s, err := c.NewStream(ctx)
		if err != nil {
			b.Fatal(err)
		}
		streams[k] = s
	}
	batches := (n + historyBatch - 1) / historyBatch
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, historyStreams)
	for k := range historyStreams {
		wg.Go(func() {
			for i := k; i < batches; i += historyStreams {
				due := start.Add(time.Duration(float64(i*historyBatch) / float64(rate) * float64(time.Second)))
				time.Sleep(time.Until(due))
				cnt := min(historyBatch, n-i*historyBatch)
				if err := c.AppendBatch(ctx, streams[k], batch(i*historyBatch, cnt)); err != nil {
					errs[k] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
}

// waitRotated polls ListSegments until its rows reach n (the rotator has
// sealed every event) and returns how long that took after the appends.
func waitRotated(b *testing.B, c *siltClient, n int) time.Duration {
	t0 := time.Now()
	deadline := t0.Add(10 * time.Minute)
	for {
		res, err := c.admin.ListSegments(context.Background(), connect.NewRequest(&siltv1.ListSegmentsRequest{Project: benchProject}))
		if err != nil {
			b.Fatal(err)
		}
		var rows int64
		for _, s := range res.Msg.GetSegments() {
			rows += s.GetRows()
		}
		if rows >= int64(n) {
			return time.Since(t0)
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d events rotated after 10 minutes", rows, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// dirBytes is the disk space the files under dir take.
func dirBytes(tb testing.TB, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			n += st.Blocks * 512 // allocated, not apparent: Badger preallocates sparse files
		} else {
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}
