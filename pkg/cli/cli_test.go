package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/cli"
	"github.com/silt-io/silt/pkg/server"
)

// startServer runs a real server on 127.0.0.1 for the CLI to talk to.
func startServer(t *testing.T) string {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Addr, cfg.DataDir = "127.0.0.1:0", t.TempDir()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Open(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return "http://" + srv.Addr()
}

// run runs one silt command line and returns its stdout.
func run(t *testing.T, ctx context.Context, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errw bytes.Buffer
	root := cli.NewRoot(cli.IO{In: strings.NewReader(stdin), Out: &out, Err: &errw})
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

func TestCLI_AppendReadStreams(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	ctx := t.Context()
	common := []string{"--server", url, "-p", "acme"}
	with := func(args ...string) []string { return append(args, common...) }

	if out, err := run(t, ctx, "", with("streams", "create", "orders")...); err != nil || !strings.Contains(out, "acme/orders  empty") {
		t.Fatalf("streams create: %q %v", out, err)
	}
	out, err := run(t, ctx, "", with("append", "orders", `{"type":"order.created","data":{"n":1}}`, `{"type":"order.paid","data":{"n":2}}`)...)
	if err != nil || !strings.Contains(out, "seq 1..2") {
		t.Fatalf("append args: %q %v", out, err)
	}
	if out, err = run(t, ctx, "", with("append", "orders", "--type", "order.shipped", `{"n":3}`)...); err != nil || !strings.Contains(out, "seq 3..3") {
		t.Fatalf("append --type: %q %v", out, err)
	}
	// A producer rerun of the same input is a duplicate.
	for i, want := range []string{"seq 4..4\n", "seq 4..4 (duplicate"} {
		if out, err = run(t, ctx, "", with("append", "orders", "--type", "p", "--producer", "cli", "--epoch", "1", `{}`)...); err != nil || !strings.Contains(out, want) {
			t.Fatalf("producer append %d: %q %v, want %q", i, out, err, want)
		}
	}
	ndjson := "{\"type\":\"bulk\",\"data\":{\"i\":1}}\n\n{\"type\":\"bulk\",\"data\":{\"i\":2}}\n{\"type\":\"bulk\",\"data\":{\"i\":3}}\n"
	if out, err = run(t, ctx, ndjson, with("append", "orders", "--batch", "2", "--json")...); err != nil || strings.Count(out, "\n") != 2 {
		t.Fatalf("append stdin in batches of 2: %q %v", out, err)
	}
	if _, err = run(t, ctx, "not json\n", with("append", "orders")...); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("bad NDJSON line: %v", err)
	}

	out, err = run(t, ctx, "", with("read", "orders", "--json", "--from", "2", "--limit", "10")...)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Events []struct {
			Seq  string         `json:"seq"`
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		} `json:"events"`
		NextSeq  string `json:"nextSeq"`
		UpToDate bool   `json:"upToDate"`
	}
	if err := json.Unmarshal([]byte(out), &page); err != nil {
		t.Fatalf("read --json is not JSON: %v\n%s", err, out)
	}
	if len(page.Events) != 6 || page.Events[0].Seq != "2" || page.Events[0].Type != "order.paid" || page.Events[5].Data["i"] != 3.0 || page.NextSeq != "8" || !page.UpToDate {
		t.Fatalf("read page %+v", page)
	}
	if out, err = run(t, ctx, "", with("read", "orders")...); err != nil || strings.Count(out, "\n") != 7 || !strings.Contains(out, `{"n":1}`) {
		t.Fatalf("read for people: %q %v", out, err)
	}
	if out, err = run(t, ctx, "", with("streams", "get", "orders", "--json")...); err != nil || !strings.Contains(out, `"lastSeq":"7"`) {
		t.Fatalf("streams get: %q %v", out, err)
	}
	if out, err = run(t, ctx, "", with("streams", "list")...); err != nil || !strings.Contains(out, "acme/orders  seq 1..7") {
		t.Fatalf("streams list: %q %v", out, err)
	}

	// tail follows live: start it, append, and see the event arrive.
	tailCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var tailOut safeBuffer
	tailDone := make(chan error, 1)
	go func() {
		root := cli.NewRoot(cli.IO{In: strings.NewReader(""), Out: &tailOut, Err: io.Discard})
		root.SetArgs(with("tail", "orders", "--json"))
		tailDone <- root.ExecuteContext(tailCtx)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(tailOut.String(), "caughtUp") {
		if time.Now().After(deadline) {
			t.Fatalf("tail never caught up: %q", tailOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := run(t, ctx, "", with("append", "orders", "--type", "live", `{"x":1}`)...); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(tailOut.String(), `"type":"live"`) {
		if time.Now().After(deadline) {
			t.Fatalf("tail did not show the live event: %q", tailOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-tailDone; err != nil {
		t.Fatalf("tail ended with %v", err)
	}
	if strings.Contains(tailOut.String(), "order.created") {
		t.Fatal("tail without --from replayed old events")
	}

	if out, err = run(t, ctx, "", with("streams", "delete", "orders")...); err != nil || !strings.Contains(out, "deleted acme/orders") {
		t.Fatalf("streams delete: %q %v", out, err)
	}
	if _, err = run(t, ctx, "", with("streams", "get", "orders")...); err == nil || !strings.Contains(err.Error(), "not_found") {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestCLI_EnvironmentSetsFlags(t *testing.T) {
	url := startServer(t)
	t.Setenv("SILT_SERVER", url)
	t.Setenv("SILT_PROJECT", "envproj")
	if _, err := run(t, t.Context(), "", "append", "s", "--type", "t", `{}`); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, t.Context(), "", "streams", "list", "--project", "envproj", "--server", url)
	if err != nil || !strings.Contains(out, "envproj/s") {
		t.Fatalf("SILT_PROJECT did not pick the project: %q %v", out, err)
	}
}
