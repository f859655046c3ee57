package server_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
)

// crashRunConfig is what the crash run's environment can change; `make
// torture` runs the same test long.
type crashRunConfig struct {
	// kills is how many times the server is SIGKILLed (SILT_CRASH_KILLS).
	kills int
	// seed makes kill moments and loads repeatable (SILT_CRASH_SEED).
	seed uint64
	// fullEvery makes every fullEvery-th check after a restart read every
	// stream whole, the others only what is new (SILT_CRASH_FULL_EVERY;
	// 1: every check is whole). An event lost stays lost, so a whole check
	// finds what a partial one skipped; readers see the rest meanwhile.
	fullEvery int
	// budget stops the run early, after the round in progress, once this
	// much time has passed (SILT_CRASH_BUDGET; 0: no limit).
	budget time.Duration
}

// crashRunFromEnv reads the crash run's configuration: by default 32 kills
// within 4 minutes, each followed by a whole check, enough for CI; 6 in
// -short mode.
func crashRunFromEnv(t *testing.T) crashRunConfig {
	t.Helper()
	cfg := crashRunConfig{kills: 32, seed: 1, fullEvery: 1, budget: 4 * time.Minute}
	if testing.Short() {
		cfg.kills = 6
	}
	if v := os.Getenv("SILT_CRASH_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SILT_CRASH_KILLS=%q: want a positive count", v)
		}
		cfg.kills = n
	}
	if v := os.Getenv("SILT_CRASH_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SILT_CRASH_SEED=%q: %v", v, err)
		}
		cfg.seed = n
	}
	if v := os.Getenv("SILT_CRASH_FULL_EVERY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SILT_CRASH_FULL_EVERY=%q: want a positive count", v)
		}
		cfg.fullEvery = n
	}
	if v := os.Getenv("SILT_CRASH_BUDGET"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			t.Fatalf("SILT_CRASH_BUDGET=%q: want a duration such as 4m (0: no limit)", v)
		}
		cfg.budget = d
	}
	return cfg
}

