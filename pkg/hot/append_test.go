package hot

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

func TestStore_Append_SeqsStartAtOneAndAreGapless(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	mustCreate(t, s, "p", "s")
	r1 := mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(3, "a")...)})
	r2 := mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(2, "b")...)})
	if r1.FirstSeq != 1 || r1.LastSeq != 3 || r2.FirstSeq != 4 || r2.LastSeq != 5 {
		t.Fatalf("results %+v %+v, want 1..3 and 4..5", r1, r2)
	}
	res := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s"})
	for i, e := range res.Events {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
	}
	info, err := s.GetStream(t.Context(), "p", "s")
	if err != nil {
		t.Fatal(err)
	}
	if info.LastSeq != 5 || info.FirstSeq != 1 || info.EventCount != 5 || info.Bytes == 0 {
		t.Errorf("info = %+v", info)
	}
}

func TestStore_Append_ReadReturnsEventsAsStored(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := openStore(t, func(o *Options) { o.Now = clock.Now })
	if _, err := s.CreateStream(t.Context(), "p", "s", event.StreamSettings{ContentType: "text/plain"}); err != nil {
		t.Fatal(err)
	}
	in := []event.Event{
		{
			ID: "client-id", Type: "t", Source: "src", Subject: "sub",
			Time:        time.Date(2025, 1, 1, 0, 0, 0, 5, time.UTC),
			Attributes:  map[string]string{"k": "v"},
			Metrics:     map[string]float64{"m": 1.5},
			ContentType: "application/json",
			Data:        []byte(`{"x":1}`),
		},
		{Type: "no-id-no-ct", Data: []byte("hello")},
	}
	res := mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(in...)})
	if !res.IngestTime.Equal(clock.Now()) {
		t.Errorf("IngestTime = %v, want %v", res.IngestTime, clock.Now())
	}
	got := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s"}).Events
	if len(got) != 2 {
		t.Fatalf("read %d events", len(got))
	}
	want0 := in[0]
	want0.Project, want0.Stream, want0.Seq, want0.IngestTime = "p", "s", 1, res.IngestTime
	if !reflect.DeepEqual(got[0], want0) {
		t.Errorf("event 1 = %+v\nwant %+v", got[0], want0)
	}
	if _, err := ulid.ParseStrict(got[1].ID); err != nil {
		t.Errorf("server-made id %q is not a ULID: %v", got[1].ID, err)
	}
	if got[1].ContentType != "text/plain" || string(got[1].Data) != "hello" || got[1].Seq != 2 {
		t.Errorf("event 2 = %+v, want the stream's content type", got[1])
	}
	if in[1].ID != "" {
		t.Errorf("Append changed the caller's event")
	}
}

func TestStore_Append_StreamNotFound(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	_, err := s.Append(t.Context(), event.AppendRequest{Project: "p", Stream: "missing", Events: record.Pack(jsonEvents(1, "a")...)})
	if !errors.Is(err, event.ErrStreamNotFound) {
		t.Fatalf("err = %v, want ErrStreamNotFound", err)
	}
}

func TestStore_Append_AutoCreate(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	res := mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "new", Events: record.Pack(jsonEvents(2, "a")...), AutoCreate: true})
	if res.FirstSeq != 1 || res.LastSeq != 2 {
		t.Fatalf("result = %+v", res)
	}
	info, err := s.GetStream(t.Context(), "p", "new")
	if err != nil {
		t.Fatal(err)
	}
	if info.Settings.ContentType != event.ContentTypeJSON || info.LastSeq != 2 {
		t.Errorf("info = %+v", info)
	}
}

func TestStore_Append_AutoCreateRejectedCreatesNothing(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	_, err := s.Append(t.Context(), event.AppendRequest{
		Project: "p", Stream: "new", Events: record.Pack(jsonEvents(1, "a")...), AutoCreate: true,
		Producer: &event.Producer{ID: "w", Seq: 3},
	})
	var ce *event.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, event.ErrProducerSeqGap) {
		t.Fatalf("err = %v, want a seq gap", err)
	}
	if _, err := s.GetStream(t.Context(), "p", "new"); !errors.Is(err, event.ErrStreamNotFound) {
		t.Errorf("GetStream err = %v, want ErrStreamNotFound", err)
	}
}

