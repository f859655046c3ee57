package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
	"github.com/silt-io/silt/pkg/server"
)

// testServer is a real server on 127.0.0.1 with a t.TempDir() data dir.
type testServer struct {
	srv    *server.Server
	url    string
	dir    string
	cancel context.CancelFunc
	done   chan error
}

// startServer starts a server in this process and stops it at cleanup.
func startServer(t *testing.T, configure ...func(*server.Config)) *testServer {
	t.Helper()
	return startServerIn(t, t.TempDir(), configure...)
}

// startServerIn starts a server on dir (to restart on the same data).
func startServerIn(t *testing.T, dir string, configure ...func(*server.Config)) *testServer {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range configure {
		c(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Open(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	scheme := "http://"
	if cfg.TLSCertFile != "" {
		scheme = "https://"
	}
	ts := &testServer{srv: srv, url: scheme + srv.Addr(), dir: dir, cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(ctx) }()
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

// noHistoryWork leaves rotation, compaction and retention to the test.
func noHistoryWork(c *server.Config) {
	c.HistoryInterval = -1
	c.RotateAfter, c.HotMaxBytes = 0, 0
}

// stop stops the server gracefully (idempotent).
func (s *testServer) stop(t *testing.T) {
	t.Helper()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("server stopped with error: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("server did not stop within 30s")
	}
}

// protocol is one wire protocol the tests run over.
type protocol struct {
	name string
	opts []connect.ClientOption
}

// protocols are Connect (over HTTP/1.1) and gRPC (over h2c).
var protocols = []protocol{
	{name: "connect"},
	{name: "grpc", opts: []connect.ClientOption{connect.WithGRPC()}},
	{name: "grpcweb", opts: []connect.ClientOption{connect.WithGRPCWeb()}},
}

// h2cClient speaks cleartext HTTP/2 with prior knowledge, as gRPC needs.
func h2cClient() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{
		Protocols:       &p,
		MaxIdleConns:    100,
		IdleConnTimeout: 30 * time.Second,
	}}
}

// clients are the generated Go clients for one protocol.
type clients struct {
	protocol string
	events   siltv1connect.EventServiceClient
	streams  siltv1connect.StreamServiceClient
	projects siltv1connect.ProjectServiceClient
}

func (s *testServer) clients(p protocol) clients {
	hc := http.DefaultClient
	if p.name == "grpc" {
		hc = h2cClient()
	}
	return clients{
		protocol: p.name,
		events:   siltv1connect.NewEventServiceClient(hc, s.url, p.opts...),
		streams:  siltv1connect.NewStreamServiceClient(hc, s.url, p.opts...),
		projects: siltv1connect.NewProjectServiceClient(hc, s.url, p.opts...),
	}
}

// forEachProtocol runs f as a parallel subtest per protocol.
func forEachProtocol(t *testing.T, f func(t *testing.T, c clients)) {
	t.Helper()
	ts := startServer(t)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			f(t, ts.clients(p))
		})
	}
}

// testContext bounds a test's RPCs.
func testContext(t *testing.T) context.Context {
	t.Helper()
	return boundedContext(t, 60*time.Second)
}

// heavyContext bounds the RPCs of a test that moves tens of MB through
// rotation: on a machine busy with other builds (CI shares it) those took
// more than a minute.
func heavyContext(t *testing.T) context.Context {
	t.Helper()
	return boundedContext(t, 5*time.Minute)
}

func boundedContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// adminClient is an AdminService client for the server at url.
func adminClient(url string) siltv1connect.AdminServiceClient {
	return siltv1connect.NewAdminServiceClient(http.DefaultClient, url)
}
