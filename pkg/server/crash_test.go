package server_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// childServer is `silt serve` in a child process.
type childServer struct {
	cmd *exec.Cmd
	url string
}

var servingAddr = regexp.MustCompile(`msg="silt serving" addr=(\S+)`)

// startChild runs the test binary as `silt serve` on dir (with extra
// flags) and waits until it listens.
func startChild(t *testing.T, dir string, extra ...string) *childServer {
	t.Helper()
	cmd := childCommand(dir, extra...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	// exited closes when the child's stderr does: it has exited.
	exited := make(chan struct{})
	// log keeps the child's last lines, to say why it did not start.
	var logMu sync.Mutex
	var log []string
	lastLines := func() string {
		logMu.Lock()
		defer logMu.Unlock()
		return strings.Join(log, "\n")
	}
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logMu.Lock()
			log = append(log, sc.Text())
			if len(log) > 30 {
				log = log[1:]
			}
			logMu.Unlock()
			if m := servingAddr.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	// Never leave a server behind, even when the test fails half-way.
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	select {
	case a := <-addr:
		return &childServer{cmd: cmd, url: "http://" + a}
	case <-exited:
		err := cmd.Wait()
		t.Fatalf("child server on %s exited before serving (%v); its last lines:\n%s", dir, err, lastLines())
		return nil
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("child server on %s did not start within 60s; its last lines:\n%s", dir, lastLines())
		return nil
	}
}

// childCommand is the test binary as `silt serve` on dir (with extra flags).
func childCommand(dir string, extra ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "SILT_TEST_CHILD_ARGS=serve --addr 127.0.0.1:0 --data "+dir+" "+strings.Join(extra, " "))
	return cmd
}

// killDuringStart starts `silt serve` on dir and SIGKILLs it after delay,
// whether or not it serves by then: while it opens the hot tier, deletes
// what an interrupted rotation left and finishes interrupted seals.
func killDuringStart(t *testing.T, dir string, delay time.Duration, extra ...string) {
	t.Helper()
	cmd := childCommand(dir, extra...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(delay)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

// kill sends SIGKILL and reaps the child.
func (c *childServer) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
}

// ackedBatch is a batch the server acknowledged.
type ackedBatch struct {
	first, last uint64
	ids         []string
}

// crashWriter appends batches as an idempotent producer and remembers acks.
type crashWriter struct {
	// project is the stream's project; "" means the package's project.
	project  string
	stream   string
	producer string
	seq      uint64
	acked    []ackedBatch
	// pending is the batch in flight when the server died, if any.
	pending []*siltv1.EventInput
	n       int
	// onAck, when set, sees every acknowledgement (from the writer's own
	// goroutine, before the ack is recorded).
	onAck func(w *crashWriter, res *siltv1.AppendResponse, events []*siltv1.EventInput)
	// pace, when positive, is a pause between batches (bounding the volume).
	pace time.Duration
	// onError, when set, sees the error that stopped the writer's load.
	onError func(w *crashWriter, err error)
}

func (w *crashWriter) batch(rng *rand.Rand) []*siltv1.EventInput {
	size := 1 + rng.IntN(50)
	out := make([]*siltv1.EventInput, size)
	for i := range out {
		w.n++
		out[i] = &siltv1.EventInput{
			Id: fmt.Sprintf("%s-%d", w.producer, w.n), Type: "crash",
			Attributes: map[string]string{"writer": w.producer},
			Payload:    &siltv1.EventInput_BinaryData{BinaryData: fmt.Appendf(nil, `{"n":%d}`, w.n)}, ContentType: "application/json",
		}
	}
	return out
}

// send appends events with the writer's next producer seq.
func (w *crashWriter) send(ctx context.Context, c clients, events []*siltv1.EventInput) (*siltv1.AppendResponse, error) {
	p := w.project
	if p == "" {
		p = project
	}
	res, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{
		Project: p, Stream: w.stream, Events: events,
		Producer: &siltv1.Producer{Id: w.producer, Epoch: 1, Seq: w.seq},
	}))
	if err != nil {
		return nil, err
	}
	return res.Msg, nil
}

func (w *crashWriter) record(res *siltv1.AppendResponse, events []*siltv1.EventInput) {
	if w.onAck != nil {
		w.onAck(w, res, events)
	}
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.GetId()
	}
	w.acked = append(w.acked, ackedBatch{first: res.GetFirstSeq(), last: res.GetLastSeq(), ids: ids})
	w.seq++
	w.pending = nil
}

// skipUnderRace skips the SIGKILL tests under the race detector: their
// child servers would run instrumented, too slowly for rotations and merges
// to finish between kills. `make test-go` runs them in a separate, plain
// `go test` (the rest of the server is race-tested by the other tests).
func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("SIGKILL tests run without the race detector (make test-go runs them separately)")
	}
}

