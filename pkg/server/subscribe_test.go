package server_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/server"
)

// subscription collects what a Subscribe receives.
type subscription struct {
	mu        sync.Mutex
	events    []*siltv1.Event
	caughtUp  []*siltv1.CaughtUp
	heartbeat []*siltv1.Heartbeat
	err       error
	done      chan struct{}
	cancel    context.CancelFunc
}

func subscribe(t *testing.T, c clients, req *siltv1.SubscribeRequest) *subscription {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	stream, err := c.events.Subscribe(ctx, connect.NewRequest(req))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &subscription{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(s.done)
		for stream.Receive() {
			s.mu.Lock()
			switch m := stream.Msg().GetMessage().(type) {
			case *siltv1.SubscribeResponse_Batch:
				s.events = append(s.events, m.Batch.GetEvents()...)
			case *siltv1.SubscribeResponse_CaughtUp:
				s.caughtUp = append(s.caughtUp, m.CaughtUp)
			case *siltv1.SubscribeResponse_Heartbeat:
				s.heartbeat = append(s.heartbeat, m.Heartbeat)
			}
			s.mu.Unlock()
		}
		s.mu.Lock()
		s.err = stream.Err()
		s.mu.Unlock()
	}()
	t.Cleanup(func() { cancel(); <-s.done })
	return s
}

// waitFor polls cond (bounded) until it holds.
func (s *subscription) waitFor(t *testing.T, what string, cond func(s *subscription) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		ok := cond(s)
		err := s.err
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-s.done:
			t.Fatalf("subscription ended (%v) before %s", err, what)
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestAPI_Subscribe_CatchUpThenLive(t *testing.T) {
	t.Parallel()
	forEachProtocol(t, func(t *testing.T, c clients) {
		stream := streamName(t)
		ctx := testContext(t)
		for i := range 5 {
			if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream, Events: numbered(t, i*100, 100)})); err != nil {
				t.Fatal(err)
			}
		}
		sub := subscribe(t, c, &siltv1.SubscribeRequest{Project: project, Stream: stream, Start: &siltv1.SubscribeRequest_FromSeq{FromSeq: 0}})
		sub.waitFor(t, "caught up", func(s *subscription) bool { return len(s.caughtUp) > 0 })
		sub.mu.Lock()
		if cu := sub.caughtUp[0]; cu.GetLastSeq() != 500 || cu.GetNextSeq() != 501 || len(sub.events) != 500 {
			t.Fatalf("caught up %v after %d events, want last 500 after 500", cu, len(sub.events))
		}
		sub.mu.Unlock()

		// Concurrent writers while the subscriber is live.
		const writers, batches, per = 4, 25, 7
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for b := range batches {
					if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream, Events: numbered(t, w*10000+b*per, per)})); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		total := 500 + writers*batches*per
		sub.waitFor(t, "all live events", func(s *subscription) bool { return len(s.events) >= total })
		time.Sleep(50 * time.Millisecond) // a duplicate would arrive now
		sub.mu.Lock()
		defer sub.mu.Unlock()
		if len(sub.events) != total {
			t.Fatalf("received %d events, want exactly %d", len(sub.events), total)
		}
		for i, e := range sub.events {
			if e.GetSeq() != uint64(i+1) {
				t.Fatalf("event %d has seq %d: gap, duplicate or disorder", i, e.GetSeq())
			}
		}
		if len(sub.caughtUp) != 1 {
			t.Fatalf("got %d caught-up markers, want 1", len(sub.caughtUp))
		}
	})
}

