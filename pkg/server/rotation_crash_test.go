package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
	"github.com/silt-io/silt/pkg/segment"
)

// TestServer_SIGKILL_DuringRotation kills a server process again and again
// while it appends, rotates hot events into segments and compacts them,
// restarts it each time and checks that every acknowledged event is
// readable exactly once, in order, with its content, across both tiers.
func TestServer_SIGKILL_DuringRotation(t *testing.T) {
	skipUnderRace(t)
	t.Parallel()
	rounds := 50
	if testing.Short() {
		rounds = 6
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	const streams = 2
	var writers []*crashWriter
	from := map[string]uint64{}
	for i := range 2 * streams {
		from[fmt.Sprintf("rot-%d", i%streams)] = 1
		writers = append(writers, &crashWriter{stream: fmt.Sprintf("rot-%d", i%streams), producer: fmt.Sprintf("r%d", i)})
	}
	// Background work is off (--history-interval -1s): the test drives
	// rotations and compactions through the admin API, back to back.
	flags := []string{"--rotate-after", "0", "--hot-max-bytes", "0", "--history-interval", "-1s"}
	// Counted by the one goroutine that rotates; read after wg.Wait.
	interrupted, rotated, compacted := 0, 0, 0
	for round := range rounds {
		child := startChild(t, dir, flags...)
		c := (&testServer{url: child.url}).clients(protocols[0])
		admin := adminClient(child.url)
		ctx := testContext(t)
		if round == 0 {
			for i := range streams {
				if _, err := c.streams.CreateStream(ctx, connect.NewRequest(&siltv1.CreateStreamRequest{Project: project, Stream: fmt.Sprintf("rot-%d", i)})); err != nil {
					t.Fatal(err)
				}
			}
		}
		retryPending(t, ctx, c, writers, round)
		if round%10 == 0 {
			for s := range from {
				from[s] = 1 // a full check now and then
			}
		}
		verifyRotatedStreams(t, c, admin, writers, round, from)

		loadCtx, stopLoad := context.WithCancel(ctx)
		var wg sync.WaitGroup
		startLoad(loadCtx, &wg, c, writers, round)
		firstRotation, firstCompaction := make(chan struct{}), make(chan struct{})
		// workErr is the first failed rotation or compaction, read only
		// when the round made no progress (before any kill, so it is a bug).
		workErr := make(chan error, 1)
		wg.Go(func() {
			for i := 0; loadCtx.Err() == nil; i++ {
				res, err := admin.Rotate(loadCtx, connect.NewRequest(&siltv1.RotateRequest{}))
				if err != nil {
					workErr <- fmt.Errorf("rotate: %w", err)
					return
				}
				rotated += len(res.Msg.GetSegments())
				if i == 0 {
					close(firstRotation)
				}
				if i%2 == 1 {
					res, err := admin.Compact(loadCtx, connect.NewRequest(&siltv1.CompactRequest{}))
					if err != nil {
						workErr <- fmt.Errorf("compact: %w", err)
						return
					}
					compacted += len(res.Msg.GetSegments())
					if i == 1 {
						close(firstCompaction)
					}
				}
			}
		})
		// Kill at a random moment once the round has made progress: after
		// its first rotation, and every third round after its first
		// compaction (merges take longer than a rotation).
		progress := firstRotation
		if round%3 == 2 {
			progress = firstCompaction
		}
		select {
		case <-progress:
		case err := <-workErr:
			t.Fatalf("round %d: %v", round, err)
		case <-time.After(60 * time.Second):
			t.Fatalf("round %d: no rotation or compaction finished within 60s", round)
		}
		time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
		child.kill(t)
		wg.Wait()
		stopLoad()
		if rotationInterrupted(t, filepath.Join(dir, "segments")) {
			interrupted++
		}
	}
	child := startChild(t, dir, flags...)
	defer child.kill(t)
	c := (&testServer{url: child.url}).clients(protocols[0])
	retryPending(t, testContext(t), c, writers, rounds)
	for s := range from {
		from[s] = 1
	}
	verifyRotatedStreams(t, c, adminClient(child.url), writers, rounds, from)
	segs, err := adminClient(child.url).ListSegments(testContext(t), connect.NewRequest(&siltv1.ListSegmentsRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d kills, %d of them left a segment half-done on disk; %d segments rotated, %d merged, %d now",
		rounds, interrupted, rotated, compacted, len(segs.Msg.GetSegments()))
	if rotated < rounds || (!testing.Short() && compacted == 0) {
		t.Fatalf("only %d rotated and %d merged segments acknowledged in %d rounds: too few to prove anything", rotated, compacted, rounds)
	}
	if !testing.Short() && interrupted == 0 {
		t.Fatal("no kill landed in the middle of a rotation; the test proves nothing")
	}
}

// verifyRotatedStreams checks each stream from seq from[stream] on: seqs
// gapless, no id twice, every acknowledged event at its acknowledged seq
// with its content, and the next append continuing the sequence. Then it
// moves from[stream] past what segments hold, so later rounds need not read
// them again; compaction rewrites such events, which is what the full check
// every tenth round and at the end is for.
func verifyRotatedStreams(t *testing.T, c clients, admin siltv1connect.AdminServiceClient, writers []*crashWriter, round int, from map[string]uint64) {
	t.Helper()
	total := 0
	for stream := range from {
		start := from[stream]
		events := readFrom(t, c, stream, start)
		seen := map[string]uint64{}
		for i, e := range events {
			if e.GetSeq() != start+uint64(i) {
				t.Fatalf("round %d: %s event %d has seq %d, want %d", round, stream, i, e.GetSeq(), start+uint64(i))
			}
			if prev, dup := seen[e.GetId()]; dup {
				t.Fatalf("round %d: %s holds id %s twice (seq %d and %d)", round, stream, e.GetId(), prev, e.GetSeq())
			}
			seen[e.GetId()] = e.GetSeq()
			if e.GetType() != "crash" {
				continue // a probe append below
			}
			writer, n, ok := strings.Cut(e.GetId(), "-")
			if !ok || e.GetAttributes()["writer"] != writer {
				t.Fatalf("round %d: event %s has attributes %v", round, e.GetId(), e.GetAttributes())
			}
			got := e.GetData().GetStructValue().GetFields()["n"].GetNumberValue()
			if fmt.Sprint(got) != n || len(e.GetData().GetStructValue().GetFields()) != 1 {
				t.Fatalf("round %d: event %s carries %v, want {\"n\":%s}", round, e.GetId(), e.GetData(), n)
			}
		}
		for _, w := range writers {
			if w.stream != stream {
				continue
			}
			for _, b := range w.acked {
				for i, id := range b.ids {
					want := b.first + uint64(i)
					if want < start {
						continue
					}
					if got, ok := seen[id]; !ok || got != want {
						t.Fatalf("round %d: acknowledged %s at seq %d is at %d (present %v)", round, id, want, got, ok)
					}
					total++
				}
			}
		}
		next := start - 1 + uint64(len(events))
		res, err := c.events.Append(testContext(t), connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream, Events: numbered(t, 0, 1), ExpectedLastSeq: &next}))
		if err != nil || res.Msg.GetFirstSeq() != next+1 {
			t.Fatalf("round %d: append after restart: %v %v", round, res, err)
		}
	}
	segs, err := admin.ListSegments(testContext(t), connect.NewRequest(&siltv1.ListSegmentsRequest{Project: project}))
	if err != nil {
		t.Fatal(err)
	}
	for _, sg := range segs.Msg.GetSegments() {
		for _, r := range sg.GetStreams() {
			if _, ok := from[r.GetStream()]; ok && r.GetLastSeq()+1 > from[r.GetStream()] {
				from[r.GetStream()] = r.GetLastSeq() + 1
			}
		}
	}
	t.Logf("round %d: %d acknowledged events verified", round, total)
}