// retryPending resends each writer's batch that was in flight at the last
// kill: as an idempotent producer's retry it lands exactly once.
func retryPending(t *testing.T, ctx context.Context, c clients, writers []*crashWriter, round int) {
	t.Helper()
	for _, w := range writers {
		if w.pending == nil {
			continue
		}
		res, err := w.send(ctx, c, w.pending)
		if err != nil {
			t.Fatalf("round %d: retry of %s's in-flight batch: %v", round, w.producer, err)
		}
		w.record(res, w.pending)
	}
}

// startLoad makes every writer append batches until ctx ends or an append
// fails (the server died); wg tracks them.
func startLoad(ctx context.Context, wg *sync.WaitGroup, c clients, writers []*crashWriter, round int) {
	for i, w := range writers {
		wrng := rand.New(rand.NewPCG(uint64(round), uint64(i)))
		wg.Go(func() {
			for ctx.Err() == nil {
				events := w.batch(wrng)
				w.pending = events
				res, err := w.send(ctx, c, events)
				if err != nil {
					if w.onError != nil {
						w.onError(w, err)
					}
					return
				}
				w.record(res, events)
				if w.pace > 0 {
					select {
					case <-ctx.Done():
					case <-time.After(w.pace):
					}
				}
			}
		})
	}
}

// TestServer_SIGKILL_LosesNoAcknowledgedEvent kills a server process in the
// middle of a write load, restarts it, and checks that every acknowledged
// event is there exactly once at its acknowledged seq, that retrying the
// batches in flight at the kill writes nothing twice, and that seqs continue.
func TestServer_SIGKILL_LosesNoAcknowledgedEvent(t *testing.T) {
	skipUnderRace(t)
	t.Parallel()
	rounds := 3
	if testing.Short() {
		rounds = 1
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	const writersPerStream, streams = 3, 2
	var writers []*crashWriter
	for i := range writersPerStream * streams {
		writers = append(writers, &crashWriter{stream: fmt.Sprintf("crash-%d", i%streams), producer: fmt.Sprintf("w%d", i)})
	}
	for round := range rounds {
		child := startChild(t, dir)
		c := (&testServer{url: child.url}).clients(protocols[0])
		ctx := testContext(t)
		if round == 0 {
			for i := range streams {
				if _, err := c.streams.CreateStream(ctx, connect.NewRequest(&siltv1.CreateStreamRequest{Project: project, Stream: fmt.Sprintf("crash-%d", i)})); err != nil {
					t.Fatal(err)
				}
			}
		}
		retryPending(t, ctx, c, writers, round)
		verifyCrashStreams(t, c, writers, round)

		// Load, then SIGKILL at a random moment while appends are in flight.
		var wg sync.WaitGroup
		loadCtx, stopLoad := context.WithCancel(ctx)
		startLoad(loadCtx, &wg, c, writers, round)
		time.Sleep(time.Duration(200+rng.IntN(400)) * time.Millisecond)
		child.kill(t)
		wg.Wait()
		stopLoad()
	}
	child := startChild(t, dir)
	defer child.kill(t)
	c := (&testServer{url: child.url}).clients(protocols[0])
	retryPending(t, testContext(t), c, writers, rounds)
	verifyCrashStreams(t, c, writers, rounds)
}

// verifyCrashStreams checks every acknowledged event, exactly once, gapless.
func verifyCrashStreams(t *testing.T, c clients, writers []*crashWriter, round int) {
	t.Helper()
	byStream := map[string][]*crashWriter{}
	for _, w := range writers {
		byStream[w.stream] = append(byStream[w.stream], w)
	}
	total := 0
	for stream, ws := range byStream {
		events := readAll(t, c, stream)
		seen := map[string]uint64{}
		for i, e := range events {
			if e.GetSeq() != uint64(i+1) {
				t.Fatalf("round %d: %s event %d has seq %d", round, stream, i, e.GetSeq())
			}
			if prev, dup := seen[e.GetId()]; dup {
				t.Fatalf("round %d: %s holds id %s twice (seq %d and %d)", round, stream, e.GetId(), prev, e.GetSeq())
			}
			seen[e.GetId()] = e.GetSeq()
		}
		for _, w := range ws {
			for _, b := range w.acked {
				for i, id := range b.ids {
					if got, ok := seen[id]; !ok || got != b.first+uint64(i) {
						t.Fatalf("round %d: acknowledged %s at seq %d is at %d (present %v)", round, id, b.first+uint64(i), got, ok)
					}
					total++
				}
			}
		}
		// The next append continues the sequence.
		if len(events) > 0 {
			next := uint64(len(events))
			res, err := c.events.Append(testContext(t), connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream, Events: numbered(t, 0, 1), ExpectedLastSeq: &next}))
			if err != nil || res.Msg.GetFirstSeq() != next+1 {
				t.Fatalf("round %d: append after restart: %v %v", round, res, err)
			}
		}
	}
	t.Logf("round %d: %d acknowledged events verified", round, total)
}