func TestAPI_Subscribe_FromTailTypesAndHeartbeat(t *testing.T) {
	t.Parallel()
	forEachProtocol(t, func(t *testing.T, c clients) {
		stream := streamName(t)
		ctx := testContext(t)
		if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream, Events: numbered(t, 0, 3)})); err != nil {
			t.Fatal(err)
		}
		sub := subscribe(t, c, &siltv1.SubscribeRequest{
			Project: project, Stream: stream, Start: &siltv1.SubscribeRequest_FromTail{FromTail: true},
			Types: []string{"wanted"}, HeartbeatInterval: durationpb.New(100 * time.Millisecond),
		})
		sub.waitFor(t, "caught up", func(s *subscription) bool { return len(s.caughtUp) > 0 })
		sub.waitFor(t, "two heartbeats", func(s *subscription) bool { return len(s.heartbeat) >= 2 })
		events := []*siltv1.EventInput{jsonEvent(t, "other", nil), jsonEvent(t, "wanted", map[string]any{"k": "v"}), jsonEvent(t, "other", nil)}
		if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream, Events: events})); err != nil {
			t.Fatal(err)
		}
		sub.waitFor(t, "the wanted event", func(s *subscription) bool { return len(s.events) >= 1 })
		sub.waitFor(t, "a heartbeat past it", func(s *subscription) bool {
			return s.heartbeat[len(s.heartbeat)-1].GetNextSeq() == 7
		})
		sub.mu.Lock()
		defer sub.mu.Unlock()
		if len(sub.events) != 1 || sub.events[0].GetSeq() != 5 || sub.events[0].GetType() != "wanted" {
			t.Fatalf("got %v, want only seq 5 of type wanted", sub.events)
		}
		if sub.caughtUp[0].GetLastSeq() != 3 {
			t.Fatalf("from tail caught up at %d, want 3", sub.caughtUp[0].GetLastSeq())
		}
	})
}

// TestAPI_Subscribe_MissingStreamIsNotFound: without auto-create a
// subscription to a stream that does not exist ends with NotFound.
func TestAPI_Subscribe_MissingStreamIsNotFound(t *testing.T) {
	t.Parallel()
	ts := startServer(t, func(c *server.Config) { c.AutoCreate = false })
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			sub := subscribe(t, ts.clients(p), &siltv1.SubscribeRequest{Project: project, Stream: "nope"})
			select {
			case <-sub.done:
			case <-time.After(30 * time.Second):
				t.Fatal("subscription to a missing stream did not end")
			}
			requireCode(t, sub.err, connect.CodeNotFound)
		})
	}
}

// TestAPI_Subscribe_WaitsForAStreamToBeCreated: with auto-create (the
// default) a subscription to a stream that does not exist yet, from seq 1
// or from the tail, is caught up at 0 and receives the events of the Append
// that creates the stream.
func TestAPI_Subscribe_WaitsForAStreamToBeCreated(t *testing.T) {
	t.Parallel()
	forEachProtocol(t, func(t *testing.T, c clients) {
		for _, start := range []struct {
			name string
			req  *siltv1.SubscribeRequest
		}{
			{"from seq 1", &siltv1.SubscribeRequest{Start: &siltv1.SubscribeRequest_FromSeq{FromSeq: 1}}},
			{"from tail", &siltv1.SubscribeRequest{Start: &siltv1.SubscribeRequest_FromTail{FromTail: true}}},
		} {
			t.Run(start.name, func(t *testing.T) {
				stream := streamName(t)
				start.req.Project, start.req.Stream = project, stream
				sub := subscribe(t, c, start.req)
				sub.waitFor(t, "caught up", func(s *subscription) bool { return len(s.caughtUp) == 1 })
				sub.mu.Lock()
				up := sub.caughtUp[0]
				sub.mu.Unlock()
				if up.GetLastSeq() != 0 || up.GetNextSeq() != 1 {
					t.Fatalf("caught up at last %d next %d, want 0 and 1", up.GetLastSeq(), up.GetNextSeq())
				}
				if _, err := c.events.Append(testContext(t), connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream, Events: numbered(t, 0, 2)})); err != nil {
					t.Fatal(err)
				}
				sub.waitFor(t, "the first events", func(s *subscription) bool { return len(s.events) == 2 })
				sub.mu.Lock()
				defer sub.mu.Unlock()
				if sub.events[0].GetSeq() != 1 || sub.events[1].GetSeq() != 2 {
					t.Fatalf("received seqs %d, %d; want 1, 2", sub.events[0].GetSeq(), sub.events[1].GetSeq())
				}
			})
		}
	})
}

