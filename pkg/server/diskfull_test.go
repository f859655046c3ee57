package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
	"github.com/silt-io/silt/pkg/diskspace"
	"github.com/silt-io/silt/pkg/server"
)

// The disk-full tests run a real server on a real small filesystem: a
// tmpfs mounted by the test, which needs root (CI runs as root). Badger
// writes through memory-mapped files, and what used to happen on a full
// disk was SIGBUS, which would kill this test binary.

// tmpfsSize is the size of each test's filesystem: the size at which the
// finding reproduced the SIGBUS.
const tmpfsSize = 64 << 20

// mountTmpfs mounts a tmpfs of size bytes on a fresh directory and
// unmounts it at cleanup, or skips the test when it cannot.
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: the disk-full tests mount a tmpfs, which needs root (CI runs as root)")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.FormatInt(size, 10)); err != nil {
		t.Skipf("skipping: mount a %d-byte tmpfs on %s: %v (needs root with CAP_SYS_ADMIN)", size, dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// writeBallast writes size bytes to path (a file the test deletes to free
// space) and reports how much it wrote before the disk was full.
func writeBallast(t *testing.T, path string, size int64) int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	var n int64
	for n < size {
		w, err := f.Write(chunk[:min(int64(len(chunk)), size-n)])
		n += int64(w)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// freeBytes is what statfs says is available under dir.
func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	sp, err := diskspace.Statfs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return sp.Free
}

// diskFullConfig is a server on dir that never rotates by itself, so the
// test decides what is written when.
func diskFullConfig(dir string) func(*server.Config) {
	return func(c *server.Config) {
		c.DataDir = dir
		c.RotateAfter = 0
		c.HotMaxBytes = 0
		c.HistoryInterval = -1
	}
}

// padded builds n events of about 3 KiB each: a sequence number and hex of
// random bytes, which compresses about two to one.
func padded(t *testing.T, from, n int) []*siltv1.EventInput {
	t.Helper()
	out := make([]*siltv1.EventInput, n)
	raw := make([]byte, 1500)
	for i := range n {
		_, _ = rand.Read(raw)
		out[i] = jsonEvent(t, "pad", map[string]any{"i": float64(from + i), "pad": hex.EncodeToString(raw)})
	}
	return out
}

// fillUntilRefused appends batches of padded events to stream until the
// server answers ResourceExhausted, and returns how many it acknowledged
// and the refusal.
func fillUntilRefused(t *testing.T, c clients, stream string, acked int) (int, *connect.Error) {
	t.Helper()
	ctx := testContext(t)
	for range 1000 {
		res, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream, Events: padded(t, acked, 100)}))
		if err != nil {
			ce := requireCode(t, err, connect.CodeResourceExhausted)
			return acked, ce
		}
		if got := res.Msg.GetFirstSeq(); got != uint64(acked+1) {
			t.Fatalf("batch acknowledged at seq %d, want %d", got, acked+1)
		}
		acked += 100
	}
	t.Fatalf("%d events appended to a %d-byte filesystem without a refusal", acked, tmpfsSize)
	return 0, nil
}

// checkAcked reads stream back and checks every acknowledged event is
// there, in order.
func checkAcked(t *testing.T, c clients, stream string, acked int) {
	t.Helper()
	evs := readAll(t, c, stream)
	if len(evs) != acked {
		t.Fatalf("read %d events of %s, want the %d acknowledged", len(evs), stream, acked)
	}
	for i, e := range evs {
		if e.GetSeq() != uint64(i+1) || e.GetData().GetStructValue().GetFields()["i"].GetNumberValue() != float64(i) {
			t.Fatalf("event %d is seq %d with data %v", i, e.GetSeq(), e.GetData())
		}
	}
}

