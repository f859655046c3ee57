package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
	"github.com/silt-io/silt/pkg/api"
	"github.com/silt-io/silt/pkg/server"
)

// engine is one event store under test, reached over loopback TCP.
type engine interface {
	// NewStream makes a fresh, empty stream and returns its handle.
	NewStream(ctx context.Context) (string, error)
	// AppendBatch appends evs to stream and returns once every one is acknowledged.
	AppendBatch(ctx context.Context, stream string, evs []*sample) error
	// AppendOne appends one event and returns its seq once acknowledged.
	AppendOne(ctx context.Context, stream string, ev *sample) (uint64, error)
	// ReadAll reads want events from the start of stream in pages of page
	// events and returns how many it read.
	ReadAll(ctx context.Context, stream string, page, want int) (int, error)
	// Subscribe follows stream from its tail and calls fn with the seq of
	// every new event as it arrives; it returns once the subscription is
	// live. stop ends it.
	Subscribe(ctx context.Context, stream string, fn func(seq uint64)) (stop func(), err error)
	// Close stops the engine and removes nothing (the data dir is the test's).
	Close()
}

// engineSpec names an engine configuration and starts it.
type engineSpec struct {
	name  string
	start func(tb testing.TB) engine
}

// engines are the configurations every workload runs against, Silt's with
// both payload encodings.
func engines() []engineSpec {
	return []engineSpec{
		{"silt-durable/data=binary", func(tb testing.TB) engine { return startSilt(tb, true, false, httpProto()) }},
		{"silt-durable/data=value", func(tb testing.TB) engine { return startSilt(tb, true, true, httpProto()) }},
		{"silt-nosync/data=binary", func(tb testing.TB) engine { return startSilt(tb, false, false, httpProto()) }},
		{"silt-nosync/data=value", func(tb testing.TB) engine { return startSilt(tb, false, true, httpProto()) }},
		{"nats-default/data=json", func(tb testing.TB) engine { return startNATS(tb, false) }},
		{"nats-sync-always/data=json", func(tb testing.TB) engine { return startNATS(tb, true) }},
	}
}

// httpProto is how the Silt client talks to the server: "h2c" (HTTP/2
// without TLS, prior knowledge) or "http1". SILT_BENCH_HTTP overrides the
// default, which BenchmarkSiltTransport chose.
func httpProto() string {
	if p := os.Getenv("SILT_BENCH_HTTP"); p != "" {
		return p
	}
	return defaultHTTPProto
}

// defaultHTTPProto is the faster transport in BenchmarkSiltTransport on the
// reference machine (see docs/benchmarks.md).
const defaultHTTPProto = "h2c"

// newHTTPClient returns a client speaking only proto (a "-identity"
// suffix is for the Connect client and ignored here).
func newHTTPClient(proto string) *http.Client {
	p := new(http.Protocols)
	switch strings.TrimSuffix(proto, "-identity") {
	case "h2c":
		p.SetUnencryptedHTTP2(true)
	case "http1":
		p.SetHTTP1(true)
	default:
		panic("unknown http protocol " + proto)
	}
	return &http.Client{Transport: &http.Transport{
		Protocols:           p,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}}
}

// ---- Silt ----

const benchProject = "bench"

// siltClient is the benchmark's Go client of one Silt server: the
// generated Connect clients over one HTTP client.
type siltClient struct {
	httpc   *http.Client
	events  siltv1connect.EventServiceClient
	streams siltv1connect.StreamServiceClient
	admin   siltv1connect.AdminServiceClient
	value   bool
	n       atomic.Int64
}

// newSiltClient returns a client of the server at addr speaking proto;
// value sends the JSON data as a google.protobuf.Value instead of
// binary_data.
func newSiltClient(addr, proto string, value bool) *siltClient {
	c := &siltClient{httpc: newHTTPClient(proto), value: value}
	base := "http://" + addr
	// The Go client uses Silt's vtprotobuf codec, as a Go SDK would.
	copts := []connect.ClientOption{connect.WithCodec(api.Codec{})}
	if strings.HasSuffix(proto, "-identity") {
		// Do not offer gzip: the server then sends responses uncompressed.
		copts = append(copts, connect.WithAcceptCompression("gzip", nil, nil))
	}
	c.events = siltv1connect.NewEventServiceClient(c.httpc, base, copts...)
	c.streams = siltv1connect.NewStreamServiceClient(c.httpc, base)
	c.admin = siltv1connect.NewAdminServiceClient(c.httpc, base, copts...)
	return c
}

// siltEngine is a Silt server in this process and its client.
type siltEngine struct {
	*siltClient
	srv    *server.Server
	cancel context.CancelFunc
	served chan error
}

// siltConfig is the server config of every in-process Silt engine: the
// defaults of `silt serve`, a loopback port, a fresh data dir, no logs.
func siltConfig(tb testing.TB) server.Config {
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = tb.TempDir()
	cfg.Logger = slog.New(slog.DiscardHandler)
	return cfg
}