// crashRunDir is the run's data directory: a t.TempDir(), or, when
// SILT_CRASH_DIR names a directory, a new one inside it that is kept
// afterwards, to look into after a failure.
func crashRunDir(t *testing.T) string {
	t.Helper()
	parent := os.Getenv("SILT_CRASH_DIR")
	if parent == "" {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp(parent, "crashrun-")
	if err != nil {
		t.Fatalf("SILT_CRASH_DIR: %v", err)
	}
	t.Logf("data directory %s (kept)", dir)
	return dir
}

// crashRunFlags run the server with rotation and compaction always due:
// events older than 1s or past 256 KiB of hot data are sealed in units of
// about 64 KiB every 100 ms, and small segments are merged as they pile up.
var crashRunFlags = []string{
	"--rotate-after", "1s", "--hot-max-bytes", "262144",
	"--rotate-unit-bytes", "65536", "--history-interval", "100ms",
}

// crashRunProjects and crashRunStreams make 2 × 4 streams; each gets
// crashRunProducers idempotent producers.
const crashRunProjects, crashRunStreams, crashRunProducers = 2, 4, 3

// crashRunStats are the run's figures besides the model's.
type crashRunStats struct {
	// Counted by the one goroutine that drives the admin API; read after it ends.
	rotated, merged int
	// early counts kills during or right after a start, before any client call.
	early int
	// interrupted counts kills that left a rotation or merge half-done.
	interrupted int
	segmentIDs  map[string]bool
	// slowest is the longest a restart took to serve.
	slowest time.Duration
}

// TestServer_SIGKILL_CrashRun is a Jepsen-style crash run: several
// idempotent producers per stream on many streams, subscribers and readers
// checking what they see while it is written, background rotation and
// compaction plus admin-driven ones, and a SIGKILL at a random moment,
// again and again. After each restart the producers retry their in-flight
// batches and every stream is read whole and compared with the acknowledged
// history (see crashModel): any event lost, duplicated, reordered, skipped
// or not sent, and any call failing while the server is up, fails the
// test. SILT_CRASH_KILLS, SILT_CRASH_SEED, SILT_CRASH_FULL_EVERY and
// SILT_CRASH_BUDGET scale it (`make torture`).
func TestServer_SIGKILL_CrashRun(t *testing.T) {
	skipUnderRace(t)
	t.Parallel()
	cfg := crashRunFromEnv(t)
	began := time.Now()
	dir := crashRunDir(t)
	rng := rand.New(rand.NewPCG(cfg.seed, 13))
	model := newCrashModel()
	var writers []*crashWriter
	var keys []string
	for p := range crashRunProjects {
		for s := range crashRunStreams {
			proj, stream := fmt.Sprintf("crash%d", p), fmt.Sprintf("s%d", s)
			key := streamKey(proj, stream)
			keys = append(keys, key)
			for w := range crashRunProducers {
				name := fmt.Sprintf("p%ds%dw%d", p, s, w)
				model.addProducer(name, key)
				writers = append(writers, &crashWriter{
					project: proj, stream: stream, producer: name, pace: 20 * time.Millisecond,
					onAck: func(w *crashWriter, res *siltv1.AppendResponse, events []*siltv1.EventInput) {
						model.ack(w.producer, res, events)
					},
				})
			}
		}
	}
	// up is set while the round's server is serving and not yet killed: a
	// call failing then is an anomaly, not the kill's doing.
	var up atomic.Bool
	failed := func(who string, err error) {
		if up.Load() {
			model.fail(who, err)
		}
	}
	for _, w := range writers {
		w.onError = func(w *crashWriter, err error) { failed("append of "+w.producer, err) }
	}
	stats := crashRunStats{segmentIDs: map[string]bool{}}
	subs := make([]*session, len(keys))
	for i, key := range keys {
		subs[i] = &session{key: key, next: 1, who: "a subscriber"}
	}
	kills, logged, ok := 0, 0, true
	for round := 0; ok && kills < cfg.kills; round++ {
		if kills%50 == 0 && kills > logged {
			t.Logf("%d kills in %v", kills, time.Since(began).Round(time.Second))
			logged = kills
		}
		if cfg.budget > 0 && time.Since(began) > cfg.budget {
			t.Logf("stopping after %d kills: the %v budget is spent", kills, cfg.budget)
			break
		}
		if round > 0 && rng.IntN(8) == 0 {
			// Kill while the restarted server opens and recovers from the
			// last kill, or just after, in its first background round.
			killDuringStart(t, dir, time.Duration(rng.IntN(400))*time.Millisecond, crashRunFlags...)
			kills++
			stats.early++
			continue
		}
		started := time.Now()
		child := startChild(t, dir, crashRunFlags...)
		stats.slowest = max(stats.slowest, time.Since(started))
		if round == 0 {
			createCrashStreams(t, child.url, keys)
		}
		full := cfg.fullEvery <= 1 || round%cfg.fullEvery == 0
		if ok = crashRunCheck(t, child, model, writers, keys, round, full, &stats); !ok {
			child.kill(t)
			break
		}

		ctx := testContext(t)
		loadCtx, stopLoad := context.WithCancel(ctx)
		var wg sync.WaitGroup
		c := (&testServer{url: child.url}).clients(protocols[0])
		up.Store(true)
		startLoad(loadCtx, &wg, c, writers, round)
		for i, s := range subs {
			wg.Go(func() { failed("subscription to "+keys[i], follow(loadCtx, c, model, s, keys[i])) })
		}
		for r := range 2 {
			prng := rand.New(rand.NewPCG(cfg.seed+uint64(round), uint64(r)))
			wg.Go(func() { failed("read", pollReads(loadCtx, c, model, keys, prng)) })
		}
		admin := adminClient(child.url)
		wg.Go(func() { failed("rotation or compaction", driveHistory(loadCtx, admin, &stats)) })

		time.Sleep(time.Duration(200+rng.IntN(1300)) * time.Millisecond)
		up.Store(false)
		child.kill(t)
		kills++
		wg.Wait()
		stopLoad()
		if rotationInterrupted(t, filepath.Join(dir, "segments")) {
			stats.interrupted++
		}
	}
	if ok {
		child := startChild(t, dir, crashRunFlags...)
		ok = crashRunCheck(t, child, model, writers, keys, kills, true, &stats)
		child.kill(t)
	}
	found, _ := model.result()
	model.mu.Lock()
	acked, observed, checked := model.acked, model.observed, model.checked
	model.mu.Unlock()
	t.Logf("crash run: seed=%d kills=%d (%d while starting, %d left a rotation or merge half-done) in %v; "+
		"events acknowledged=%d, read by readers during the load=%d, read by the checks after restarts=%d; "+
		"segments rotated=%d merged=%d (admin calls), %d distinct segments seen; slowest start %v; anomalies: %v",
		cfg.seed, kills, stats.early, stats.interrupted, time.Since(began).Round(time.Second),
		acked, observed, checked, stats.rotated, stats.merged, len(stats.segmentIDs), stats.slowest.Round(time.Millisecond), found)
	// Background rotations and merges are not counted (admin calls may
	// find nothing left to do), so the proof that rotation ran under the
	// kills is segments on the manifest and kills that interrupted one.
	if ok && !testing.Short() && (kills < min(cfg.kills, 30) ||
		(kills >= 30 && (len(stats.segmentIDs) == 0 || stats.interrupted == 0))) {
		t.Errorf("only %d kills, %d segments seen, %d kills interrupting a rotation or merge: too little to prove anything",
			kills, len(stats.segmentIDs), stats.interrupted)
	}
}

// createCrashStreams creates the run's streams (project/stream keys).
func createCrashStreams(t *testing.T, url string, keys []string) {
	t.Helper()
	c := (&testServer{url: url}).clients(protocols[0])
	for _, key := range keys {
		proj, stream := splitKey(key)
		if _, err := c.streams.CreateStream(testContext(t), connect.NewRequest(&siltv1.CreateStreamRequest{Project: proj, Stream: stream})); err != nil {
			t.Fatalf("create %s: %v", key, err)
		}
	}
}

// splitKey is the inverse of streamKey.
func splitKey(key string) (project, stream string) {
	project, stream, _ = strings.Cut(key, "/")
	return project, stream
}

// crashRunCheck retries the producers' in-flight batches on a restarted
// server, reads every stream (whole when full, else the last events
// checked before and every event since) and checks it against the model. It
// reports false, having failed the test, when the model found anomalies.
func crashRunCheck(t *testing.T, child *childServer, model *crashModel, writers []*crashWriter, keys []string, round int, full bool, stats *crashRunStats) bool {
	t.Helper()
	ctx := testContext(t)
	c := (&testServer{url: child.url}).clients(protocols[0])
	retryPending(t, ctx, c, writers, round)
	for _, key := range keys {
		from := uint64(1)
		if n := model.length(key); !full && n > 100 {
			from = n - 100
		}
		check := model.check(key, from)
		readStream(t, c, key, from, check.page)
		check.finish()
	}
	segs, err := adminClient(child.url).ListSegments(ctx, connect.NewRequest(&siltv1.ListSegmentsRequest{}))
	if err != nil {
		t.Fatalf("round %d: list segments: %v", round, err)
	}
	for _, sg := range segs.Msg.GetSegments() {
		stats.segmentIDs[sg.GetId()] = true
	}
	found, notes := model.result()
	if found.total() == 0 {
		return true
	}
	for _, n := range notes {
		t.Error(n)
	}
	t.Errorf("round %d: anomalies: %v", round, found)
	return false
}

// readStream reads the stream key from seq from to its tail, as stored
// JSON text, handing each page to f.
func readStream(t *testing.T, c clients, key string, from uint64, f func([]*siltv1.Event)) {
	t.Helper()
	proj, stream := splitKey(key)
	for range 100000 {
		res, err := c.events.Read(testContext(t), connect.NewRequest(&siltv1.ReadRequest{
			Project: proj, Stream: stream, Start: &siltv1.ReadRequest_FromSeq{FromSeq: from}, Limit: 10000, RawJson: true,
		}))
		if err != nil {
			t.Fatalf("read %s from %d: %v", key, from, err)
		}
		f(res.Msg.GetEvents())
		from = res.Msg.GetNextSeq()
		if res.Msg.GetUpToDate() {
			return
		}
	}
	t.Fatalf("read of %s did not reach the tail", key)
}

// follow subscribes to the stream key from where its session left off (as
// a client resumes after a disconnect) and checks every batch, until ctx
// ends or the server dies; it returns the error that ended it.
func follow(ctx context.Context, c clients, model *crashModel, s *session, key string) error {
	proj, stream := splitKey(key)
	sub, err := c.events.Subscribe(ctx, connect.NewRequest(&siltv1.SubscribeRequest{
		Project: proj, Stream: stream, Start: &siltv1.SubscribeRequest_FromSeq{FromSeq: s.next}, RawJson: true,
	}))
	if err != nil {
		return err
	}
	defer sub.Close()
	for sub.Receive() {
		if b := sub.Msg().GetBatch(); b != nil {
			model.observe(s, b.GetEvents())
		}
	}
	if err := sub.Err(); err != nil {
		return err
	}
	return errors.New("subscription ended")
}

// pollReads reads pages of random streams from random seqs (old ones are
// being rotated and merged meanwhile) and checks each page, until ctx ends
// or the server dies; it returns the error that ended it.
func pollReads(ctx context.Context, c clients, model *crashModel, keys []string, rng *rand.Rand) error {
	for ctx.Err() == nil {
		key := keys[rng.IntN(len(keys))]
		proj, stream := splitKey(key)
		from := 1 + rng.Uint64N(model.length(key)+1)
		res, err := c.events.Read(ctx, connect.NewRequest(&siltv1.ReadRequest{
			Project: proj, Stream: stream, Start: &siltv1.ReadRequest_FromSeq{FromSeq: from},
			Limit: uint32(1 + rng.IntN(500)), RawJson: true,
		}))
		if err != nil {
			return fmt.Errorf("read %s from %d: %w", key, from, err)
		}
		model.observe(&session{key: key, next: from, who: "a reader"}, res.Msg.GetEvents())
	}
	return ctx.Err()
}

// driveHistory rotates and compacts through the admin API, back to back
// with the background work, counting the segments written, until ctx ends
// or the server dies; it returns the error that ended it.
func driveHistory(ctx context.Context, admin siltv1connect.AdminServiceClient, stats *crashRunStats) error {
	for i := 0; ctx.Err() == nil; i++ {
		res, err := admin.Rotate(ctx, connect.NewRequest(&siltv1.RotateRequest{}))
		if err != nil {
			return fmt.Errorf("rotate: %w", err)
		}
		stats.rotated += len(res.Msg.GetSegments())
		if i%2 == 1 {
			res, err := admin.Compact(ctx, connect.NewRequest(&siltv1.CompactRequest{}))
			if err != nil {
				return fmt.Errorf("compact: %w", err)
			}
			stats.merged += len(res.Msg.GetSegments())
		}
	}
	return ctx.Err()
}
