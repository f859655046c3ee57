package cli_test

import (
	"strings"
	"testing"
)

// TestCLI_Query_SinceFindsEventsWithoutTime: an event appended without a
// time has its ingest time, so `silt query --since` finds it, and not the
// event whose time is long past; the listing prints its time.
func TestCLI_Query_SinceFindsEventsWithoutTime(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	ctx := t.Context()
	common := []string{"--server", url, "-p", "acme"}
	with := func(args ...string) []string { return append(args, common...) }
	in := `{"type":"now","data":1}` + "\n" + `{"type":"old","data":2,"time":"2001-01-01T00:00:00Z"}`
	if _, err := run(t, ctx, in, with("append", "web")...); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, ctx, "", with("query", "--since", "1h", "--group-by", "type", "--agg", "count")...)
	if err != nil {
		t.Fatal(err)
	}
	if want := "type  count\nnow   1\n"; out != want {
		t.Fatalf("--since 1h:\n%s\nwant:\n%s", out, want)
	}
	out, err = run(t, ctx, "", with("query", "--json", "--since", "1h")...)
	if err != nil {
		t.Fatal(err)
	}
	lines := parseLines(t, out)
	if len(lines) != 1 || lines[0]["type"] != "now" || lines[0]["time"] == nil || lines[0]["time"] != lines[0]["ingestTime"] {
		t.Fatalf("--since 1h listing: %s", strings.TrimSpace(out))
	}
}
