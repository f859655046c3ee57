package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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

func TestCLI_Query(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	ctx := t.Context()
	common := []string{"--server", url, "-p", "acme"}
	with := func(args ...string) []string { return append(args, common...) }
	var lines []string
	for i := range 12 {
		lines = append(lines, fmt.Sprintf(`{"type":"t%d","attributes":{"org":"o%d"},"metrics":{"ms":%d},"time":"2026-11-01T%02d:30:00Z","data":{"plan":%q}}`,
			i%2, i%3, i*10, i, []string{"free", "pro"}[i%2]))
	}
	if _, err := run(t, ctx, strings.Join(lines, "\n"), with("append", "web")...); err != nil {
		t.Fatal(err)
	}
	// A table for people: count and average by type.
	out, err := run(t, ctx, "", with("query", "--group-by", "type", "--agg", "count", "--agg", "avg:metrics.ms")...)
	if err != nil {
		t.Fatal(err)
	}
	want := "type  count  avg(metrics.ms)\nt0    6      50\nt1    6      60\n"
	if out != want {
		t.Fatalf("table:\n%s\nwant:\n%s", out, want)
	}
	// JSON for scripts, with --where, --since/--until and a bucket.
	out, err = run(t, ctx, "", with("query", "--json", "--where", "attributes.org=o1", "--where", "metrics.ms>=40",
		"--since", "2026-11-01T00:00:00Z", "--until", "2026-11-01T12:00:00Z", "--bucket", "6h", "--agg", "count", "--agg", "p50:metrics.ms")...)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Rows []struct {
			Values []map[string]any `json:"values"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// org o1 is i = 1, 4, 7, 10; ms >= 40 keeps 4, 7, 10: hours 4 (bucket 0-6h) and 7, 10 (6-12h).
	if len(res.Rows) != 2 || res.Rows[0].Values[1]["intValue"] != "1" || res.Rows[1].Values[1]["intValue"] != "2" || res.Rows[1].Values[2]["doubleValue"] != 85.0 {
		t.Fatalf("bucketed rows: %s", out)
	}
	// A request body on stdin, and a listing.
	body := `{"filter":{"compare":{"field":"$.plan","op":"COMPARE_OP_EQ","value":{"stringValue":"pro"}}},"order":"QUERY_ORDER_SEQ_DESC","limit":2}`
	out, err = run(t, ctx, body, with("query", "--body", "-", "--json")...)
	if err != nil {
		t.Fatal(err)
	}
	var lres struct {
		Events []struct {
			Seq  string `json:"seq"`
			Type string `json:"type"`
		} `json:"events"`
		NextPageToken string `json:"nextPageToken"`
	}
	if err := json.Unmarshal([]byte(out), &lres); err != nil {
		t.Fatal(err)
	}
	if len(lres.Events) != 2 || lres.Events[0].Seq != "12" || lres.Events[1].Seq != "10" || lres.Events[0].Type != "t1" || lres.NextPageToken == "" {
		t.Fatalf("listing: %s", out)
	}
	// Errors name the problem.
	if _, err := run(t, ctx, "", with("query", "--agg", "sum:type")...); err == nil || !strings.Contains(err.Error(), "numeric") {
		t.Errorf("sum of type: %v", err)
	}
	if _, err := run(t, ctx, "", with("query", "--where", "nonsense")...); err == nil || !strings.Contains(err.Error(), "FIELD OP VALUE") {
		t.Errorf("bad --where: %v", err)
	}
}