// countEvents counts a project's events with a Query.
func countEvents(t *testing.T, url string) int64 {
	t.Helper()
	res, err := queryClient(url, protocols[0]).Query(testContext(t), connect.NewRequest(&siltv1.QueryRequest{
		Project:      project,
		Aggregations: []*siltv1.Aggregation{{Function: siltv1.AggregateFunction_AGGREGATE_FUNCTION_COUNT}},
	}))
	if err != nil {
		t.Fatalf("query on a full disk: %v", err)
	}
	if len(res.Msg.GetRows()) != 1 {
		t.Fatalf("count query: %d rows", len(res.Msg.GetRows()))
	}
	return res.Msg.GetRows()[0].GetValues()[0].GetIntValue()
}

// TestServer_Append_DiskFull fills a 64 MiB filesystem through the API with
// the default low-water mark: appends end in ResourceExhausted that says
// the disk is full, the server stays up and serves Read and Query, a
// restart on the still-full disk comes up the same way, and once a ballast
// file is deleted appends resume without a restart. Every acknowledged
// event reads back.
func TestServer_Append_DiskFull(t *testing.T) {
	dir := mountTmpfs(t, tmpfsSize)
	ballast := filepath.Join(dir, "ballast")
	writeBallast(t, ballast, 8<<20)
	data := filepath.Join(dir, "data")
	ts := startServerIn(t, data, diskFullConfig(data))
	c := ts.clients(protocols[0])

	acked, refusal := fillUntilRefused(t, c, "fill", 0)
	if !strings.Contains(refusal.Message(), "disk full") || !strings.Contains(refusal.Message(), "low-water mark") {
		t.Errorf("refusal %q does not say the disk is full", refusal.Message())
	}
	t.Logf("%d events acknowledged, then: %s", acked, refusal.Message())
	if acked == 0 {
		t.Fatal("no append fitted")
	}
	checkAcked(t, c, "fill", acked)
	if n := countEvents(t, ts.url); n != int64(acked) {
		t.Errorf("query counts %d events, want %d", n, acked)
	}
	// Up and refusing on later tries too. (The guard counts a group's bytes
	// as owed until it next measures the WAL, so a refused batch may fit a
	// moment later, when it finds most of them went to the value log.)
	acked, _ = fillUntilRefused(t, c, "fill", acked)
	checkAcked(t, c, "fill", acked)

	// A restart on the still-full disk: the graceful stop flushes Badger's
	// memtable into the room the guard kept, and the new server opens.
	ts.stop(t)
	ts = startServerIn(t, data, diskFullConfig(data))
	c = ts.clients(protocols[0])
	checkAcked(t, c, "fill", acked)
	// The flush moved bytes from the WAL into a table, so what is owed
	// changed a little: a batch or two may fit before the refusal.
	acked, _ = fillUntilRefused(t, c, "fill", acked)
	checkAcked(t, c, "fill", acked)

	// Space returns: appends resume by themselves.
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	res, err := c.events.Append(testContext(t), connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: "fill", Events: padded(t, acked, 100)}))
	if err != nil {
		t.Fatalf("append after freeing 8 MiB: %v", err)
	}
	if res.Msg.GetFirstSeq() != uint64(acked+1) {
		t.Fatalf("append after freeing space got seq %d, want %d", res.Msg.GetFirstSeq(), acked+1)
	}
	acked += 100
	checkAcked(t, c, "fill", acked)
}

