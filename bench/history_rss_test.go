package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// defaultRSSEvents is how many events BenchmarkHistoryRotateRSS rotates
// unless SILT_BENCH_RSS_EVENTS says otherwise (the figure is
// 10,000,000, which takes minutes).
const defaultRSSEvents = 1_000_000

// BenchmarkHistoryRotateRSS measures the peak resident memory of a `silt
// serve` child process (the product's cmd/silt, built with `go build` from
// the product module) while it rotates SILT_BENCH_RSS_EVENTS events: the
// benchmark appends them over loopback (--sync=false, no background
// rotation), reads the child's VmHWM, resets it (/proc/<pid>/clear_refs),
// forces a Rotate through the admin API and reads VmHWM again, sampling
// VmRSS, RssAnon and RssFile every 10 ms during the appends and the
// rotation. The timer runs only around Rotate. Only the child's memory is
// measured; the client is this process. RssFile is mostly Badger's
// memory-mapped value log and memtables: clean pages the kernel can
// reclaim, but VmHWM counts them.
func BenchmarkHistoryRotateRSS(b *testing.B) {
	n := envCount(b, "SILT_BENCH_RSS_EVENTS", defaultRSSEvents)
	bin := buildSilt(b)
	b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
		b.StopTimer()
		var worst rssRound
		var took time.Duration
		for range b.N {
			r := rotateChild(b, bin, n)
			took += r.took
			worst = worst.max(r)
		}
		mib := func(v int64) float64 { return float64(v) / (1 << 20) }
		b.ReportMetric(float64(b.N*n)/took.Seconds(), "events/s")
		b.ReportMetric(mib(worst.fillPeak), "fill-peak-MiB")
		b.ReportMetric(mib(worst.fillMaxAnon), "fill-max-anon-MiB")
		b.ReportMetric(mib(worst.preRSS), "pre-rotate-rss-MiB")
		b.ReportMetric(mib(worst.preAnon), "pre-rotate-anon-MiB")
		b.ReportMetric(mib(worst.preFile), "pre-rotate-file-MiB")
		b.ReportMetric(mib(worst.rotatePeak), "rotate-peak-MiB")
		b.ReportMetric(mib(worst.maxAnon), "rotate-max-anon-MiB")
		b.ReportMetric(mib(worst.maxFile), "rotate-max-file-MiB")
		b.ReportMetric(float64(worst.parquet)/float64(n), "parquet-B/event")
		if !worst.reset {
			b.Log("could not reset VmHWM before the rotation: rotate-peak-MiB is the peak since the child started")
		}
	})
}

// buildSilt builds the product's cmd/silt (from the module this benchmark
// module replaces) into a temporary dir and returns the binary's path.
func buildSilt(tb testing.TB) string {
	tb.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		tb.Fatal(err)
	}
	bin := filepath.Join(tb.TempDir(), "silt")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/silt")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build ./cmd/silt: %v\n%s", err, out)
	}
	return bin
}

// rssRound is one child's memory figures, in bytes.
type rssRound struct {
	took time.Duration
	// fillPeak is VmHWM after the appends; preRSS, preAnon and preFile
	// are VmRSS, RssAnon and RssFile then; fillMaxAnon is the largest
	// RssAnon sampled during the appends.
	fillPeak, preRSS, preAnon, preFile, fillMaxAnon int64
	// rotatePeak is VmHWM after the rotation, reset just before it when
	// reset is true.
	rotatePeak int64
	reset      bool
	// maxAnon and maxFile are the largest RssAnon and RssFile sampled
	// during the rotation.
	maxAnon, maxFile int64
	parquet          int64
}

func (r rssRound) max(o rssRound) rssRound {
	r.fillPeak = max(r.fillPeak, o.fillPeak)
	r.preRSS = max(r.preRSS, o.preRSS)
	r.preAnon = max(r.preAnon, o.preAnon)
	r.preFile = max(r.preFile, o.preFile)
	r.fillMaxAnon = max(r.fillMaxAnon, o.fillMaxAnon)
	r.rotatePeak = max(r.rotatePeak, o.rotatePeak)
	r.maxAnon = max(r.maxAnon, o.maxAnon)
	r.maxFile = max(r.maxFile, o.maxFile)
	r.parquet = max(r.parquet, o.parquet)
	r.reset = o.reset
	return r
}

// rotateChild runs one child server in a fresh dir: append n events,
// rotate, measure, stop.
func rotateChild(b *testing.B, bin string, n int) rssRound {
	b.Helper()
	child := startSiltChild(b, bin, b.TempDir())
	defer child.stop(b)
	c := newSiltClient(child.addr, httpProto(), false)
	defer c.httpc.CloseIdleConnections()
	pid := child.cmd.Process.Pid
	var r rssRound

	stopFill := sampleMem(pid)
	fillHistory(b, c, n, "server")
	r.fillMaxAnon = stopFill().anon
	st := readMemStatus(b, pid)
	r.fillPeak, r.preRSS, r.preAnon, r.preFile = st.hwm, st.rss, st.anon, st.file
	// Writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS.
	r.reset = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil

	stopRotate := sampleMem(pid)
	b.StartTimer()
	t0 := time.Now()
	res, err := c.admin.Rotate(context.Background(), connect.NewRequest(&siltv1.RotateRequest{Project: benchProject}))
	r.took = time.Since(t0)
	b.StopTimer()
	m := stopRotate()
	if err != nil {
		b.Fatal(err)
	}
	r.rotatePeak = readMemStatus(b, pid).hwm
	r.maxAnon, r.maxFile = m.anon, m.file
	var rows int64
	for _, s := range res.Msg.GetSegments() {
		rows += s.GetRows()
		r.parquet += s.GetBytes()
	}
	if rows != int64(n) {
		b.Fatalf("rotated %d events, want %d", rows, n)
	}
	return r
}

