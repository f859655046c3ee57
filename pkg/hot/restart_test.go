package hot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

func TestStore_Open_RestoresEverything(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(testOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateStream(t.Context(), "p", "a", event.StreamSettings{ContentType: "text/plain"}); err != nil {
		t.Fatal(err)
	}
	first, _ := appendAs(t, s, "a", "w", 4, 0, 2)
	if _, err := appendAs(t, s, "a", "w", 4, 1, 3); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "b", Events: record.Pack(jsonEvents(7, "x")...), AutoCreate: true})
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "gone", Events: record.Pack(jsonEvents(7, "x")...), AutoCreate: true})
	if err := s.DeleteStream(t.Context(), "p", "gone"); err != nil {
		t.Fatal(err)
	}
	before, _ := s.ListStreams(t.Context(), event.ListStreamsRequest{Project: "p"})
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(t.Context(), event.AppendRequest{Project: "p", Stream: "a", Events: record.Pack(jsonEvents(1, "x")...)}); !errors.Is(err, event.ErrClosed) {
		t.Errorf("append after close: %v", err)
	}
	if _, err := s.Read(t.Context(), event.ReadRequest{Project: "p", Stream: "a", Limit: 1}); !errors.Is(err, event.ErrClosed) {
		t.Errorf("read after close: %v", err)
	}

	s = openStoreIn(t, dir)
	after, _ := s.ListStreams(t.Context(), event.ListStreamsRequest{Project: "p"})
	if fmt.Sprint(before) != fmt.Sprint(after) || len(after) != 2 {
		t.Fatalf("streams before %+v\nafter %+v", before, after)
	}
	// Producer state survived: a retry of batch 0 is a duplicate, batch 2 continues.
	dup, err := appendAs(t, s, "a", "w", 4, 0, 2)
	if err != nil || !dup.Duplicate || dup.FirstSeq != first.FirstSeq || !dup.IngestTime.Equal(first.IngestTime) {
		t.Fatalf("dup after restart: %+v %v", dup, err)
	}
	_, err = appendAs(t, s, "a", "w", 3, 2, 1)
	wantConflict(t, err, event.ErrProducerFenced, 4, 3)
	next, err := appendAs(t, s, "a", "w", 4, 2, 1)
	if err != nil || next.FirstSeq != 6 {
		t.Fatalf("next batch: %+v %v", next, err)
	}
	res := mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "b", Events: record.Pack(jsonEvents(1, "x")...)})
	if res.FirstSeq != 8 {
		t.Errorf("b continued at %d, want 8", res.FirstSeq)
	}
	res = mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "gone", Events: record.Pack(jsonEvents(1, "x")...), AutoCreate: true})
	if res.FirstSeq != 1 {
		t.Errorf("recreated stream starts at %d", res.FirstSeq)
	}
	if got := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "a"}); len(got.Events) != 6 || got.Events[0].ContentType != "text/plain" {
		t.Errorf("a after restart: %d events", len(got.Events))
	}
}

func TestStore_Close_FinishesQueuedWork(t *testing.T) {
	t.Parallel()
	g := newGate()
	dir := t.TempDir()
	s, err := Open(testOptions(dir, func(o *Options) { o.OnCommit = g.onCommit }))
	if err != nil {
		t.Fatal(err)
	}
	g.park(t, s)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if _, err := s.Append(context.Background(), event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(1, "a")...), AutoCreate: true}); err != nil {
				t.Errorf("append %d: %v", i, err)
			}
		})
	}
	waitQueued(t, s, 10)
	closed := make(chan error, 1)
	go func() { closed <- s.Close(context.Background()) }()
	close(g.release)
	wg.Wait()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	s = openStoreIn(t, dir)
	if info, err := s.GetStream(t.Context(), "p", "s"); err != nil || info.LastSeq != 10 {
		t.Fatalf("after close: %+v %v", info, err)
	}
}

// crashEnv makes the test binary act as the crashing child process.
const crashEnv = "SILT_HOT_CRASH_DIR"

// TestStore_Open_AfterProcessCrash kills a process that appended with
// Sync=false right after its acks and checks that every acked event is there.
func TestStore_Open_AfterProcessCrash(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(dir)
		return
	}
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestStore_Open_AfterProcessCrash$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("child: %v (want exit code 3)\n%s", err, out)
	}
	fields := strings.Fields(string(out))
	if len(fields) == 0 {
		t.Fatal("child acked nothing")
	}
	acked, err := strconv.ParseUint(fields[len(fields)-1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	s := openStoreIn(t, dir)
	res := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s", Limit: 10000})
	if res.LastSeq < acked || uint64(len(res.Events)) != res.LastSeq {
		t.Fatalf("child acked seq %d; after the crash last seq %d with %d events", acked, res.LastSeq, len(res.Events))
	}
}

// crashChild appends without Sync, prints each acked last seq and exits
// without closing the store.
func crashChild(dir string) {
	opts := testOptions(dir, func(o *Options) { o.Sync = false })
	s, err := Open(opts)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	for range 200 {
		res, err := s.Append(context.Background(), event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(5, "a")...), AutoCreate: true})
		if err != nil {
			fmt.Println("append:", err)
			os.Exit(1)
		}
		fmt.Println(res.LastSeq)
	}
	os.Exit(3) // no Close: Badger's files are left as a crash leaves them
}