func TestStore_Append_IngestTimeNeverDecreases(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := openStore(t, func(o *Options) { o.Now = clock.Now })
	mustCreate(t, s, "p", "s")
	r1 := mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(1, "a")...)})
	clock.Add(-time.Hour)
	r2 := mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(1, "a")...)})
	if r2.IngestTime.Before(r1.IngestTime) {
		t.Fatalf("ingest time went back: %v then %v", r1.IngestTime, r2.IngestTime)
	}
	evs := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s"}).Events
	if !evs[1].IngestTime.Equal(r1.IngestTime) {
		t.Errorf("stored ingest %v, want %v", evs[1].IngestTime, r1.IngestTime)
	}
}

func TestStore_Append_ExpectedLastSeq(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	mustCreate(t, s, "p", "s")
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(2, "a")...), ExpectedLastSeq: u64(0)})
	_, err := s.Append(t.Context(), event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(1, "a")...), ExpectedLastSeq: u64(1)})
	var ce *event.ConflictError
	if !errors.As(err, &ce) || !errors.Is(ce.Err, event.ErrLastSeqMismatch) || ce.Expected != 2 || ce.Got != 1 {
		t.Fatalf("err = %v, want mismatch expected 2 got 1", err)
	}
	res := mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(1, "a")...), ExpectedLastSeq: u64(2)})
	if res.FirstSeq != 3 {
		t.Errorf("result = %+v", res)
	}
}

func TestStore_Append_ExpectedLastSeqRaceHasOneWinner(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	mustCreate(t, s, "p", "s")
	for round := range 5 {
		last := uint64(round)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, conflicts := 0, 0
		for range 16 {
			wg.Go(func() {
				_, err := s.Append(t.Context(), event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(1, "a")...), ExpectedLastSeq: &last})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case errors.Is(err, event.ErrLastSeqMismatch):
					conflicts++
				default:
					t.Errorf("append: %v", err)
				}
			})
		}
		wg.Wait()
		if wins != 1 || conflicts != 15 {
			t.Fatalf("round %d: %d wins, %d conflicts; want 1 and 15", round, wins, conflicts)
		}
	}
}