// sampleMem reads pid's memory every 10 ms until the returned function
// is called, which returns the largest RSS, RssAnon and RssFile seen
// (each on its own).
func sampleMem(pid int) (stop func() memStatus) {
	done := make(chan struct{})
	sampled := make(chan memStatus, 1)
	go func() {
		var m memStatus
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if s, err := memStatusOf(pid); err == nil {
				m.rss, m.anon, m.file = max(m.rss, s.rss), max(m.anon, s.anon), max(m.file, s.file)
			}
			select {
			case <-done:
				sampled <- m
				return
			case <-t.C:
			}
		}
	}()
	return func() memStatus {
		close(done)
		return <-sampled
	}
}

// memStatus is a process's memory from /proc/<pid>/status, in bytes.
type memStatus struct{ hwm, rss, anon, file int64 }

func readMemStatus(tb testing.TB, pid int) memStatus {
	tb.Helper()
	s, err := memStatusOf(pid)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func memStatusOf(pid int) (memStatus, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memStatus{}, err
	}
	var m memStatus
	for line := range strings.Lines(string(raw)) {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *int64
		switch key {
		case "VmHWM":
			dst = &m.hwm
		case "VmRSS":
			dst = &m.rss
		case "RssAnon":
			dst = &m.anon
		case "RssFile":
			dst = &m.file
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(val), "kB")), 10, 64)
		if err != nil {
			return memStatus{}, fmt.Errorf("parse %s in /proc/%d/status: %w", key, pid, err)
		}
		*dst = kb << 10
	}
	if m.hwm == 0 {
		return memStatus{}, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
	}
	return m, nil
}

// siltChild is a `silt serve` child process on a loopback port.
type siltChild struct {
	cmd  *exec.Cmd
	addr string
	done chan error
	mu   sync.Mutex
	tail []string // the last lines of its log, for failures
}

// startSiltChild starts bin serve on 127.0.0.1 (a port the kernel picks,
// read from the "silt serving" log line) with data in dir: no fsync before
// acks and no background rotation.
// Later flags in extra override those.
func startSiltChild(tb testing.TB, bin, dir string, extra ...string) *siltChild {
	tb.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dir,
		"--sync=false", "--rotate-after", "0", "--hot-max-bytes", "0", "--log-format", "json"}, extra...)
	cmd := exec.Command(bin, args...)
	// SILT_BENCH_CHILD_GOMEMLIMIT sets the child's GOMEMLIMIT (Go's soft
	// memory limit), as an operator running Silt in a container would.
	if lim := os.Getenv("SILT_BENCH_CHILD_GOMEMLIMIT"); lim != "" {
		cmd.Env = append(os.Environ(), "GOMEMLIMIT="+lim)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	c := &siltChild{cmd: cmd, done: make(chan error, 1)}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		logf := io.Discard
		// SILT_BENCH_CHILD_LOG names a file that gets the child's whole log.
		if path := os.Getenv("SILT_BENCH_CHILD_LOG"); path != "" {
			if f, err := os.Create(path); err == nil {
				defer f.Close()
				logf = f
			}
		}
		for sc.Scan() {
			line := sc.Bytes()
			c.keep(string(line))
			_, _ = fmt.Fprintf(logf, "%s\n", line)
			var m struct{ Msg, Addr string }
			if bytes.Contains(line, []byte("silt serving")) && json.Unmarshal(line, &m) == nil && m.Msg == "silt serving" {
				select {
				case addrc <- m.Addr:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		c.done <- cmd.Wait()
	}()
	select {
	case c.addr = <-addrc:
		return c
	case err := <-c.done:
		tb.Fatalf("silt serve exited before serving: %v\n%s", err, c.log())
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-c.done
		tb.Fatalf("silt serve did not start in 30 s\n%s", c.log())
	}
	return nil
}

func (c *siltChild) keep(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tail = append(c.tail, line)
	if len(c.tail) > 20 {
		c.tail = c.tail[1:]
	}
}

func (c *siltChild) log() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.tail, "\n")
}

// stop asks the child to stop (SIGTERM: a graceful stop) and kills it if
// it has not exited within a minute.
func (c *siltChild) stop(tb testing.TB) {
	tb.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.done:
		if err != nil {
			tb.Logf("silt serve: %v\n%s", err, c.log())
		}
	case <-time.After(time.Minute):
		_ = c.cmd.Process.Kill()
		<-c.done
		tb.Logf("silt serve did not stop in a minute; killed\n%s", c.log())
	}
}
