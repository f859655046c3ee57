package cli_test

import (
	"regexp"
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
		header string // a regular expression for the first line
	}{
		{[]string{"streams", "list"}, `STREAM  EVENTS  SEQ   SIZE   RETENTION  CREATED`},
		{[]string{"read", "s"}, `SEQ {4}INGESTED +TYPE {17}DATA  \[ATTRIBUTES METRICS\]`},
		{[]string{"query", "--stream", "s"}, `STREAM {11}SEQ {4}INGESTED +TYPE {17}DATA  \[ATTRIBUTES METRICS\]`},
		{[]string{"query", "--agg", "count"}, `count`},
		{[]string{"rotate"}, `SEGMENT {21}PROJECT  EVENTS  SIZE +STREAMS  ROW GROUPS  PATH`},
		{[]string{"segments"}, `SEGMENT {21}PROJECT  EVENTS  SIZE +STREAMS  ROW GROUPS  PATH`},
	} {
		out, err := run(t, ctx, "", with(tc.args...)...)
		first, rest, _ := strings.Cut(out, "\n")
		if err != nil || !regexp.MustCompile(`^`+tc.header+`$`).MatchString(first) || rest == "" {
			t.Errorf("silt %s:\n%s\nwant a first line matching %s (err %v)", strings.Join(tc.args, " "), out, tc.header, err)
		}
	}
}
