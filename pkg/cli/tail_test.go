package cli_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/cli"
	"github.com/silt-io/silt/pkg/server"
)

// TestCLI_Tail_ResumesAfterServerRestart: a server stopped and started
// again on the same data directory and address mid-tail; tail reconnects
// and prints every event once, in order, including those appended before
// it got back.
func TestCLI_Tail_ResumesAfterServerRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := startServerAt(t, "127.0.0.1:0", dir)
	url := first.url
	appendN(t, url, 1, 3)

	tail := startTail(t, url, "--from", "1")
	tail.waitLines(t, 3)

	first.stop(t)
	time.Sleep(500 * time.Millisecond) // tail fails to reconnect meanwhile, and backs off
	second := startServerAt(t, strings.TrimPrefix(url, "http://"), dir)
	appendN(t, url, 4, 6) // most likely before tail is back: its backoff has grown meanwhile
	tail.waitLines(t, 6)
	appendN(t, url, 7, 7) // live again
	tail.waitLines(t, 7)
	out, errOut := tail.stop(t)
	second.stop(t)

	assertSeqs(t, out, 1, 7)
	t.Logf("tail's stderr:\n%s", errOut)
	if !strings.Contains(errOut, "-- connection lost: ") || !strings.Contains(errOut, "-- reconnected, resuming at seq 4 --") {
		t.Errorf("stderr does not say what happened:\n%s", errOut)
	}
}

// TestCLI_Tail_ReconnectsWhenHeartbeatsStop: a connection that stays open
// but carries nothing (a dead NAT entry, a hung proxy) is given up after
// three missed heartbeats, and tail resumes on a new one.
func TestCLI_Tail_ReconnectsWhenHeartbeatsStop(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	proxy := startFreezingProxy(t, strings.TrimPrefix(url, "http://"))
	appendN(t, url, 1, 2)

	tail := startTail(t, "http://"+proxy.addr(), "--from", "1", "--heartbeat", "100ms")
	tail.waitLines(t, 2)
	proxy.freeze() // the connection stays up, but nothing passes
	appendN(t, url, 3, 4)
	tail.waitLines(t, 4)
	out, errOut := tail.stop(t)

	assertSeqs(t, out, 1, 4)
	if !strings.Contains(errOut, "-- connection lost: no heartbeat from the server for 300ms") {
		t.Errorf("stderr does not say why it reconnected:\n%s", errOut)
	}
}

