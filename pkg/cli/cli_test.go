package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/silt-io/silt/pkg/cli"
)

// startServer runs a real server on 127.0.0.1 for the CLI to talk to.
func startServer(t *testing.T) string {
	t.Helper()
	return startServerAt(t, "127.0.0.1:0", t.TempDir()).url
}

// run runs one silt command line and returns its stdout.
func run(t *testing.T, ctx context.Context, stdin string, args ...string) (string, error) {
	t.Helper()
	out, _, err := runWithStderr(t, ctx, stdin, args...)
	return out, err
}

// runWithStderr runs one silt command line and returns its stdout and stderr.
func runWithStderr(t *testing.T, ctx context.Context, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errw bytes.Buffer
	root := cli.NewRoot(cli.IO{In: strings.NewReader(stdin), Out: &out, Err: &errw})
	root.SetArgs(args)
	err = root.ExecuteContext(ctx)
	return out.String(), errw.String(), err
}

func TestCLI_AppendReadStreams(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	ctx := t.Context()
	common := []string{"--server", url, "-p", "acme"}
	with := func(args ...string) []string { return append(args, common...) }

	if out, err := run(t, ctx, "", with("streams", "create", "orders")...); err != nil || !strings.Contains(out, "stream        acme/orders\n") || !strings.Contains(out, "seq           empty\n") {
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
	// From stdin in batches: nothing per batch on stdout, one JSON summary with --json.
	ndjson := "{\"type\":\"bulk\",\"data\":{\"i\":1}}\n\n{\"type\":\"bulk\",\"data\":{\"i\":2}}\n{\"type\":\"bulk\",\"data\":{\"i\":3}}\n"
	out, errOut, err := runWithStderr(t, ctx, ndjson, with("append", "orders", "--batch", "2", "--json")...)
	var sum struct{ Events, Requests, FirstSeq, LastSeq int }
	if err != nil || strings.Count(out, "\n") != 1 || json.Unmarshal([]byte(out), &sum) != nil ||
		sum.Events != 3 || sum.Requests != 2 || sum.FirstSeq != 5 || sum.LastSeq != 7 ||
		!strings.HasPrefix(errOut, "appended 3 events to acme/orders (seq 5..7) in 2 requests, ") {
		t.Fatalf("append stdin in batches of 2: %q %q %v", out, errOut, err)
	}
	if _, err = run(t, ctx, "not json\n", with("append", "orders")...); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("bad NDJSON line: %v", err)
	}

	out, err = run(t, ctx, "", with("read", "orders", "--json", "--from", "2", "--limit", "10")...)
	if err != nil {
		t.Fatal(err)
	}
	type line struct {
		Stream string         `json:"stream"`
		Seq    uint64         `json:"seq"`
		Type   string         `json:"type"`
		Data   map[string]any `json:"data"`
	}
	var page []line
	for l := range strings.Lines(out) {
		var e line
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("read --json line is not JSON: %v\n%s", err, out)
		}
		page = append(page, e)
	}
	if len(page) != 6 || page[0].Seq != 2 || page[0].Stream != "orders" || page[0].Type != "order.paid" || page[5].Data["i"] != 3.0 {
		t.Fatalf("read page %+v", page)
	}
	out, err = run(t, ctx, "", with("read", "orders")...)
	if err != nil || strings.Count(out, "\n") != 8 || !strings.HasPrefix(out, "SEQ    INGESTED") || !strings.Contains(out, `{"n":1}`) {
		t.Fatalf("read for people: %q %v", out, err)
	}
	if out, err = run(t, ctx, "", with("streams", "get", "orders", "--json")...); err != nil || !strings.Contains(out, `"lastSeq":"7"`) {
		t.Fatalf("streams get: %q %v", out, err)
	}
	if out, err = run(t, ctx, "", with("streams", "list")...); err != nil || !strings.HasPrefix(out, "STREAM  EVENTS  SEQ   SIZE ") || !strings.Contains(out, "\norders  7       1..7  ") {
		t.Fatalf("streams list: %q %v", out, err)
	}

	// tail follows live: start it, append, and see the event arrive.
	tailCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var tailOut, tailErr safeBuffer
	tailDone := make(chan error, 1)
	go func() {
		root := cli.NewRoot(cli.IO{In: strings.NewReader(""), Out: &tailOut, Err: &tailErr})
		root.SetArgs(with("tail", "orders", "--json"))
		tailDone <- root.ExecuteContext(tailCtx)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(tailErr.String(), "caught up at seq 7") {
		if time.Now().After(deadline) {
			t.Fatalf("tail never caught up: %q", tailErr.String())
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
	if _, err = run(t, ctx, "", with("streams", "get", "orders")...); err == nil || err.Error() != "get stream acme/orders: stream not found" || connect.CodeOf(err) != connect.CodeNotFound {
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
	if err != nil || !strings.Contains(out, "\ns       1       1..1  ") {
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
	// JSON for scripts, with --where, --since/--until and a bucket: one object a row.
	out, err = run(t, ctx, "", with("query", "--json", "--where", "attributes.org=o1", "--where", "metrics.ms>=40",
		"--since", "2026-11-01T00:00:00Z", "--until", "2026-11-01T12:00:00Z", "--bucket", "6h", "--agg", "count", "--agg", "p50:metrics.ms")...)
	if err != nil {
		t.Fatal(err)
	}
	// org o1 is i = 1, 4, 7, 10; ms >= 40 keeps 4, 7, 10: hours 4 (bucket 0-6h) and 7, 10 (6-12h).
	want = `{"bucket":"2026-11-01T00:00:00Z","count":1,"p50(metrics.ms)":40}` + "\n" +
		`{"bucket":"2026-11-01T06:00:00Z","count":2,"p50(metrics.ms)":85}` + "\n"
	if out != want {
		t.Fatalf("bucketed rows:\n%s\nwant:\n%s", out, want)
	}
	// A request body on stdin with enums written short, and a listing: one
	// event a line, the next page token on stderr.
	for _, body := range []string{
		`{"filter":{"compare":{"field":"$.plan","op":"eq","value":{"stringValue":"pro"}}},"order":"-seq","limit":2}`,
		`{"filter":{"compare":{"field":"$.plan","op":"=","value":{"stringValue":"pro"}}},"order":"seq_desc","limit":2}`,
		`{"filter":{"compare":{"field":"$.plan","op":"COMPARE_OP_EQ","value":{"stringValue":"pro"}}},"order":"QUERY_ORDER_SEQ_DESC","limit":2}`,
	} {
		out, errOut, err := runWithStderr(t, ctx, body, with("query", "--body", "-", "--json")...)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		var seqs []uint64
		for l := range strings.Lines(out) {
			var e struct {
				Stream string `json:"stream"`
				Seq    uint64 `json:"seq"`
				Type   string `json:"type"`
			}
			if err := json.Unmarshal([]byte(l), &e); err != nil || e.Stream != "web" || e.Type != "t1" {
				t.Fatalf("listing line %q: %v", l, err)
			}
			seqs = append(seqs, e.Seq)
		}
		if len(seqs) != 2 || seqs[0] != 12 || seqs[1] != 10 || !strings.Contains(errOut, "next page: --page-token ") {
			t.Fatalf("listing of %s: %s\nstderr: %s", body, out, errOut)
		}
	}
	// Short aggregation names in a body, p99 among them.
	out, err = run(t, ctx, `{"aggregations":[{"function":"count"},{"function":"p50","field":"metrics.ms"},{"function":"max","field":"metrics.ms"}]}`,
		with("query", "--body", "-", "--json")...)
	if err != nil || out != `{"count":12,"p50(metrics.ms)":55,"max(metrics.ms)":110}`+"\n" {
		t.Fatalf("short aggregation names: %q %v", out, err)
	}
	if _, err := run(t, ctx, `{"order":"sideways"}`, with("query", "--body", "-")...); err == nil ||
		err.Error() != `--body: order: "sideways" is not one of time_asc, time_desc, seq_asc, seq_desc (or -seq, -time, seq, time)` {
		t.Errorf("unknown short enum: %v", err)
	}
	// Errors name the problem.
	if _, err := run(t, ctx, "", with("query", "--agg", "sum:type")...); err == nil || !strings.Contains(err.Error(), "numeric") {
		t.Errorf("sum of type: %v", err)
	}
	if _, err := run(t, ctx, "", with("query", "--where", "nonsense")...); err == nil || !strings.Contains(err.Error(), "FIELD OP VALUE") {
		t.Errorf("bad --where: %v", err)
	}
}