// TestAPI_Subscribe_EndsWhenItsStreamIsReplaced: a stream deleted and
// created again by an auto-creating Append starts its seqs over; a
// subscriber of the old one must end with NotFound at the new one's first
// events instead of reading on from its old position, which skipped them.
func TestAPI_Subscribe_EndsWhenItsStreamIsReplaced(t *testing.T) {
	t.Parallel()
	forEachProtocol(t, func(t *testing.T, c clients) {
		stream := streamName(t)
		ctx := testContext(t)
		appendN := func(n int) {
			t.Helper()
			if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream, Events: numbered(t, 0, n)})); err != nil {
				t.Fatal(err)
			}
		}
		appendN(3)
		sub := subscribe(t, c, &siltv1.SubscribeRequest{Project: project, Stream: stream, Start: &siltv1.SubscribeRequest_FromSeq{FromSeq: 1}})
		sub.waitFor(t, "seqs 1..3", func(s *subscription) bool { return len(s.events) == 3 })
		if _, err := c.streams.DeleteStream(ctx, connect.NewRequest(&siltv1.DeleteStreamRequest{Project: project, Stream: stream})); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			appendN(1) // seqs 1..5 of the new stream
		}
		select {
		case <-sub.done:
		case <-time.After(30 * time.Second):
			t.Fatal("the subscription of a replaced stream did not end")
		}
		requireCode(t, sub.err, connect.CodeNotFound)
		sub.mu.Lock()
		defer sub.mu.Unlock()
		if len(sub.events) != 3 {
			t.Errorf("received %d events, want the old stream's 3 and none of the new one's", len(sub.events))
		}
	})
}

// TestAPI_Subscribe_EndsWhenItsStreamIsDeleted: a delete wakes the
// stream's subscribers, which end with NotFound at once rather than wait
// (heartbeating) on a name nothing may ever be appended to again.
func TestAPI_Subscribe_EndsWhenItsStreamIsDeleted(t *testing.T) {
	t.Parallel()
	forEachProtocol(t, func(t *testing.T, c clients) {
		stream := streamName(t)
		ctx := testContext(t)
		if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream, Events: numbered(t, 0, 2)})); err != nil {
			t.Fatal(err)
		}
		sub := subscribe(t, c, &siltv1.SubscribeRequest{Project: project, Stream: stream, HeartbeatInterval: durationpb.New(10 * time.Minute)})
		sub.waitFor(t, "caught up", func(s *subscription) bool { return len(s.caughtUp) == 1 })
		if _, err := c.streams.DeleteStream(ctx, connect.NewRequest(&siltv1.DeleteStreamRequest{Project: project, Stream: stream})); err != nil {
			t.Fatal(err)
		}
		select {
		case <-sub.done:
		case <-time.After(30 * time.Second):
			t.Fatal("the subscription of a deleted stream did not end")
		}
		requireCode(t, sub.err, connect.CodeNotFound)
	})
}

func TestServer_Stop_EndsSubscriptions(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	c := ts.clients(protocols[0])
	if _, err := c.events.Append(testContext(t), connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: "s", Events: numbered(t, 0, 1)})); err != nil {
		t.Fatal(err)
	}
	sub := subscribe(t, c, &siltv1.SubscribeRequest{Project: project, Stream: "s"})
	sub.waitFor(t, "caught up", func(s *subscription) bool { return len(s.caughtUp) > 0 })
	ts.stop(t)
	select {
	case <-sub.done:
	case <-time.After(30 * time.Second):
		t.Fatal("subscription outlived the server")
	}
	requireCode(t, sub.err, connect.CodeUnavailable)
}
