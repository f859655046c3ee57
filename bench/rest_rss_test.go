package bench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/silt-io/silt/pkg/server"
)

// Defaults of BenchmarkRestRSS; SILT_BENCH_REST_EVENTS and
// SILT_BENCH_REST_SETTLE override them.
const (
	defaultRestEvents = 300_000
	// defaultRestSettle outlasts the storage engine's compactions after the
	// load (about 10 s here) and a look of Silt's memory trimmer (5 s).
	defaultRestSettle = 20 * time.Second
	// defaultSealedSettle outlasts pkg/segment's encodersIdle (30 s), after
	// which a server that has stopped rotating frees its zstd encoders.
	defaultSealedSettle = 40 * time.Second
)

// natsChildEnv, when set to a directory, makes the test binary run an
// embedded nats-server with JetStream file storage in that directory
// instead of its tests (see TestMain): BenchmarkRestRSS measures NATS in a
// process of its own, as it measures Silt.
const natsChildEnv = "SILT_BENCH_NATS_CHILD_DIR"

// TestMain runs the NATS child when natsChildEnv says so, else the tests
// and benchmarks.
func TestMain(m *testing.M) {
	if dir := os.Getenv(natsChildEnv); dir != "" {
		os.Exit(serveNATSChild(dir))
	}
	os.Exit(m.Run())
}

// BenchmarkRestRSS measures what a server holds in memory at rest after a
// small deployment's load: SILT_BENCH_REST_EVENTS (300,000) single-event
// appends of the ~200-byte samples from 64 concurrent clients (closed loop,
// one stream), then the client disconnects and the benchmark waits
// SILT_BENCH_REST_SETTLE (20 s) for background work to finish and reads
// the server's VmRSS, RssAnon, RssFile and VmHWM, and its mapped memory by
// kind from /proc/<pid>/smaps; for Silt it then waits until the rotator
// has sealed every event into Parquet (--rotate-after, 1 minute, after the
// last append), waits SILT_BENCH_REST_SEALED_SETTLE (40 s) and reads the
// sealed-* figures. Both servers
// run as child processes of their own, so the figures are comparable:
//
//   - engine=silt: `silt serve` (go build ./cmd/silt) with the server's
//     default flags (durable acks, default rotation thresholds); only
//     --addr, --data and the log format are set. SILT_BENCH_REST_ARGS
//     adds flags (space-separated), e.g. "--memory-limit 134217728".
//   - engine=nats: this test binary re-executed as an embedded nats-server
//     (JetStream, file storage, default sync: fsync every 2 minutes), one
//     stream; the client is nats.go's synchronous Publish.
//
// The timer runs around the appends, so ns/op is the load's wall time.
func BenchmarkRestRSS(b *testing.B) {
	n := envCount(b, "SILT_BENCH_REST_EVENTS", defaultRestEvents)
	settle := envDuration(b, "SILT_BENCH_REST_SETTLE", defaultRestSettle)
	sealedSettle := envDuration(b, "SILT_BENCH_REST_SEALED_SETTLE", defaultSealedSettle)
	bin := buildSilt(b)
	b.Run("engine=silt", func(b *testing.B) {
		b.StopTimer()
		for range b.N {
			child := startSiltChild(b, bin, b.TempDir(), siltDefaultFlags()...)
			c := &siltRemote{newSiltClient(child.addr, httpProto(), false)}
			pid := child.cmd.Process.Pid
			r := restRun(b, c, pid, n, settle)
			var err error
			// Then until the rotator has sealed every event (--rotate-after
			// after its append), and settle again.
			waitRotated(b, c.siltClient, n)
			c.Close()
			time.Sleep(sealedSettle)
			r.sealed = readMemStatus(b, pid)
			if r.sealedMapped, err = smapsByKind(pid); err != nil {
				b.Fatal(err)
			}
			r.report(b)
			child.stop(b)
		}
	})
	b.Run("engine=nats", func(b *testing.B) {
		b.StopTimer()
		for range b.N {
			child := startNATSChild(b, b.TempDir())
			e := connectNATS(b, child.url)
			restRun(b, e, child.cmd.Process.Pid, n, settle).report(b)
			child.stop(b)
		}
	})
}

// envDuration is the duration in the environment variable name, or def.
func envDuration(tb testing.TB, name string, def time.Duration) time.Duration {
	tb.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		tb.Fatalf("%s=%q: %v", name, s, err)
	}
	return d
}

// siltDefaultFlags are the flags that undo startSiltChild's benchmark
// settings (no fsync, no rotation) back to the server's defaults, plus
// SILT_BENCH_REST_ARGS.
func siltDefaultFlags() []string {
	cfg := server.DefaultConfig()
	flags := []string{
		"--sync=" + strconv.FormatBool(cfg.Sync),
		"--rotate-after", cfg.RotateAfter.String(),
		"--hot-max-bytes", strconv.FormatUint(cfg.HotMaxBytes, 10),
	}
	return append(flags, strings.Fields(os.Getenv("SILT_BENCH_REST_ARGS"))...)
}

// siltRemote is a Silt client as an engine whose server runs elsewhere.
type siltRemote struct{ *siltClient }

func (c *siltRemote) Close() { c.httpc.CloseIdleConnections() }

// restRound is one server's figures, in bytes.
type restRound struct {
	rate float64
	// loadMax is the largest RSS, RssAnon and RssFile sampled during the
	// appends; rest is /proc/<pid>/status after the settle (hwm: the peak
	// since the process started).
	loadMax, rest memStatus
	// sealed is /proc/<pid>/status once every event is in a segment and
	// the settle has passed again (Silt only).
	sealed       memStatus
	sealedMapped map[string]int64
	// mapped is the resident memory after the settle by kind of mapping.
	mapped map[string]int64
}

