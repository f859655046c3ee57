package cli_test

import (
	"strings"
	"testing"
)

// TestCLI_StreamsUpdate: update changes only the settings given as flags;
// a limit of 0 removes it.
func TestCLI_StreamsUpdate(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	ctx := t.Context()
	with := func(args ...string) []string { return append(args, "--server", url, "-p", "acme") }
	out, err := run(t, ctx, "", with("streams", "create", "orders", "--retention-age", "720h", "--retention-bytes", "1048576")...)
	if err != nil || !strings.Contains(out, "\nretention     30d, 1.0 MiB\n") {
		t.Fatalf("create: %q %v", out, err)
	}
	if out, err = run(t, ctx, "", with("streams", "update", "orders", "--retention-bytes", "0")...); err != nil ||
		!strings.Contains(out, "\nretention     30d\n") || !strings.Contains(out, "\ncontent type  application/json\n") {
		t.Fatalf("update --retention-bytes 0: %q %v", out, err)
	}
	if out, err = run(t, ctx, "", with("streams", "update", "orders", "--content-type", "text/plain")...); err != nil ||
		!strings.Contains(out, "\nretention     30d\n") || !strings.Contains(out, "\ncontent type  text/plain\n") || !strings.Contains(out, "\nupdated       ") {
		t.Fatalf("update --content-type: %q %v", out, err)
	}
	if out, err = run(t, ctx, "", with("streams", "update", "orders", "--retention-age", "0", "--retention-bytes", "5", "--json")...); err != nil ||
		!strings.Contains(out, `"settings":{"contentType":"text/plain","retention":{"maxBytes":"5"}}`) {
		t.Fatalf("update both limits: %q %v", out, err)
	}
	if _, err = run(t, ctx, "", with("streams", "update", "orders")...); err == nil ||
		err.Error() != "nothing to change: give --content-type, --retention-age or --retention-bytes" {
		t.Fatalf("update without flags: %v", err)
	}
	if _, err = run(t, ctx, "", with("streams", "update", "nope", "--retention-age", "1h")...); err == nil ||
		err.Error() != "get stream acme/nope: stream not found" {
		t.Fatalf("update of a missing stream: %v", err)
	}
}

// TestCLI_Tables_HaveHeaders: listings for people start with a header line.
func TestCLI_Tables_HaveHeaders(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	ctx := t.Context()
	with := func(args ...string) []string { return append(args, "--server", url, "-p", "acme") }
	if _, err := run(t, ctx, "", with("append", "s", "--type", "t", `{"n":1}`, `{"n":2}`)...); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args   []string
		header string
	}{
		{[]string{"streams", "list"}, "STREAM  EVENTS  SEQ   SIZE   RETENTION  CREATED\n"},
		{[]string{"read", "s"}, "SEQ    INGESTED                       TYPE                 DATA  [ATTRIBUTES METRICS]\n"},
		{[]string{"query", "--stream", "s"}, "STREAM           SEQ    INGESTED                       TYPE                 DATA  [ATTRIBUTES METRICS]\n"},
		{[]string{"query", "--agg", "count"}, "count\n"},
		{[]string{"rotate"}, "SEGMENT                     PROJECT  EVENTS  SIZE "},
		{[]string{"segments"}, "SEGMENT                     PROJECT  EVENTS  SIZE "},
	} {
		out, err := run(t, ctx, "", with(tc.args...)...)
		if err != nil || !strings.HasPrefix(out, tc.header) || strings.Count(out, "\n") < 2 {
			t.Errorf("silt %s:\n%s\nwant it to start with:\n%s(err %v)", strings.Join(tc.args, " "), out, tc.header, err)
		}
	}
}
