package server_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
	"github.com/silt-io/silt/pkg/internal/certtest"
	"github.com/silt-io/silt/pkg/server"
)

// tlsFiles are a test CA and the server certificate files it issued.
type tlsFiles struct {
	ca        *certtest.CA
	cert, key string
	serial    *big.Int
}

func newTLSFiles(t *testing.T) tlsFiles {
	t.Helper()
	dir := t.TempDir()
	f := tlsFiles{ca: certtest.NewCA(t), cert: filepath.Join(dir, "cert.pem"), key: filepath.Join(dir, "key.pem")}
	f.serial = f.ca.WritePair(t, f.cert, f.key)
	return f
}

// startTLSServer starts a server that serves f's certificate.
func startTLSServer(t *testing.T, f tlsFiles, configure ...func(*server.Config)) *testServer {
	t.Helper()
	return startServer(t, append([]func(*server.Config){func(c *server.Config) {
		c.TLSCertFile, c.TLSKeyFile = f.cert, f.key
	}}, configure...)...)
}

// tlsClient trusts only pool and speaks HTTP/2 where ALPN agrees to it,
// or only HTTP/1.1.
func tlsClient(pool *x509.CertPool, http1Only bool) *http.Client {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetHTTP2(!http1Only)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if http1Only {
		cfg.NextProtos = []string{"http/1.1"} // offered by ALPN, as browsers and curl --http1.1 do
	}
	return &http.Client{Transport: &http.Transport{Protocols: &p, TLSClientConfig: cfg}}
}

// servedSerial is the serial number of the certificate a new TLS
// connection to addr gets.
func servedSerial(t *testing.T, addr string, pool *x509.CertPool) *big.Int {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber
}

func hostPort(url string) string { return url[strings.Index(url, "://")+3:] }

// TestServer_TLS_Protocols appends and reads with the generated Go client
// over Connect, gRPC and gRPC-Web on TLS.
func TestServer_TLS_Protocols(t *testing.T) {
	t.Parallel()
	f := newTLSFiles(t)
	ts := startTLSServer(t, f)
	hc := tlsClient(f.ca.Pool(), false)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			ctx := testContext(t)
			c := clients{
				events:  siltv1connect.NewEventServiceClient(hc, ts.url, p.opts...),
				streams: siltv1connect.NewStreamServiceClient(hc, ts.url, p.opts...),
			}
			stream := "tls-" + p.name
			if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream, Events: numbered(t, 0, 3)})); err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, c, stream); len(got) != 3 {
				t.Fatalf("read %d events over TLS, want 3", len(got))
			}
		})
	}
}