// TestCLI_Tail_StopsOnErrorsARetryCannotFix: a bad request ends tail at
// once, and so does any error with --reconnect=false.
func TestCLI_Tail_StopsOnErrorsARetryCannotFix(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := run(t, ctx, "", "tail", "Not A Stream", "--server", url, "-p", "acme")
	if err == nil || !strings.HasPrefix(err.Error(), "stream name: must be 1 to 256 characters") {
		t.Fatalf("tail of a malformed stream name: %v", err)
	}

	s := startServerAt(t, "127.0.0.1:0", t.TempDir())
	appendN(t, s.url, 1, 1)
	tail := startTail(t, s.url, "--from", "1", "--reconnect=false")
	tail.waitLines(t, 1)
	s.stop(t)
	select {
	case err := <-tail.done:
		if err == nil || !strings.HasPrefix(err.Error(), "the server is unavailable: ") {
			t.Fatalf("tail --reconnect=false after the server stopped: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("tail --reconnect=false went on after the server stopped")
	}
}

// testServer is a server on a fixed address and data directory, to restart.
type testServer struct {
	url    string
	cancel context.CancelFunc
	done   chan error
}

// startServerAt starts a server on addr and dir, configured further by
// configure; it stops at cleanup if the test did not stop it. A port just
// released may take a moment to bind again.
func startServerAt(t *testing.T, addr, dir string, configure ...func(*server.Config)) *testServer {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Addr, cfg.DataDir = addr, dir
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range configure {
		c(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var srv *server.Server
	for deadline := time.Now().Add(10 * time.Second); ; {
		var err error
		if srv, err = server.New(cfg); err != nil {
			t.Fatal(err)
		}
		err = srv.Open(ctx)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			cancel()
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	scheme := "http://"
	if cfg.TLSCertFile != "" {
		scheme = "https://"
	}
	s := &testServer{url: scheme + srv.Addr(), cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(ctx) }()
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *testServer) stop(t *testing.T) {
	t.Helper()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	if err := <-s.done; err != nil {
		t.Error(err)
	}
}

// appendN appends events with data {"n": from} … {"n": to}, one request each.
func appendN(t *testing.T, url string, from, to int) {
	t.Helper()
	for n := from; n <= to; n++ {
		if _, err := run(t, t.Context(), "", "append", "s", "--server", url, "-p", "acme", "--type", "t", fmt.Sprintf(`{"n":%d}`, n)); err != nil {
			t.Fatal(err)
		}
	}
}

// runningTail is `silt tail --json` running in the background.
type runningTail struct {
	out, err safeBuffer
	cancel   context.CancelFunc
	done     chan error
}

func startTail(t *testing.T, url string, args ...string) *runningTail {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	tl := &runningTail{cancel: cancel, done: make(chan error, 1)}
	root := cli.NewRoot(cli.IO{In: strings.NewReader(""), Out: &tl.out, Err: &tl.err})
	root.SetArgs(append([]string{"tail", "s", "--server", url, "-p", "acme", "--json"}, args...))
	go func() { tl.done <- root.ExecuteContext(ctx) }()
	t.Cleanup(cancel)
	return tl
}

// waitLines waits until tail printed n lines.
func (tl *runningTail) waitLines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(tl.out.String(), "\n") < n {
		select {
		case err := <-tl.done:
			t.Fatalf("tail ended with %v; stdout:\n%s\nstderr:\n%s", err, tl.out.String(), tl.err.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("tail printed %d lines, want %d; stdout:\n%s\nstderr:\n%s",
				strings.Count(tl.out.String(), "\n"), n, tl.out.String(), tl.err.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop ends tail as Ctrl-C does and returns its stdout and stderr.
func (tl *runningTail) stop(t *testing.T) (stdout, stderr string) {
	t.Helper()
	tl.cancel()
	if err := <-tl.done; err != nil {
		t.Fatalf("tail ended with %v", err)
	}
	return tl.out.String(), tl.err.String()
}

// assertSeqs checks that out holds the events from..to, each once, in order.
func assertSeqs(t *testing.T, out string, from, to int) {
	t.Helper()
	lines := parseLines(t, out)
	if len(lines) != to-from+1 {
		t.Fatalf("%d events, want %d..%d:\n%s", len(lines), from, to, out)
	}
	for i, l := range lines {
		want := float64(from + i)
		if l["seq"] != want || l["data"].(map[string]any)["n"] != want {
			t.Fatalf("event %d is %v, want seq and n %v:\n%s", i+1, l, want, out)
		}
	}
}

// freezingProxy forwards TCP connections to a server until freeze, after
// which the connections it has stay open but pass nothing; new ones work.
type freezingProxy struct {
	ln     net.Listener
	mu     sync.Mutex
	frozen map[net.Conn]bool // connections accepted before freeze
	conns  []net.Conn
}

func startFreezingProxy(t *testing.T, target string) *freezingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezingProxy{ln: ln, frozen: map[net.Conn]bool{}}
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			upstream, err := net.Dial("tcp", target)
			if err != nil {
				_ = client.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, client, upstream)
			p.mu.Unlock()
			go p.pipe(client, upstream, client)
			go p.pipe(upstream, client, client)
		}
	}()
	return p
}

func (p *freezingProxy) addr() string { return p.ln.Addr().String() }

// freeze stops every connection open now from passing anything more.
func (p *freezingProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		p.frozen[c] = true
	}
}

// pipe copies from src to dst until the connection of client is frozen.
func (p *freezingProxy) pipe(src, dst, client net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		frozen := p.frozen[client]
		p.mu.Unlock()
		if frozen {
			return // hold the connection open, silent
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			_ = dst.Close()
			return
		}
	}
}
