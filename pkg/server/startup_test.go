package server_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/silt-io/silt/pkg/server"
)

// TestServer_Open_PortInUse_LeavesNoDataDir: a server that cannot bind its
// port fails before it creates anything on disk.
func TestServer_Open_PortInUse_LeavesNoDataDir(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := server.DefaultConfig()
	cfg.Addr = taken.Addr().String()
	cfg.DataDir = filepath.Join(t.TempDir(), "silt-data")
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = srv.Open(context.Background())
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Open on a taken port: %v", err)
	}
	if _, serr := os.Stat(cfg.DataDir); !errors.Is(serr, os.ErrNotExist) {
		t.Fatalf("the failed start left %s behind (stat: %v)", cfg.DataDir, serr)
	}
}

// TestServer_CORS_RefusedOriginLoggedAtDebug: an origin outside
// --cors-origins gets no CORS headers and a debug log line naming it; an
// allowed origin and a request without an origin log nothing.
func TestServer_CORS_RefusedOriginLoggedAtDebug(t *testing.T) {
	t.Parallel()
	var logs logSink
	ts := startServer(t, func(c *server.Config) {
		c.CORSOrigins = []string{"http://app.example", "https://*.example.org"}
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	preflight := func(origin string) string {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodOptions, ts.url+"/silt.v1.EventService/Read", nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		req.Header.Set("Access-Control-Request-Method", "POST")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		return res.Header.Get("Access-Control-Allow-Origin")
	}
	for _, ok := range []string{"http://app.example", "https://ui.example.org"} {
		if got := preflight(ok); got != ok {
			t.Fatalf("allowed origin %s got Access-Control-Allow-Origin %q", ok, got)
		}
	}
	preflight("")
	if strings.Contains(logs.String(), "cors") {
		t.Fatalf("allowed or same-origin requests were logged:\n%s", logs.String())
	}
	if got := preflight("http://evil.example"); got != "" {
		t.Fatalf("refused origin got Access-Control-Allow-Origin %q", got)
	}
	line := ""
	for l := range strings.Lines(logs.String()) {
		if strings.Contains(l, `"msg":"cors: origin refused"`) {
			line = l
		}
	}
	if !strings.Contains(line, `"level":"DEBUG"`) || !strings.Contains(line, `"origin":"http://evil.example"`) {
		t.Fatalf("no debug line naming the refused origin:\n%s", logs.String())
	}
}
