package server_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
	"github.com/silt-io/silt/pkg/server"
)

// closeBound is how long a test waits for the server to close a
// connection its limit should close; the limits themselves are far shorter.
const closeBound = 30 * time.Second

// dialRaw opens a TCP connection to the server at url.
func dialRaw(t *testing.T, url string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", hostPort(url))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// waitClosed reads from conn until the server closes it, and fails the
// test if that takes closeBound.
func waitClosed(t *testing.T, conn net.Conn, what string) {
	t.Helper()
	if err := readUntilClosed(conn); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// readUntilClosed reads from conn until the server closes it, or says it
// kept it open for closeBound.
func readUntilClosed(conn net.Conn) error {
	if err := conn.SetReadDeadline(time.Now().Add(closeBound)); err != nil {
		return err
	}
	_, err := io.Copy(io.Discard, conn)
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return fmt.Errorf("the server kept the connection open for %v", closeBound)
	}
	return nil
}

// TestServer_ReadHeaderTimeout_Slowloris: a client that sends its headers
// a few bytes at a time is disconnected after the header timeout, and so
// is one that never finishes a TLS handshake.
func TestServer_ReadHeaderTimeout_Slowloris(t *testing.T) {
	t.Parallel()
	short := func(c *server.Config) { c.ReadHeaderTimeout = 200 * time.Millisecond }
	t.Run("headers", func(t *testing.T) {
		t.Parallel()
		conn := dialRaw(t, startServer(t, short).url)
		closed := make(chan error, 1)
		go func() { closed <- readUntilClosed(conn) }()
		if _, err := io.WriteString(conn, "POST /silt.v1.EventService/Append HTTP/1.1\r\nHost: silt\r\n"); err != nil {
			t.Fatal(err)
		}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case err := <-closed:
				if err != nil {
					t.Fatalf("slow headers: %v", err)
				}
				return
			case <-tick.C:
				// One header line per tick: never the blank line that ends
				// them. Once the server closes, writes fail and the reader
				// says so.
				_, _ = fmt.Fprintf(conn, "X-Slow-%d: x\r\n", i)
			}
		}
	})
	t.Run("tls handshake", func(t *testing.T) {
		t.Parallel()
		conn := dialRaw(t, startTLSServer(t, newTLSFiles(t), short).url)
		waitClosed(t, conn, "no TLS handshake") // sends nothing at all
	})
}

// TestServer_IdleTimeout: a keep-alive connection with no request is
// closed after the idle timeout.
func TestServer_IdleTimeout(t *testing.T) {
	t.Parallel()
	ts := startServer(t, func(c *server.Config) { c.IdleTimeout = 200 * time.Millisecond })
	conn := dialRaw(t, ts.url)
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: silt\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("GET /healthz: %s (close %v), want 200 on a kept-alive connection", resp.Status, resp.Close)
	}
	waitClosed(t, conn, "idle keep-alive")
}

// TestServer_MaxHeaderBytes: headers over the cap answer 431.
func TestServer_MaxHeaderBytes(t *testing.T) {
	t.Parallel()
	ts := startServer(t, func(c *server.Config) { c.MaxHeaderBytes = 4 << 10 })
	conn := dialRaw(t, ts.url)
	// net/http allows 4 KiB of slack over the cap; 100 KiB is also under
	// its own 1 MiB default, so only the configured cap refuses it.
	big := strings.Repeat("x", 100<<10)
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: silt\r\nX-Big: "+big+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("100 KiB of headers: %s, want 431", resp.Status)
	}
}

