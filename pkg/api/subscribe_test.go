package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
	"github.com/silt-io/silt/pkg/event"
)

// fakeLog is a Log whose Read is a function field; Append is unused.
type fakeLog struct {
	read  func(ctx context.Context, req event.ReadRequest) (event.ReadResult, error)
	reads atomic.Int64
}

func (f *fakeLog) Append(context.Context, event.AppendRequest) (event.AppendResult, error) {
	return event.AppendResult{}, nil
}

func (f *fakeLog) Read(ctx context.Context, req event.ReadRequest) (event.ReadResult, error) {
	f.reads.Add(1)
	return f.read(ctx, req)
}

// neverWakes is a Waiter for streams nobody appends to.
type neverWakes struct{}

func (neverWakes) Wait(string, string) (<-chan struct{}, func()) { return nil, func() {} }

// serveEvents serves the EventService over log on a test server and
// returns a client and a channel that gets a value each time a Subscribe
// handler returns.
func serveEvents(t *testing.T, log Log) (siltv1connect.EventServiceClient, <-chan struct{}) {
	t.Helper()
	done := make(chan struct{})
	svc := New(nil, log, neverWakes{}, done, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	handlers, err := svc.Handlers()
	if err != nil {
		t.Fatal(err)
	}
	returned := make(chan struct{}, 16)
	mux := http.NewServeMux()
	for path, h := range handlers {
		mux.Handle(path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r)
			if r.URL.Path == siltv1connect.EventServiceSubscribeProcedure {
				returned <- struct{}{}
			}
		}))
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) }) // first: Close waits for handlers

	return siltv1connect.NewEventServiceClient(srv.Client(), srv.URL), returned
}

// TestService_Subscribe_NoProgressIsDataLoss: a store that answers pages
// with no events short of the tail would make the loop read again forever;
// it ends with DataLoss naming the range after one read.
func TestService_Subscribe_NoProgressIsDataLoss(t *testing.T) {
	t.Parallel()
	log := &fakeLog{read: func(_ context.Context, req event.ReadRequest) (event.ReadResult, error) {
		return event.ReadResult{NextSeq: max(req.FromSeq, 1), FirstSeq: 1, LastSeq: 1000}, nil
	}}
	client, _ := serveEvents(t, log)
	stream, err := client.Subscribe(t.Context(), connect.NewRequest(&siltv1.SubscribeRequest{Project: "acme", Stream: "s"}))
	if err != nil {
		t.Fatal(err)
	}
	for stream.Receive() {
	}
	if got := connect.CodeOf(stream.Err()); got != connect.CodeDataLoss {
		t.Fatalf("Subscribe ended with %v, want DataLoss", stream.Err())
	}
	var ce *connect.Error
	if !errors.As(stream.Err(), &ce) {
		t.Fatal(stream.Err())
	}
	var info *errdetails.ErrorInfo
	for _, d := range ce.Details() {
		if v, err := d.Value(); err == nil {
			info, _ = v.(*errdetails.ErrorInfo)
		}
	}
	if info.GetReason() != event.ErrCorrupt.Reason() || info.GetMetadata()["first_seq"] != "1" || info.GetMetadata()["last_seq"] != "1000" {
		t.Errorf("detail %v, want EVENTS_LOST 1..1000", info)
	}
	if n := log.reads.Load(); n != 1 {
		t.Errorf("%d reads, want 1", n)
	}
}

// TestService_Subscribe_StopsWhenClientGoes: a subscriber filtering a long
// backlog for a type it never finds sends nothing, so only its context
// tells it the client has gone. The store here ignores the context.
func TestService_Subscribe_StopsWhenClientGoes(t *testing.T) {
	t.Parallel()
	log := &fakeLog{read: func(_ context.Context, req event.ReadRequest) (event.ReadResult, error) {
		from := max(req.FromSeq, 1)
		e := event.Event{Project: req.Project, Stream: req.Stream, Seq: from, Type: "other", ContentType: event.ContentTypeJSON, Data: []byte(`{}`), IngestTime: time.Now()}
		return event.ReadResult{Events: []event.Event{e}, NextSeq: from + 1, FirstSeq: 1, LastSeq: 1 << 40}, nil
	}}
	client, returned := serveEvents(t, log)
	ctx, cancel := context.WithCancel(t.Context())
	ended := make(chan struct{})
	go func() {
		// The call returns once headers arrive, and nothing is sent: it
		// returns when ctx ends.
		defer close(ended)
		stream, err := client.Subscribe(ctx, connect.NewRequest(&siltv1.SubscribeRequest{Project: "acme", Stream: "s", Types: []string{"wanted"}}))
		if err == nil {
			for stream.Receive() {
			}
			_ = stream.Close()
		}
	}()
	for log.reads.Load() < 100 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-ended
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatalf("Subscribe still running 10s after its client went (%d reads)", log.reads.Load())
	}
	n := log.reads.Load()
	time.Sleep(50 * time.Millisecond)
	if m := log.reads.Load(); m != n {
		t.Errorf("reads went on after the handler returned: %d, then %d", n, m)
	}
}
