package cli_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestCLI_Projects: create, get, list, update and delete a project; its
// settings take effect and errors read as words.
func TestCLI_Projects(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	ctx := t.Context()
	with := func(args ...string) []string { return append(args, "--server", url) }

	out, err := run(t, ctx, "", with("projects", "create", "acme", "--auto-create", "false", "--retention-age", "720h",
		"--cors-origin", "https://app.example.com", "--quota-queries", "4")...)
	if err != nil || !strings.Contains(out, "project            acme\n") || !strings.Contains(out, "\nauto-create        false\n") ||
		!strings.Contains(out, "\ndefault retention  30d\n") || !strings.Contains(out, "\ncors origins       https://app.example.com\n") ||
		!strings.Contains(out, "any subscriptions, 4 queries (not enforced yet)") {
		t.Fatalf("create: %q %v", out, err)
	}
	if _, err := run(t, ctx, "", with("projects", "create", "acme")...); err == nil || err.Error() != "create project acme: project already exists" {
		t.Fatalf("second create: %v", err)
	}
	// The project refuses to auto-create; a stream created in it gets its
	// default retention; another project appears with its first stream.
	if _, err := run(t, ctx, "", with("append", "orders", "-p", "acme", "--type", "t", `{}`)...); err == nil || !strings.Contains(err.Error(), "stream not found") {
		t.Fatalf("append in an auto-create=false project: %v", err)
	}
	if out, err := run(t, ctx, "", with("streams", "create", "orders", "-p", "acme")...); err != nil || !strings.Contains(out, "\nretention     30d\n") {
		t.Fatalf("stream in the project: %q %v", out, err)
	}
	if _, err := run(t, ctx, "", with("append", "s", "-p", "beta", "--type", "t", `{}`)...); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, ctx, "", with("projects", "list")...)
	if err != nil || !regexp.MustCompile(`^PROJECT  STREAMS  AUTO-CREATE  DEFAULT RETENTION  CREATED\nacme +1 +false +30d +\S+\nbeta +1 +server +none +\S+\n$`).MatchString(out) {
		t.Fatalf("list:\n%s%v", out, err)
	}
	if out, err = run(t, ctx, "", with("projects", "list", "--json", "--prefix", "b")...); err != nil || !strings.HasPrefix(out, `{"name":"beta"`) || strings.Count(out, "\n") != 1 {
		t.Fatalf("list --json: %q %v", out, err)
	}

	// Update changes only the settings given.
	if out, err = run(t, ctx, "", with("projects", "update", "acme", "--auto-create", "server", "--retention-age", "0", "--retention-bytes", "1048576")...); err != nil ||
		!strings.Contains(out, "\nauto-create        server\n") || !strings.Contains(out, "\ndefault retention  1.0 MiB\n") ||
		!strings.Contains(out, "\ncors origins       https://app.example.com\n") || !strings.Contains(out, "\nupdated  ") {
		t.Fatalf("update: %q %v", out, err)
	}
	if _, err = run(t, ctx, "", with("projects", "update", "acme")...); err == nil || !strings.HasPrefix(err.Error(), "nothing to change") {
		t.Fatalf("update without flags: %v", err)
	}
	if _, err = run(t, ctx, "", with("projects", "update", "acme", "--auto-create", "maybe")...); err == nil || err.Error() != `--auto-create "maybe": must be true, false or server` {
		t.Fatalf("update with a bad --auto-create: %v", err)
	}
	if out, err = run(t, ctx, "", with("projects", "get", "acme", "--json")...); err != nil || !strings.Contains(out, `"streamCount":"1"`) || !strings.Contains(out, `"defaultRetention":{"maxBytes":"1048576"}`) {
		t.Fatalf("get --json: %q %v", out, err)
	}

	if out, err = run(t, ctx, "", with("projects", "delete", "acme")...); err != nil || out != "deleted project acme\n" {
		t.Fatalf("delete: %q %v", out, err)
	}
	if _, err = run(t, ctx, "", with("projects", "get", "acme")...); err == nil || err.Error() != "get project acme: project not found" {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err = run(t, ctx, "", with("streams", "get", "orders", "-p", "acme")...); err == nil || !strings.Contains(err.Error(), "stream not found") {
		t.Fatalf("stream of the deleted project: %v", err)
	}
	if _, err = run(t, ctx, "", with("projects", "delete", "acme")...); err == nil || !strings.Contains(err.Error(), "project not found") {
		t.Fatalf("second delete: %v", err)
	}
	if _, err = run(t, ctx, "", with("projects", "create", "Bad_Name")...); err == nil || !strings.HasPrefix(err.Error(), "project name: must be 1 to 63 lowercase") {
		t.Fatalf("create with a bad name: %v", err)
	}
	if _, err = run(t, ctx, "", with("projects", "create", "web", "--cors-origin", "example.com")...); err == nil || !strings.HasPrefix(err.Error(), "--cors-origin: ") {
		t.Fatalf("create with a bad origin: %v", err)
	}
}