// TestServer_Open_DiskFull: with the room the guard keeps taken by another
// file, a restart neither faults nor gives up: Open waits for space (the
// hot tier would have to replay and flush its WAL) and finishes once the
// file is deleted, with every acknowledged event there.
func TestServer_Open_DiskFull(t *testing.T) {
	dir := mountTmpfs(t, tmpfsSize)
	data := filepath.Join(dir, "data")
	cfg := diskFullConfig(data)
	ts := startServerIn(t, data, cfg, func(c *server.Config) { c.DiskLowWater = 8 << 20 })
	acked, _ := fillUntilRefused(t, ts.clients(protocols[0]), "fill", 0)

	// Another file takes every byte left, the room the guard kept too.
	ts.stop(t)
	ballast := filepath.Join(dir, "ballast")
	wrote := writeBallast(t, ballast, tmpfsSize)
	t.Logf("ballast took the last %d bytes; %d free", wrote, freeBytes(t, dir))

	srvCfg := server.DefaultConfig()
	srvCfg.Addr = "127.0.0.1:0"
	srvCfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg(&srvCfg)
	srv, err := server.New(srvCfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opened := make(chan error, 1)
	go func() { opened <- srv.Open(ctx) }()
	select {
	case err := <-opened:
		t.Fatalf("Open on a full disk returned %v, want it to wait for space", err)
	case <-time.After(1500 * time.Millisecond):
	}
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-opened:
		if err != nil {
			t.Fatalf("Open after space returned: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Open did not finish within 10 s of space returning")
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	ts2 := &testServer{url: "http://" + srv.Addr()}
	checkAcked(t, ts2.clients(protocols[0]), "fill", acked)
}

// TestServer_Rotate_DiskFull: a rotation that does not fit answers
// ResourceExhausted (not Internal), leaves no segment or temporary file,
// and succeeds once space returns.
func TestServer_Rotate_DiskFull(t *testing.T) {
	dir := mountTmpfs(t, tmpfsSize)
	ballast := filepath.Join(dir, "ballast")
	writeBallast(t, ballast, 36<<20)
	data := filepath.Join(dir, "data")
	ts := startServerIn(t, data, diskFullConfig(data), func(c *server.Config) { c.DiskLowWater = 4 << 20 })
	c := ts.clients(protocols[0])
	acked, _ := fillUntilRefused(t, c, "fill", 0)

	admin := adminClient(ts.url)
	_, err := admin.Rotate(testContext(t), connect.NewRequest(&siltv1.RotateRequest{Project: project}))
	ce := requireCode(t, err, connect.CodeResourceExhausted)
	if !strings.Contains(ce.Message(), "disk full") {
		t.Errorf("rotation refusal %q does not say the disk is full", ce.Message())
	}
	segs, err := admin.ListSegments(testContext(t), connect.NewRequest(&siltv1.ListSegmentsRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(segs.Msg.GetSegments()); n != 0 {
		t.Errorf("%d segments after a refused rotation, want none", n)
	}
	_ = filepath.WalkDir(filepath.Join(data, "segments"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".parquet") || strings.Contains(path, ".tmp-")) {
			t.Errorf("refused rotation left %s", path)
		}
		return nil
	})

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	rot, err := admin.Rotate(heavyContext(t), connect.NewRequest(&siltv1.RotateRequest{Project: project}))
	if err != nil {
		t.Fatalf("rotation after space returned: %v", err)
	}
	if len(rot.Msg.GetSegments()) == 0 {
		t.Error("rotation after space returned wrote no segment")
	}
	checkAcked(t, c, "fill", acked)
}

// TestServer_SIGKILL_DiskFull: a server killed while appends fill its disk
// restarts on the still-full disk (another file took the room its guard
// kept) without a SIGBUS in Badger's replay: it waits for space, serves
// once a file is deleted, and every acknowledged event is there. The
// finding: the restart died the same way as the appends.
func TestServer_SIGKILL_DiskFull(t *testing.T) {
	skipUnderRace(t)
	dir := mountTmpfs(t, tmpfsSize)
	data := filepath.Join(dir, "data")
	flags := []string{"--rotate-after=0", "--hot-max-bytes=0", "--history-interval=-1s"}
	child := startChild(t, data, flags...)
	c := clients{events: siltv1connect.NewEventServiceClient(http.DefaultClient, child.url)}
	acked, _ := fillUntilRefused(t, c, "fill", 0)
	child.kill(t)

	ballast := filepath.Join(dir, "ballast")
	wrote := writeBallast(t, ballast, tmpfsSize)
	t.Logf("%d events acknowledged; after the kill the ballast took the last %d bytes", acked, wrote)
	freed := make(chan struct{})
	go func() {
		defer close(freed)
		time.Sleep(3 * time.Second)
		_ = os.Remove(ballast)
	}()
	// A child that died of SIGBUS would never serve: startChild would fail.
	child = startChild(t, data, flags...)
	defer child.kill(t)
	<-freed
	c = clients{events: siltv1connect.NewEventServiceClient(http.DefaultClient, child.url)}
	checkAcked(t, c, "fill", acked)
}