func TestStore_Append_ConcurrentStreamsStayGapless(t *testing.T) {
	t.Parallel()
	var notified sync.Map
	s := openStore(t, func(o *Options) {
		o.Sync = false
		o.OnCommit = func(p, st string, last uint64) { notified.Store(st, last) }
	})
	const streams, writers, appends = 8, 4, 50
	var wg sync.WaitGroup
	for i := range streams {
		for w := range writers {
			wg.Go(func() {
				for a := range appends {
					n := 1 + (a+w)%3
					evs := jsonEvents(n, fmt.Sprintf("w%d", w))
					if _, err := s.Append(t.Context(), event.AppendRequest{Project: "p", Stream: fmt.Sprintf("s%d", i), Events: record.Pack(evs...), AutoCreate: true}); err != nil {
						t.Errorf("append: %v", err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	for i := range streams {
		name := fmt.Sprintf("s%d", i)
		res := mustRead(t, s, event.ReadRequest{Project: "p", Stream: name})
		for j, e := range res.Events {
			if e.Seq != uint64(j+1) {
				t.Fatalf("%s: event %d has seq %d", name, j, e.Seq)
			}
		}
		want := 0
		for w := range writers {
			for a := range appends {
				want += 1 + (a+w)%3
			}
		}
		if len(res.Events) != want || res.LastSeq != uint64(want) {
			t.Errorf("%s: LastSeq %d, read %d", name, res.LastSeq, len(res.Events))
		}
		if v, _ := notified.Load(name); v != res.LastSeq {
			t.Errorf("%s: OnCommit last seq %v, want %d", name, v, res.LastSeq)
		}
	}
}

func TestStore_Append_GroupRejectsFailingRequestAlone(t *testing.T) {
	t.Parallel()
	g := newGate()
	s := openStore(t, func(o *Options) { o.OnCommit = g.onCommit })
	mustCreate(t, s, "p", "s")
	g.park(t, s) // the committer is parked; what we queue now forms one group
	type out struct {
		res event.AppendResult
		err error
	}
	reqs := []event.AppendRequest{
		{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(2, "ok1")...)},
		{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(1, "bad")...), ExpectedLastSeq: u64(0)}, // after ok1 the last seq is 2
		{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(1, "ok2")...), ExpectedLastSeq: u64(2)},
		{Project: "p", Stream: "missing", Events: record.Pack(jsonEvents(1, "bad")...)},
	}
	outs := make([]chan out, len(reqs))
	for i, r := range reqs {
		outs[i] = make(chan out, 1)
		go func() {
			res, err := s.Append(t.Context(), r)
			outs[i] <- out{res, err}
		}()
		waitQueued(t, s, i+1) // keep the order of the group
	}
	close(g.release)
	o0, o1, o2, o3 := <-outs[0], <-outs[1], <-outs[2], <-outs[3]
	if o0.err != nil || o0.res.FirstSeq != 1 || o0.res.LastSeq != 2 {
		t.Errorf("ok1: %+v", o0)
	}
	if !errors.Is(o1.err, event.ErrLastSeqMismatch) {
		t.Errorf("bad: %v, want mismatch", o1.err)
	}
	if o2.err != nil || o2.res.FirstSeq != 3 {
		t.Errorf("ok2: %+v", o2)
	}
	if !errors.Is(o3.err, event.ErrStreamNotFound) {
		t.Errorf("missing: %v", o3.err)
	}
	evs := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s"}).Events
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	if got := strings.Join(types, ","); got != "ok1,ok1,ok2" {
		t.Errorf("stored types %s", got)
	}
}

// waitQueued waits until n requests wait in s's queue.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(s.queue) < n {
		if time.Now().After(deadline) {
			t.Fatalf("queue has %d requests, want %d", len(s.queue), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestStore_Append_LargeAppendSpansBlocks(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	evs := make([]event.Event, 3000)
	for i := range evs {
		evs[i] = event.Event{Type: "big", Data: []byte(fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("x", 200)))}
	}
	res := mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(evs...), AutoCreate: true})
	if res.LastSeq != 3000 {
		t.Fatalf("result %+v", res)
	}
	got := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s", FromSeq: 1234, Limit: 5000})
	if len(got.Events) != 3000-1233 || got.Events[0].Seq != 1234 || got.NextSeq != 3001 {
		t.Fatalf("read %d events from %d, next %d", len(got.Events), got.Events[0].Seq, got.NextSeq)
	}
	for _, e := range got.Events {
		if want := fmt.Sprintf(`{"i":%d,`, e.Seq-1); !strings.HasPrefix(string(e.Data), want) {
			t.Fatalf("seq %d has data %.20s", e.Seq, e.Data)
		}
	}
	blocks := countKeys(t, s, idPrefix(spaceBlock, 1))
	if blocks < 3 {
		t.Errorf("%d blocks, want the append cut into several", blocks)
	}
}

func TestStore_Append_TooLarge(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	big := event.Event{Data: make([]byte, 2<<20)}
	_, err := s.Append(t.Context(), event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(big), AutoCreate: true})
	if !errors.Is(err, event.ErrAppendTooLarge) {
		t.Fatalf("err = %v, want event.ErrAppendTooLarge", err)
	}
	// Random bytes: blocks are compressed, and the limit is on what Badger
	// is handed. Blocks in the value log count as their pointers towards
	// Badger's transaction limit, so only blocks kept in the LSM tree reach
	// it with a request this small.
	s = openStore(t, func(o *Options) { o.valueThreshold = maxValueThreshold })
	many := make([]event.Event, 40)
	for i := range many {
		many[i] = event.Event{Data: randomBytes(512 << 10)}
	}
	_, err = s.Append(t.Context(), event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(many...), AutoCreate: true})
	if !errors.Is(err, event.ErrAppendTooLarge) {
		t.Fatalf("20 MiB append: err = %v, want event.ErrAppendTooLarge", err)
	}
	if _, err := s.GetStream(t.Context(), "p", "s"); !errors.Is(err, event.ErrStreamNotFound) {
		t.Errorf("stream exists after rejected appends: %v", err)
	}
}

func TestStore_Append_CanceledWaitLeavesStoreConsistent(t *testing.T) {
	t.Parallel()
	g := newGate()
	s := openStore(t, func(o *Options) { o.OnCommit = g.onCommit })
	g.park(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(1, "a")...), AutoCreate: true})
		errc <- err
	}()
	waitQueued(t, s, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	close(g.release)
	// The canceled append still commits; the next one follows it without a gap.
	res := mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(1, "a")...)})
	if res.FirstSeq != 2 {
		t.Errorf("next append got seq %d, want 2", res.FirstSeq)
	}
}
