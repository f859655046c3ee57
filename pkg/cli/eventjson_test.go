package cli_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/cli"
)

// roundTripEvents are events of every shape an event line can take.
var roundTripEvents = []string{
	`{"id":"order-1","type":"order.created","source":"shop","subject":"order/1","time":"2026-11-01T10:00:00.123456789Z",` +
		`"attributes":{"region":"eu","plan":"pro"},"metrics":{"total":42.5,"items":3,"big":20000100000.5},` +
		`"data":{"order":1,"lines":[{"sku":"a","n":2}],"note":"<b>&</b> ünïcødé"}}`,
	`{"type":"ping","data":null}`,
	`{"type":"text","data":"just text","time":"1999-12-31T23:59:59Z"}`,
	`{"type":"list","data":[1,2.5,"three",false]}`,
	`{"type":"flag","data":true,"source":"only-a-source"}`,
	`{"type":"blob","binaryData":"AAECAwT/","contentType":"application/octet-stream"}`,
	`{"type":"raw.json","binaryData":"` + base64.StdEncoding.EncodeToString([]byte(`{"z":1,"a":[2]}`)) + `","contentType":"application/json"}`,
	`{"type":"snake","content_type":"text/plain","binary_data":"aGVsbG8="}`,
	// No payload; source and subject present and empty, and an empty payload.
	`{"type":"point","metrics":{"ms":3}}`,
	`{"type":"empty","source":"","subject":"","binaryData":"","contentType":"application/octet-stream"}`,
	// Bytes that are not JSON, and no payload at all, on a JSON stream
	// (binaryData without a content type takes the stream's).
	`{"type":"bytes.on.json","binaryData":"AAEC"}`,
	`{"type":"empty.on.json","binaryData":""}`,
}

// TestCLI_JSONLines_RoundTrip: read --json, tail --json and query --json
// print the same event lines, and `silt read --json | silt append` copies
// the events into another project with their ids, types, times,
// attributes, metrics and payloads.
func TestCLI_JSONLines_RoundTrip(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	ctx := t.Context()
	if _, err := run(t, ctx, strings.Join(roundTripEvents, "\n"), "append", "--server", url, "-p", "acme", "orders"); err != nil {
		t.Fatal(err)
	}
	listing, err := run(t, ctx, "", "read", "--server", url, "-p", "acme", "orders", "--json")
	if err != nil {
		t.Fatal(err)
	}
	original := parseLines(t, listing)
	if len(original) != len(roundTripEvents) {
		t.Fatalf("read --json printed %d lines, want %d:\n%s", len(original), len(roundTripEvents), listing)
	}
	// What was appended is what is listed, plus what the server assigns.
	for i, line := range roundTripEvents {
		var in map[string]any
		if err := json.Unmarshal([]byte(line), &in); err != nil {
			t.Fatal(err)
		}
		got := maps.Clone(original[i])
		if got["stream"] != "orders" || got["seq"] != float64(i+1) || got["ingestTime"] == nil || got["id"] == nil {
			t.Fatalf("line %d lacks what the server assigns: %v", i+1, got)
		}
		if in["time"] == nil { // no time: listed with its ingest time
			in["time"] = got["ingestTime"]
		}
		delete(got, "stream")
		delete(got, "seq")
		delete(got, "ingestTime")
		if in["id"] == nil {
			delete(got, "id")
		}
		want := canonicalInput(t, in)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("event %d listed as\n%v\nwant\n%v", i+1, got, want)
		}
	}

	// The pipe into another project copies everything but stream and ingest time.
	if _, err := run(t, ctx, listing, "append", "--server", url, "-p", "other", "copy"); err != nil {
		t.Fatal(err)
	}
	copied, err := run(t, ctx, "", "read", "--server", url, "-p", "other", "copy", "--json")
	if err != nil {
		t.Fatal(err)
	}
	assertSameEvents(t, "the copy", original, parseLines(t, copied), "stream", "ingestTime")

	// tail --json prints the very same lines.
	tailCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var tailOut safeBuffer
	done := make(chan error, 1)
	go func() {
		root := cli.NewRoot(cli.IO{In: strings.NewReader(""), Out: &tailOut, Err: &safeBuffer{}})
		root.SetArgs([]string{"tail", "--server", url, "-p", "acme", "orders", "--from", "1", "--json"})
		done <- root.ExecuteContext(tailCtx)
	}()
	for strings.Count(tailOut.String(), "\n") < len(roundTripEvents) && tailCtx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if tailOut.String() != listing {
		t.Fatalf("tail --json:\n%s\nread --json:\n%s", tailOut.String(), listing)
	}

	// query --json lists the same events (JSON data as a value, so keys sorted).
	queried, err := run(t, ctx, "", "query", "--server", url, "-p", "acme", "--stream", "orders", "--order", "seq", "--json")
	if err != nil {
		t.Fatal(err)
	}
	assertSameEvents(t, "query --json", original, parseLines(t, queried))
}

// canonicalInput is an input line as a listing prints it: JSON names, and
// a binary payload labelled JSON printed as data.
func canonicalInput(t *testing.T, in map[string]any) map[string]any {
	t.Helper()
	out := map[string]any{}
	for k, v := range in {
		switch k {
		case "binary_data":
			k = "binaryData"
		case "content_type":
			k = "contentType"
		}
		out[k] = v
	}
	if out["contentType"] == "application/json" {
		raw, err := base64.StdEncoding.DecodeString(out["binaryData"].(string))
		if err != nil {
			t.Fatal(err)
		}
		var data any
		if err := json.Unmarshal(raw, &data); err != nil {
			t.Fatal(err)
		}
		out["data"] = data
		delete(out, "binaryData")
		delete(out, "contentType")
	}
	return out
}

// assertSameEvents compares two listings line by line, ignoring some fields.
func assertSameEvents(t *testing.T, what string, want, got []map[string]any, ignore ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s has %d events, want %d", what, len(got), len(want))
	}
	for i := range want {
		w, g := maps.Clone(want[i]), maps.Clone(got[i])
		for _, k := range ignore {
			delete(w, k)
			delete(g, k)
		}
		if !reflect.DeepEqual(w, g) {
			t.Errorf("%s, event %d:\n%v\nwant\n%v", what, i+1, g, w)
		}
	}
}

// parseLines parses NDJSON, one object a line.
func parseLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for l := range strings.Lines(out) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}