// TestServer_MaxConcurrentStreams speaks HTTP/2 frames to the server: it
// advertises the cap in its SETTINGS, and a stream over the cap is reset
// while the ones under it stay open.
func TestServer_MaxConcurrentStreams(t *testing.T) {
	t.Parallel()
	const maxStreams = 2
	ts := startServer(t, func(c *server.Config) { c.MaxConcurrentStreams = maxStreams })
	conn := dialRaw(t, ts.url) // h2c with prior knowledge
	if err := conn.SetDeadline(time.Now().Add(closeBound)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, conn)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	f, err := fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	sf, ok := f.(*http2.SettingsFrame)
	if !ok || sf.IsAck() {
		t.Fatalf("first frame %v, want the server's SETTINGS", f)
	}
	if v, ok := sf.Value(http2.SettingMaxConcurrentStreams); !ok || v != maxStreams {
		t.Fatalf("SETTINGS_MAX_CONCURRENT_STREAMS %d (sent %v), want %d", v, ok, maxStreams)
	}
	if err := fr.WriteSettingsAck(); err != nil {
		t.Fatal(err)
	}
	// Subscribes whose request message never comes: each handler waits
	// for it, so its stream stays open.
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, hf := range [][2]string{
		{":method", "POST"}, {":scheme", "http"}, {":authority", hostPort(ts.url)},
		{":path", siltv1connect.EventServiceSubscribeProcedure}, {"content-type", "application/connect+proto"},
	} {
		if err := enc.WriteField(hpack.HeaderField{Name: hf[0], Value: hf[1]}); err != nil {
			t.Fatal(err)
		}
	}
	over := uint32(2*maxStreams + 1) // client streams are odd: 1, 3, then 5
	for id := uint32(1); id <= over; id += 2 {
		if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block.Bytes(), EndHeaders: true}); err != nil {
			t.Fatal(err)
		}
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("no RST_STREAM for stream %d over the cap of %d: %v", over, maxStreams, err)
		}
		switch f := f.(type) {
		case *http2.RSTStreamFrame:
			if f.StreamID != over {
				t.Fatalf("stream %d under the cap was reset (%v)", f.StreamID, f.ErrCode)
			}
			return
		case *http2.GoAwayFrame:
			t.Fatalf("GOAWAY (%v) instead of a RST_STREAM for stream %d", f.ErrCode, over)
		}
	}
}

// TestServer_MaxRequestBytes: a request message over the configured cap
// answers ResourceExhausted on every protocol, also when it is sent
// compressed and only its decompressed size is over.
func TestServer_MaxRequestBytes(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	ts := startServer(t, func(c *server.Config) { c.MaxRequestBytes = limit })
	withPayload := func(n int) *siltv1.AppendRequest {
		return &siltv1.AppendRequest{Project: project, Stream: "big", Events: []*siltv1.EventInput{{
			Type: "t", Payload: &siltv1.EventInput_BinaryData{BinaryData: make([]byte, n)},
		}}}
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			c := ts.clients(p)
			if _, err := c.events.Append(ctx, connect.NewRequest(withPayload(limit/2))); err != nil {
				t.Fatalf("append under the cap: %v", err)
			}
			gz := ts.clients(protocol{name: p.name, opts: append([]connect.ClientOption{connect.WithSendGzip()}, p.opts...)})
			for name, cl := range map[string]clients{"plain": c, "gzip": gz} {
				_, err := cl.events.Append(ctx, connect.NewRequest(withPayload(2*limit)))
				ce := requireCode(t, err, connect.CodeResourceExhausted)
				if want := fmt.Sprintf("larger than configured max %d", limit); !strings.Contains(ce.Message(), want) {
					t.Fatalf("%s: message %q, want it to say %q", name, ce.Message(), want)
				}
			}
		})
	}
}

// TestServer_TLS_Limits: the limits hold on TLS too, where HTTP/2 comes
// from ALPN rather than h2c.
func TestServer_TLS_Limits(t *testing.T) {
	t.Parallel()
	f := newTLSFiles(t)
	ts := startTLSServer(t, f, func(c *server.Config) { c.MaxConcurrentStreams = 3 })
	conn, err := tls.Dial("tcp", hostPort(ts.url), &tls.Config{RootCAs: f.ca.Pool(), NextProtos: []string{"h2"}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(closeBound)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, conn)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	fm, err := fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	sf, ok := fm.(*http2.SettingsFrame)
	if !ok {
		t.Fatalf("first frame %v, want SETTINGS", fm)
	}
	if v, ok := sf.Value(http2.SettingMaxConcurrentStreams); !ok || v != 3 {
		t.Fatalf("SETTINGS_MAX_CONCURRENT_STREAMS over TLS %d (sent %v), want 3", v, ok)
	}
}