// TestServer_TLS_ALPN checks that HTTP/2 is negotiated through ALPN, that
// HTTP/1.1 clients are served too, and that TLS below 1.2 and cleartext
// are refused on a TLS port.
func TestServer_TLS_ALPN(t *testing.T) {
	t.Parallel()
	f := newTLSFiles(t)
	ts := startTLSServer(t, f)
	pool := f.ca.Pool()
	for _, tc := range []struct {
		name      string
		http1Only bool
		major     int
		alpn      string
	}{{"h2", false, 2, "h2"}, {"http1.1", true, 1, "http/1.1"}} {
		t.Run(tc.name, func(t *testing.T) {
			hc := tlsClient(pool, tc.http1Only)
			req, err := http.NewRequestWithContext(testContext(t), http.MethodGet, ts.url+"/healthz", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.ProtoMajor != tc.major || resp.TLS == nil || resp.TLS.NegotiatedProtocol != tc.alpn {
				t.Fatalf("GET /healthz: %s %q over %s (alpn %q), want 200 over HTTP/%d (alpn %q)",
					resp.Status, body, resp.Proto, resp.TLS.NegotiatedProtocol, tc.major, tc.alpn)
			}
			// The Connect protocol works over either.
			ev := siltv1connect.NewEventServiceClient(hc, ts.url)
			if _, err := ev.Append(testContext(t), connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: "alpn-" + tc.name, Events: numbered(t, 0, 1)})); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("tls1.1 refused", func(t *testing.T) {
		conn, err := tls.Dial("tcp", hostPort(ts.url), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
		if err == nil {
			conn.Close()
			t.Fatal("a TLS 1.1 handshake succeeded")
		}
	})
	t.Run("cleartext refused", func(t *testing.T) {
		resp, err := http.Get("http://" + hostPort(ts.url) + "/healthz")
		if err != nil {
			return // the server may close the connection instead of answering 400
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("cleartext HTTP on the TLS port answered 200")
		}
	})
}

// TestServer_TLS_Reload replaces the certificate files and reloads (what
// SIGHUP does): new connections get the new certificate, and a pair that
// does not load keeps the one served before it.
func TestServer_TLS_Reload(t *testing.T) {
	t.Parallel()
	f := newTLSFiles(t)
	// No polling: only ReloadTLS may change the certificate.
	ts := startTLSServer(t, f, func(c *server.Config) { c.TLSPollInterval = 0 })
	pool, addr := f.ca.Pool(), hostPort(ts.url)
	if got := servedSerial(t, addr, pool); got.Cmp(f.serial) != 0 {
		t.Fatalf("served serial %v, want %v", got, f.serial)
	}
	next := f.ca.WritePair(t, f.cert, f.key)
	if got := servedSerial(t, addr, pool); got.Cmp(f.serial) != 0 {
		t.Fatalf("served serial %v before the reload, want the first %v", got, f.serial)
	}
	if err := ts.srv.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	if got := servedSerial(t, addr, pool); got.Cmp(next) != 0 {
		t.Fatalf("served serial %v after the reload, want the new %v", got, next)
	}
	// A certificate that does not parse, then one that does not match its
	// key: each reload fails and the last good certificate stays.
	certtest.Replace(t, f.cert, []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"))
	if err := ts.srv.ReloadTLS(); err == nil {
		t.Fatal("reloading a garbage certificate succeeded")
	}
	other, _, _ := f.ca.Issue(t)
	certtest.Replace(t, f.cert, other)
	if err := ts.srv.ReloadTLS(); err == nil {
		t.Fatal("reloading a certificate with another's key succeeded")
	}
	if got := servedSerial(t, addr, pool); got.Cmp(next) != 0 {
		t.Fatalf("served serial %v after failed reloads, want the last good %v", got, next)
	}
}

// TestServer_TLS_ReloadOnFileChange replaces the files and waits for the
// poll to serve the new certificate; a bad file is skipped.
func TestServer_TLS_ReloadOnFileChange(t *testing.T) {
	t.Parallel()
	f := newTLSFiles(t)
	ts := startTLSServer(t, f, func(c *server.Config) { c.TLSPollInterval = 10 * time.Millisecond })
	pool, addr := f.ca.Pool(), hostPort(ts.url)
	waitSerial := func(want *big.Int) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			got := servedSerial(t, addr, pool)
			if got.Cmp(want) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("served serial %v 30s after the files changed, want %v", got, want)
			}
		}
	}
	next := f.ca.WritePair(t, f.cert, f.key)
	waitSerial(next)
	// A bad key is seen by the poll and skipped; the good pair after it is
	// served. (Its size differs from a real key's, so the stamp changes.)
	certtest.Replace(t, f.key, []byte("not a key"))
	third := f.ca.WritePair(t, f.cert, f.key)
	waitSerial(third)
}

// TestServe_TLS_SIGHUP runs `silt serve --tls-cert --tls-key` in a child
// process and reloads its certificate with SIGHUP.
func TestServe_TLS_SIGHUP(t *testing.T) {
	t.Parallel()
	f := newTLSFiles(t)
	child := startChild(t, t.TempDir(), "--tls-cert", f.cert, "--tls-key", f.key, "--tls-poll-interval", "0")
	defer child.kill(t)
	pool, addr := f.ca.Pool(), hostPort(child.url)
	if got := servedSerial(t, addr, pool); got.Cmp(f.serial) != 0 {
		t.Fatalf("served serial %v, want %v", got, f.serial)
	}
	next := f.ca.WritePair(t, f.cert, f.key)
	if err := child.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got := servedSerial(t, addr, pool)
		if got.Cmp(next) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("served serial %v 30s after SIGHUP, want %v", got, next)
		}
	}
	// The server is still up and serving the API over TLS.
	ev := siltv1connect.NewEventServiceClient(tlsClient(pool, false), "https://"+addr)
	if _, err := ev.Append(testContext(t), connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: "hup", Events: numbered(t, 0, 1)})); err != nil {
		t.Fatal(err)
	}
}

// TestServer_TLS_BadFilesDoNotStart: a server without a loadable pair
// does not start.
func TestServer_TLS_BadFilesDoNotStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(cert, []byte("nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.Addr, cfg.DataDir = "127.0.0.1:0", filepath.Join(dir, "data")
	cfg.TLSCertFile, cfg.TLSKeyFile = cert, filepath.Join(dir, "missing.pem")
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Open(t.Context()); err == nil || !strings.Contains(err.Error(), "tls certificate") {
		t.Fatalf("Open with a bad certificate: %v, want a tls certificate error", err)
	}
}

// TestServer_TLS_BufCurl calls the server over TLS with the repository's
// pinned buf (make tools installs it), which fetches the schema through
// reflection over the same connection, with each protocol it speaks.
func TestServer_TLS_BufCurl(t *testing.T) {
	t.Parallel()
	buf, err := filepath.Abs("../../sdk/ts/node_modules/.bin/buf")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(buf); err != nil {
		t.Skipf("no pinned buf (make tools installs it): %v", err)
	}
	f := newTLSFiles(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	f.ca.WriteCA(t, caFile)
	ts := startTLSServer(t, f)
	for _, proto := range []string{"connect", "grpc", "grpcweb"} {
		t.Run(proto, func(t *testing.T) {
			body := `{"project":"acme","stream":"buf-` + proto + `","events":[{"type":"t"}]}`
			cmd := exec.CommandContext(testContext(t), buf, "curl", "--cacert", caFile, "--protocol", proto,
				"-d", body, ts.url+siltv1connect.EventServiceAppendProcedure)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), `"firstSeq": "1"`) {
				t.Fatalf("buf curl --protocol %s over TLS: %v\n%s", proto, err, out)
			}
		})
	}
}