// readFrom reads a stream from seq from to its tail.
func readFrom(t *testing.T, c clients, stream string, from uint64) []*siltv1.Event {
	t.Helper()
	var out []*siltv1.Event
	for range 10000 {
		res, err := c.events.Read(testContext(t), connect.NewRequest(&siltv1.ReadRequest{
			Project: project, Stream: stream, Start: &siltv1.ReadRequest_FromSeq{FromSeq: from}, Limit: 10000,
		}))
		if err != nil {
			t.Fatalf("read %s from %d: %v", stream, from, err)
		}
		out = append(out, res.Msg.GetEvents()...)
		from = res.Msg.GetNextSeq()
		if res.Msg.GetUpToDate() {
			return out
		}
	}
	t.Fatal("read did not reach the tail")
	return nil
}

// rotationInterrupted reports whether a killed server left a rotation or
// compaction half-done: a temporary segment file, or a segment file the
// manifest does not list (yet, or any more).
func rotationInterrupted(t *testing.T, root string) bool {
	t.Helper()
	listed := map[string]bool{}
	if b, err := os.ReadFile(filepath.Join(root, "MANIFEST.json")); err == nil {
		var m struct{ Segments []struct{ Path string } }
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("manifest: %v", err)
		}
		for _, s := range m.Segments {
			listed[filepath.Clean(s.Path)] = true
		}
	}
	found := false
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if segment.IsTemp(d.Name()) || (strings.HasSuffix(rel, ".parquet") && !listed[rel]) {
			found = true
		}
		return nil
	})
	return found
}