// startSilt starts a real Silt server on a loopback port with a fresh data
// dir. sync is the server's --sync; value sends the JSON data as a
// google.protobuf.Value instead of binary_data.
func startSilt(tb testing.TB, sync, value bool, proto string) *siltEngine {
	tb.Helper()
	cfg := siltConfig(tb)
	cfg.Sync = sync
	return startSiltConfig(tb, cfg, value, proto)
}

// startSiltConfig starts a Silt server from cfg in this process and
// connects a client to it.
func startSiltConfig(tb testing.TB, cfg server.Config, value bool, proto string) *siltEngine {
	tb.Helper()
	srv, err := server.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Open(ctx); err != nil {
		cancel()
		tb.Fatal(err)
	}
	e := &siltEngine{srv: srv, cancel: cancel, served: make(chan error, 1)}
	go func() { e.served <- srv.Serve(ctx) }()
	e.siltClient = newSiltClient(srv.Addr(), proto, value)
	return e
}

func (e *siltClient) NewStream(ctx context.Context) (string, error) {
	name := fmt.Sprintf("s%d", e.n.Add(1))
	_, err := e.streams.CreateStream(ctx, connect.NewRequest(&siltv1.CreateStreamRequest{Project: benchProject, Stream: name}))
	return name, err
}

func (e *siltClient) input(s *sample) *siltv1.EventInput {
	if e.value {
		return s.value
	}
	return s.bin
}

func (e *siltClient) AppendBatch(ctx context.Context, stream string, evs []*sample) error {
	in := make([]*siltv1.EventInput, len(evs))
	for i, s := range evs {
		in[i] = e.input(s)
	}
	res, err := e.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: benchProject, Stream: stream, Events: in}))
	if err != nil {
		return err
	}
	if got := res.Msg.GetLastSeq() - res.Msg.GetFirstSeq() + 1; got != uint64(len(evs)) {
		return fmt.Errorf("appended %d events, acknowledged %d", len(evs), got)
	}
	return nil
}

func (e *siltClient) AppendOne(ctx context.Context, stream string, ev *sample) (uint64, error) {
	res, err := e.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{
		Project: benchProject, Stream: stream, Events: []*siltv1.EventInput{e.input(ev)},
	}))
	if err != nil {
		return 0, err
	}
	return res.Msg.GetLastSeq(), nil
}

func (e *siltClient) ReadAll(ctx context.Context, stream string, page, want int) (int, error) {
	n := 0
	next := uint64(1)
	for n < want {
		res, err := e.events.Read(ctx, connect.NewRequest(&siltv1.ReadRequest{
			Project: benchProject, Stream: stream,
			Start: &siltv1.ReadRequest_FromSeq{FromSeq: next}, Limit: uint32(page),
			// A client that sends JSON as bytes reads it back as bytes.
			RawJson: !e.value,
		}))
		if err != nil {
			return n, err
		}
		evs := res.Msg.GetEvents()
		if len(evs) == 0 {
			return n, fmt.Errorf("read %d of %d events: empty page at seq %d", n, want, next)
		}
		if evs[0].GetSeq() != next {
			return n, fmt.Errorf("page starts at seq %d, want %d", evs[0].GetSeq(), next)
		}
		n += len(evs)
		next = res.Msg.GetNextSeq()
	}
	return n, nil
}

func (e *siltClient) Subscribe(ctx context.Context, stream string, fn func(seq uint64)) (func(), error) {
	ctx, cancel := context.WithCancel(ctx)
	sub, err := e.events.Subscribe(ctx, connect.NewRequest(&siltv1.SubscribeRequest{
		Project: benchProject, Stream: stream, Start: &siltv1.SubscribeRequest_FromTail{FromTail: true},
		RawJson: !e.value,
	}))
	if err != nil {
		cancel()
		return nil, err
	}
	for {
		if !sub.Receive() {
			cancel()
			return nil, fmt.Errorf("subscription ended before caught up: %w", sub.Err())
		}
		if sub.Msg().GetCaughtUp() != nil {
			break
		}
		for _, ev := range sub.Msg().GetBatch().GetEvents() {
			fn(ev.GetSeq())
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for sub.Receive() {
			for _, ev := range sub.Msg().GetBatch().GetEvents() {
				fn(ev.GetSeq())
			}
		}
	}()
	return func() {
		cancel()
		<-done
		_ = sub.Close()
	}, nil
}

// SubscribeBacklog subscribes to stream from seq 1, counts the events
// until the caught-up marker, checks they came in seq order without a gap,
// and ends the subscription.
func (e *siltClient) SubscribeBacklog(ctx context.Context, stream string) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub, err := e.events.Subscribe(ctx, connect.NewRequest(&siltv1.SubscribeRequest{
		Project: benchProject, Stream: stream, Start: &siltv1.SubscribeRequest_FromSeq{FromSeq: 1},
		RawJson: !e.value,
	}))
	if err != nil {
		return 0, err
	}
	defer sub.Close()
	n := 0
	for sub.Receive() {
		if sub.Msg().GetCaughtUp() != nil {
			return n, nil
		}
		for _, ev := range sub.Msg().GetBatch().GetEvents() {
			if n++; ev.GetSeq() != uint64(n) {
				return n, fmt.Errorf("event %d of %s has seq %d", n, stream, ev.GetSeq())
			}
		}
	}
	return n, fmt.Errorf("subscription ended before caught up: %w", sub.Err())
}

