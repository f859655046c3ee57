package cli_test

import (
	"regexp"
	"strings"
	"testing"

	"connectrpc.com/connect"
)

// jargon are words of the wire and of protobuf that must not reach a person.
var jargon = []string{"proto", "regex", "oneof", "invalid_argument", "not_found", "validation error", "google.", "enum", "`", "[0]", "$"}

// snakeCase finds proto field names such as heartbeat_interval.
var snakeCase = regexp.MustCompile(`[a-z]_[a-z]`)

// TestCLI_Errors_InWords: errors name the field as the person wrote it (the
// argument or input line, the flag) and the rule in words, while the
// Connect code stays reachable for code that checks it.
func TestCLI_Errors_InWords(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	ctx := t.Context()
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string
		code  connect.Code // 0: a client-side error
	}{
		{"type with a space", "", []string{"append", "s", `{"type":"order created","data":{}}`},
			"argument 1: type: must start with a letter or digit and hold only letters, digits and . _ : / -", connect.CodeInvalidArgument},
		{"bad attribute key on line 3", "{\"type\":\"a\",\"data\":1}\n\n{\"type\":\"a\",\"data\":1,\"attributes\":{\"1a\":\"x\"}}\n", []string{"append", "s"},
			`line 3: attribute key "1a": must start with a letter or _ and hold only letters, digits and _ . -`, connect.CodeInvalidArgument},
		{"two events, two problems", "", []string{"append", "s", `{"type":"a","data":1,"time":"1600-01-01T00:00:00Z"}`, `{"type":"","data":1}`},
			"the server refused the request:\n  argument 1: time: must be from 1678-01-01T00:00:00Z up to, not including, 2262-01-01T00:00:00Z\n  argument 2: type: must not be empty",
			connect.CodeInvalidArgument},
		{"long type", "", []string{"append", "s", `{"type":"` + strings.Repeat("t", 300) + `","data":1}`},
			"argument 1: type: must be at most 256 characters long", connect.CodeInvalidArgument},
		{"stream name", "", []string{"append", "Bad Stream!", `{"type":"t","data":1}`},
			"stream name: must be 1 to 256 characters: /-separated segments of letters, digits and _ . : -, each starting with a letter, digit or _", connect.CodeInvalidArgument},
		{"read limit", "", []string{"read", "s", "--limit", "20000"}, "--limit: must be at most 10000", connect.CodeInvalidArgument},
		{"metric not a number", "", []string{"append", "s", `{"type":"t","data":1,"metrics":{"ms":"fast"}}`},
			`argument 1: metrics: "ms": want a number, got a string "fast"`, 0},
		{"attribute not a string", "", []string{"append", "s", `{"type":"t","data":1,"attributes":{"code":200}}`},
			`argument 1: attributes: "code": want a string, got a number 200 (write it in quotes)`, 0},
		{"time not RFC 3339", "", []string{"append", "s", `{"type":"t","data":1,"time":"yesterday"}`},
			`argument 1: time: "yesterday" is not an RFC 3339 time such as 2026-11-01T10:00:00Z`, 0},
		{"unknown field", "", []string{"append", "s", `{"type":"t","dat":1}`},
			`argument 1: unknown field "dat" (an event has id, type, source, subject, time, attributes, metrics, data, binaryData, contentType)`, 0},
		{"not JSON on line 2", "{\"type\":\"t\",\"data\":1}\n{\"type\":\n", []string{"append", "s"},
			`line 2: not JSON (column 8: unexpected end of JSON input); want an event: a JSON object such as {"type":"page.view","data":{}}`, 0},
		{"producer seq gap names the lines", "{\"type\":\"t\",\"data\":1}\n{\"type\":\"t\",\"data\":2}\n", []string{"append", "s", "--producer", "p", "--producer-seq", "3"},
			"lines 1-2: append to acme/s: producer sequence gap: got seq 3, expected seq 0", connect.CodeAborted},
		{"stream not found", "", []string{"streams", "get", "nope"}, "get stream acme/nope: stream not found", connect.CodeNotFound},
		{"read since", "", []string{"read", "s", "--since", "yesterday"}, `--since: "yesterday" is neither an RFC 3339 time nor a duration such as 24h`, 0},
		{"query agg on a string", "", []string{"query", "--agg", "count", "--agg", "sum:type"},
			"--agg sum:type: sum needs a numeric field; type holds string values", connect.CodeInvalidArgument},
		{"query group by the data text", "", []string{"query", "--agg", "count", "--bucket", "day", "--group-by", "data"},
			"--group-by data: cannot group by the whole data text; group by a JSON path into it", connect.CodeInvalidArgument},
		{"query time range", "", []string{"query", "--since", "2026-01-02T00:00:00Z", "--until", "2026-01-01T00:00:00Z"},
			"--since/--until: end 2026-01-01T00:00:00Z is not after start 2026-01-02T00:00:00Z", connect.CodeInvalidArgument},
		{"query body field", `{"limt":3}`, []string{"query", "--body", "-"}, `--body: line 1, column 2: unknown field "limt"`, 0},
		{"query body enum", `{"aggregations":[{"function":"median","field":"metrics.ms"}]}`, []string{"query", "--body", "-"},
			`--body: aggregations[0].function: "median" is not one of count, count_distinct, sum, avg, min, max, percentile, rate (or pNN such as p99)`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, ctx, tc.stdin, append(tc.args, "--server", url, "-p", "acme")...)
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tc.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, tc.want)
			}
			if tc.code != 0 && connect.CodeOf(err) != tc.code {
				t.Errorf("code %v, want %v", connect.CodeOf(err), tc.code)
			}
			if !strings.HasPrefix(tc.want, "--body") { // a body's errors use the names its author wrote
				checkNoJargon(t, err.Error())
			}
		})
	}
	// A server that is not there.
	_, err := run(t, ctx, "", "read", "s", "--server", "http://127.0.0.1:1")
	if err == nil || err.Error() != "cannot reach the Silt server (connection refused); is it running, and do --server or SILT_SERVER name it?" {
		t.Errorf("unreachable server: %v", err)
	}
}

// checkNoJargon fails when msg holds a word of the wire or of protobuf.
func checkNoJargon(t *testing.T, msg string) {
	t.Helper()
	for _, j := range jargon {
		if strings.Contains(msg, j) {
			t.Errorf("%q says %q", msg, j)
		}
	}
	if snakeCase.MatchString(msg) {
		t.Errorf("%q names a proto field", msg)
	}
}