// restRun appends n single events to a new stream of e from
// concurrentUsers clients, closes e's client, waits settle and reads pid's
// memory.
func restRun(b *testing.B, e engine, pid, n int, settle time.Duration) restRound {
	b.Helper()
	stream := newStream(b, e)
	stop := sampleMem(pid)
	b.StartTimer()
	t0 := time.Now()
	closedLoop(b, e, stream, concurrentUsers, n)
	took := time.Since(t0)
	b.StopTimer()
	r := restRound{rate: float64(n) / took.Seconds(), loadMax: stop()}
	e.Close()
	time.Sleep(settle)
	r.rest = readMemStatus(b, pid)
	mapped, err := smapsByKind(pid)
	if err != nil {
		b.Fatal(err)
	}
	r.mapped = mapped
	return r
}

func (r restRound) report(b *testing.B) {
	b.ReportMetric(r.rate, "events/s")
	b.ReportMetric(mib(r.rest.hwm), "peak-MiB")
	b.ReportMetric(mib(r.loadMax.anon), "load-max-anon-MiB")
	reportMem(b, "rest", r.rest, r.mapped)
	if r.sealed.rss > 0 {
		reportMem(b, "sealed", r.sealed, r.sealedMapped)
	}
}

// reportMem reports one reading of a server's memory: RSS, its anonymous
// and file-backed parts and the mapped memory by kind, named prefix-….
func reportMem(b *testing.B, prefix string, st memStatus, mapped map[string]int64) {
	b.ReportMetric(mib(st.rss), prefix+"-rss-MiB")
	b.ReportMetric(mib(st.anon), prefix+"-anon-MiB")
	b.ReportMetric(mib(st.file), prefix+"-file-MiB")
	for _, k := range mappingKinds {
		if v := mapped[k]; v > 0 {
			b.ReportMetric(mib(v), prefix+"-"+k+"-MiB")
		}
	}
}

// mib is bytes in MiB.
func mib(v int64) float64 { return float64(v) / (1 << 20) }

// mappingKinds are the kinds smapsByKind sorts mappings into: Badger's
// value-log files (.vlog), memtable WALs (.mem) and tables (.sst), the
// executable, other files, and anonymous memory (Go heap, stacks, Badger's
// memtable arenas and caches).
var mappingKinds = []string{"vlog", "wal", "sst", "exe", "otherfile", "anonmap"}

// smapsByKind sums the Rss of pid's mappings by kind (mappingKinds).
func smapsByKind(pid int) (map[string]int64, error) {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return nil, err
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := make(map[string]int64)
	kind := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if !strings.HasSuffix(fields[0], ":") {
			// A mapping's header: range, perms, offset, dev, inode, path.
			path := ""
			if len(fields) > 5 {
				path = strings.Join(fields[5:], " ")
			}
			kind = mappingKind(path, exe)
			continue
		}
		if fields[0] == "Rss:" && len(fields) >= 2 {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("parse %q in /proc/%d/smaps: %w", sc.Text(), pid, err)
			}
			out[kind] += kb << 10
		}
	}
	return out, sc.Err()
}

func mappingKind(path, exe string) string {
	switch {
	case path == "" || strings.HasPrefix(path, "["):
		return "anonmap"
	case strings.HasSuffix(path, ".vlog"):
		return "vlog"
	case strings.HasSuffix(path, ".mem"):
		return "wal"
	case strings.HasSuffix(path, ".sst"):
		return "sst"
	case path == exe:
		return "exe"
	default:
		return "otherfile"
	}
}

// natsOptions are the options of every nats-server the benchmarks run:
// JetStream with file storage in dir on a loopback port the kernel picks.
func natsOptions(dir string, syncAlways bool) *natsserver.Options {
	return &natsserver.Options{
		Host:       "127.0.0.1",
		Port:       -1,
		JetStream:  true,
		StoreDir:   dir,
		SyncAlways: syncAlways,
		NoLog:      true,
		NoSigs:     true,
	}
}

// serveNATSChild runs nats-server with JetStream file storage in dir,
// prints "nats serving <url>" on stdout and stops on SIGTERM or SIGINT.
func serveNATSChild(dir string) int {
	ns, err := natsserver.NewServer(natsOptions(dir, false))
	if err != nil {
		fmt.Fprintln(os.Stderr, "nats child:", err)
		return 1
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		fmt.Fprintln(os.Stderr, "nats child: not ready in 10 s")
		return 1
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	fmt.Printf("nats serving %s\n", ns.ClientURL())
	<-sig
	ns.Shutdown()
	ns.WaitForShutdown()
	return 0
}

// natsChild is this test binary running serveNATSChild.
type natsChild struct {
	cmd *exec.Cmd
	url string
}

// startNATSChild re-executes the test binary as a nats-server with its
// store in dir and returns once it serves.
func startNATSChild(tb testing.TB, dir string) *natsChild {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), natsChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), "nats serving "); ok {
				urlc <- url
				break
			}
		}
		close(urlc)
	}()
	select {
	case url, ok := <-urlc:
		if !ok {
			_ = cmd.Wait()
			tb.Fatal("nats child exited before serving")
		}
		return &natsChild{cmd: cmd, url: url}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		tb.Fatal("nats child did not serve in 30 s")
	}
	return nil
}

// stop sends SIGTERM and waits; it kills the child after a minute.
func (c *natsChild) stop(tb testing.TB) {
	tb.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			tb.Logf("nats child: %v", err)
		}
	case <-time.After(time.Minute):
		_ = c.cmd.Process.Kill()
		<-done
		tb.Log("nats child did not stop in a minute; killed")
	}
}