func (e *siltEngine) Close() {
	e.cancel()
	if err := <-e.served; err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "silt serve:", err)
	}
	e.httpc.CloseIdleConnections()
}

// ---- NATS JetStream ----

type natsEngine struct {
	// ns is the embedded server, nil when it runs in another process.
	ns *natsserver.Server
	nc *nats.Conn
	js jetstream.JetStream
	// batchers are JetStream contexts for AppendBatch, one per concurrent
	// batch, since PublishAsyncComplete waits for all of a context's acks.
	batchers chan jetstream.JetStream
	n        atomic.Int64
}

// startNATS starts an embedded nats-server with JetStream file storage in a
// fresh dir, listening on a loopback port, and connects to it over TCP.
// syncAlways is JetStream's sync_interval: always (fsync before every ack);
// without it the file store fsyncs every 2 minutes (the default).
func startNATS(tb testing.TB, syncAlways bool) *natsEngine {
	tb.Helper()
	ns, err := natsserver.NewServer(natsOptions(tb.TempDir(), syncAlways))
	if err != nil {
		tb.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		tb.Fatal("nats-server not ready")
	}
	e := connectNATS(tb, ns.ClientURL())
	e.ns = ns
	return e
}

// connectNATS connects to the nats-server at url; the engine's Close stops
// the server too only if its ns is set.
func connectNATS(tb testing.TB, url string) *natsEngine {
	tb.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		tb.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	e := &natsEngine{nc: nc, js: js, batchers: make(chan jetstream.JetStream, 16)}
	for range cap(e.batchers) {
		bj, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
		if err != nil {
			tb.Fatal(err)
		}
		e.batchers <- bj
	}
	return e
}

// A NATS stream handle is its name; its one subject is the name in lower case.
func natsSubject(stream string) string { return "ev." + stream }

func (e *natsEngine) NewStream(ctx context.Context) (string, error) {
	name := fmt.Sprintf("S%d", e.n.Add(1))
	_, err := e.js.CreateStream(ctx, jetstream.StreamConfig{
		Name: name, Subjects: []string{natsSubject(name)}, Storage: jetstream.FileStorage, Replicas: 1,
	})
	return name, err
}

// AppendBatch publishes the batch asynchronously and waits for every ack
// (PublishAsync + PublishAsyncComplete).
func (e *natsEngine) AppendBatch(ctx context.Context, stream string, evs []*sample) error {
	js := <-e.batchers
	defer func() { e.batchers <- js }()
	subj := natsSubject(stream)
	futs := make([]jetstream.PubAckFuture, len(evs))
	for i, s := range evs {
		f, err := js.PublishAsync(subj, s.nats)
		if err != nil {
			return err
		}
		futs[i] = f
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, f := range futs {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return err
		}
	}
	return nil
}

func (e *natsEngine) AppendOne(ctx context.Context, stream string, ev *sample) (uint64, error) {
	ack, err := e.js.Publish(ctx, natsSubject(stream), ev.nats)
	if err != nil {
		return 0, err
	}
	return ack.Sequence, nil
}

// ReadAll reads with an ordered consumer, fetching batches of page messages.
func (e *natsEngine) ReadAll(ctx context.Context, stream string, page, want int) (int, error) {
	cons, err := e.js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return 0, err
	}
	n := 0
	for n < want {
		mb, err := cons.Fetch(min(page, want-n), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return n, err
		}
		got := 0
		for m := range mb.Messages() {
			_ = m.Data()
			got++
		}
		if err := mb.Error(); err != nil {
			return n, err
		}
		if got == 0 {
			return n, fmt.Errorf("read %d of %d messages: empty fetch", n, want)
		}
		n += got
	}
	return n, nil
}

// Subscribe follows the stream with an ordered consumer from the tail
// (DeliverNew) using Consume (continuous pull).
func (e *natsEngine) Subscribe(ctx context.Context, stream string, fn func(seq uint64)) (func(), error) {
	cons, err := e.js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		return nil, err
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		md, err := m.Metadata()
		if err != nil {
			return
		}
		fn(md.Sequence.Stream)
	})
	if err != nil {
		return nil, err
	}
	// Consume creates the consumer asynchronously; make sure it exists so
	// DeliverNew starts before the first write.
	deadline := time.Now().Add(5 * time.Second)
	for {
		info, err := e.js.Stream(ctx, stream)
		if err == nil && info.CachedInfo().State.Consumers > 0 {
			break
		}
		if time.Now().After(deadline) {
			cc.Stop()
			return nil, errors.New("ordered consumer did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	var once sync.Once
	return func() { once.Do(cc.Stop) }, nil
}

func (e *natsEngine) Close() {
	e.nc.Close()
	if e.ns != nil {
		e.ns.Shutdown()
		e.ns.WaitForShutdown()
	}
}
