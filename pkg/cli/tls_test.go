package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/silt-io/silt/pkg/internal/certtest"
	"github.com/silt-io/silt/pkg/server"
)

// startTLSServer runs a real server on 127.0.0.1 with a certificate from a
// fresh CA, and returns its https:// URL and the CA's file.
func startTLSServer(t *testing.T) (url, caFile string) {
	t.Helper()
	dir := t.TempDir()
	ca := certtest.NewCA(t)
	caFile = filepath.Join(dir, "ca.pem")
	ca.WriteCA(t, caFile)
	s := startServerAt(t, "127.0.0.1:0", filepath.Join(dir, "data"), func(c *server.Config) {
		c.TLSCertFile, c.TLSKeyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		ca.WritePair(t, c.TLSCertFile, c.TLSKeyFile)
	})
	return s.url, caFile
}

// TestCLI_TLS runs the client commands against a TLS server with --tls-ca
// (and SILT_TLS_CA), and checks what they say without it.
func TestCLI_TLS(t *testing.T) {
	url, caFile := startTLSServer(t)
	ctx := t.Context()
	with := func(args ...string) []string { return append(args, "--server", url, "--tls-ca", caFile, "-p", "acme") }

	if out, err := run(t, ctx, "", with("streams", "create", "s")...); err != nil || !strings.Contains(out, "acme/s") {
		t.Fatalf("streams create over TLS: %q %v", out, err)
	}
	if out, err := run(t, ctx, "", with("append", "s", "--type", "t", `{"n":1}`)...); err != nil || !strings.Contains(out, "seq 1..1") {
		t.Fatalf("append over TLS: %q %v", out, err)
	}
	if out, err := run(t, ctx, "", with("read", "s", "--json")...); err != nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("read over TLS: %q %v", out, err)
	}
	if out, err := run(t, ctx, "", with("query", "--stream", "s", "--agg", "count", "--json")...); err != nil || !strings.Contains(out, "1") {
		t.Fatalf("query over TLS: %q %v", out, err)
	}
	tail := startTail(t, url, "--tls-ca", caFile, "--from", "1")
	if _, err := run(t, ctx, "", with("append", "s", "--type", "t", `{"n":2}`)...); err != nil {
		t.Fatal(err)
	}
	tail.waitLines(t, 2)
	out, _ := tail.stop(t)
	assertSeqs(t, out, 1, 2)

	// SILT_TLS_CA does what --tls-ca does.
	t.Setenv("SILT_TLS_CA", caFile)
	if out, err := run(t, ctx, "", "read", "s", "--server", url, "-p", "acme", "--json"); err != nil || strings.Count(out, "\n") != 2 {
		t.Fatalf("read with SILT_TLS_CA: %q %v", out, err)
	}
	t.Setenv("SILT_TLS_CA", "")
	// Without the CA, the error says how to trust the server.
	if _, err := run(t, ctx, "", "read", "s", "--server", url, "-p", "acme"); err == nil || !strings.Contains(err.Error(), "--tls-ca") {
		t.Fatalf("read without --tls-ca: %v, want advice to use --tls-ca", err)
	}
	// A --tls-ca that is no certificate says so.
	if _, err := run(t, ctx, "", "read", "s", "--server", url, "-p", "acme", "--tls-ca", filepath.Join(t.TempDir(), "missing.pem")); err == nil || !strings.Contains(err.Error(), "--tls-ca") {
		t.Fatalf("read with a missing --tls-ca: %v, want it named", err)
	}
}
