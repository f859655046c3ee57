package cli

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	validatepb "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
)

// Errors reach people as words: every command's error goes through
// describeError, which turns a server's validation violations into "what:
// the rule" lines that use the names a person typed (the input line, the
// flag, the JSON field) and drops wire codes, proto paths and regular
// expressions. The original error stays reachable with errors.As.

// humanError is an error as people read it, wrapping the original.
type humanError struct {
	err error
	msg string
}

func (e *humanError) Error() string { return e.msg }
func (e *humanError) Unwrap() error { return e.err }

// humanizeErrors makes every command under cmd return errors in words.
func humanizeErrors(cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		humanizeErrors(sub)
	}
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			err := run(cmd, args)
			if err == nil {
				return nil
			}
			return &humanError{err: err, msg: describeError(err)}
		}
	}
}

// inputError says how the person gave a failed request's parts, so that
// its errors name them that way.
type inputError struct {
	err error
	// labels name the events of an Append ("line 12", "argument 2"), for
	// violations of events[i]; span ("lines 1001-2000") names them all
	// for other errors.
	labels []string
	span   string
	// flags name request fields by the flag that set them, e.g.
	// "aggregations[1]" → "--agg p99:metrics.ms".
	flags map[string]string
}

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

// describeError is err for people. Text that wraps a server error (such as
// "line 3: ") is kept in front of the server error's description.
func describeError(err error) string {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return err.Error()
	}
	prefix, _ := strings.CutSuffix(err.Error(), ce.Error())
	in := &inputError{}
	errors.As(err, &in)
	msg, named := describeConnectError(ce, in)
	if !named && in.span != "" {
		prefix += in.span + ": "
	}
	return prefix + msg
}

// describeConnectError is a server's error for people: its violations in
// words when it has any (named is then true), else its message, with a
// hint where the code says more than the message.
func describeConnectError(ce *connect.Error, in *inputError) (msg string, named bool) {
	var problems []string
	for _, d := range ce.Details() {
		v, err := d.Value()
		if err != nil {
			continue
		}
		switch v := v.(type) {
		case *validatepb.Violations:
			seen := map[string]bool{}
			for _, vi := range v.GetViolations() {
				// One rule a field: "must not be empty" says enough without
				// "holds characters that are not allowed" after it.
				name := fieldName(vi.GetField(), vi.GetForKey(), in.labels, in.flags)
				if !seen[name] {
					seen[name] = true
					problems = append(problems, name+": "+ruleWords(vi))
				}
			}
		case *errdetails.BadRequest:
			for _, fv := range v.GetFieldViolations() {
				problems = append(problems, flagName(fv.GetField(), in.flags)+": "+fv.GetDescription())
			}
		}
	}
	switch {
	case len(problems) == 1:
		return problems[0], true
	case len(problems) > 1:
		const most = 10
		if len(problems) > most {
			problems = append(problems[:most], fmt.Sprintf("and %d more", len(problems)-most))
		}
		return "the server refused the request:\n  " + strings.Join(problems, "\n  "), true
	}
	return describeCode(ce.Code(), ce.Message()), false
}

// describeCode is an error without violations for people.
func describeCode(code connect.Code, msg string) string {
	switch code {
	case connect.CodeUnavailable:
		if strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host") || strings.Contains(msg, "dial tcp") {
			return "cannot reach the Silt server (" + lastClause(msg) + "); is it running, and do --server or SILT_SERVER name it?"
		}
		if strings.Contains(msg, "x509: ") {
			return "cannot trust the Silt server's certificate (" + lastClause(msg) + "); name its certificate authority with --tls-ca or SILT_TLS_CA"
		}
		if strings.Contains(msg, "server gave HTTP response to HTTPS client") {
			return "the Silt server speaks cleartext: use an http:// --server URL"
		}
		return "the server is unavailable: " + msg
	case connect.CodeDeadlineExceeded:
		return "timed out: " + msg
	case connect.CodeUnknown, connect.CodeInternal:
		if msg == "" {
			return "the server failed without saying why"
		}
		return "the server failed: " + msg
	case connect.CodePermissionDenied, connect.CodeUnauthenticated:
		return "not allowed: " + msg
	}
	if msg == "" {
		return strings.ReplaceAll(code.String(), "_", " ")
	}
	return msg
}

// lastClause is the end of a wrapped network error ("connection refused").
func lastClause(msg string) string {
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// requestFields names request fields by the flag or argument that sets them.
var requestFields = map[string]string{
	"project":                      "project (-p)",
	"stream":                       "stream name",
	"limit":                        "--limit",
	"max_bytes":                    "--max-bytes",
	"heartbeat_interval":           "--heartbeat",
	"types":                        "--type",
	"producer.id":                  "--producer",
	"page_size":                    "page size",
	"settings.content_type":        "--content-type",
	"settings.retention.max_age":   "--retention-age",
	"settings.retention.max_bytes": "--retention-bytes",
}

// flagName names a request field by the flag that set it: the flag of the
// longest leading part of field found in flags ("aggregations[1].field"
// → "--agg sum:type"), else field itself.
func flagName(field string, flags map[string]string) string {
	for f := field; f != ""; {
		if n, ok := flags[f]; ok {
			return n
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return field
}

// eventFieldNames are EventInput's fields by their JSON names.
var eventFieldNames = map[string]string{
	"binary_data": "binaryData", "content_type": "contentType",
}

// fieldName names the field a violation is about: "line 3: type",
// "argument 2: attribute key \"1a\"", "--limit", "stream name".
func fieldName(path *validatepb.FieldPath, forKey bool, labels []string, flags map[string]string) string {
	el := path.GetElements()
	if len(el) > 0 && el[0].GetFieldName() == "events" && el[0].HasIndex() {
		i := el[0].GetIndex()
		event := fmt.Sprintf("event %d", i+1)
		if i < uint64(len(labels)) {
			event = labels[i]
		}
		if len(el) == 1 {
			return event
		}
		return event + ": " + eventFieldName(el[1], forKey)
	}
	var parts []string
	for _, e := range el {
		parts = append(parts, e.GetFieldName())
	}
	joined := strings.Join(parts, ".")
	if n, ok := flags[joined]; ok {
		return n
	}
	if n, ok := requestFields[joined]; ok {
		return n
	}
	if joined == "" {
		return "the request"
	}
	return joined
}

// eventFieldName names a field of one event.
func eventFieldName(e *validatepb.FieldPathElement, forKey bool) string {
	name := e.GetFieldName()
	if n, ok := eventFieldNames[name]; ok {
		name = n
	}
	if !e.HasStringKey() {
		return name
	}
	what := strings.TrimSuffix(name, "s") // attributes → attribute, metrics → metric
	if forKey {
		return what + " key " + strconv.Quote(e.GetStringKey())
	}
	return what + " " + strconv.Quote(e.GetStringKey())
}

// patternWords says in words what the fields with a pattern rule accept.
var patternWords = map[string]string{
	"type":        "must start with a letter or digit and hold only letters, digits and . _ : / -",
	"id":          "must be printable ASCII without spaces",
	"producer.id": "must be printable ASCII without spaces",
	"key":         "must start with a letter or _ and hold only letters, digits and _ . -",
}

var (
	lengthRule = regexp.MustCompile(`^value length must be (at most |at least )?(\S+) (characters|bytes)$`)
	countRule  = regexp.MustCompile(`^(?:map|value) must (?:be|contain) (at most|at least|no more than) (\S+) (?:entries|item\(s\))$`)
)

// ruleWords says what rule a violation broke, without regular expressions
// or protobuf terms.
func ruleWords(v *validatepb.Violation) string {
	msg := v.GetMessage()
	el := v.GetField().GetElements()
	leaf := ""
	if len(el) > 0 {
		leaf = el[len(el)-1].GetFieldName()
	}
	switch {
	case strings.HasSuffix(v.GetRuleId(), ".pattern") || strings.Contains(msg, "regex pattern"):
		key := leaf
		if v.GetForKey() {
			key = "key"
		} else if len(el) == 2 && el[0].GetFieldName() == "producer" {
			key = "producer.id"
		}
		if w, ok := patternWords[key]; ok {
			return w
		}
		return "holds characters that are not allowed here"
	case strings.Contains(msg, "in oneof"):
		return "needs one of its alternatives set"
	case msg == "value is required":
		return "is required"
	case msg == "value must be finite":
		return "must be a finite number"
	case strings.Contains(msg, "defined enum values"):
		return "is not one of the known values"
	}
	if m := lengthRule.FindStringSubmatch(msg); m != nil {
		if m[1] == "at least " && m[2] == "1" {
			return "must not be empty"
		}
		return "must be " + m[1] + m[2] + " " + m[3] + " long"
	}
	if m := countRule.FindStringSubmatch(msg); m != nil {
		bound := m[1]
		if bound == "no more than" {
			bound = "at most"
		}
		return "must have " + bound + " " + m[2]
	}
	msg = strings.TrimPrefix(msg, "value ")
	if m := rangeRule.FindStringSubmatch(msg); m != nil {
		if m[3] == "" {
			return "must be from " + m[1] + " up to, not including, " + m[4]
		}
		return "must be from " + m[1] + " to " + m[4]
	}
	return boundWords.Replace(msg)
}

var (
	// rangeRule is a two-sided bound as protovalidate words it.
	rangeRule = regexp.MustCompile(`^must be greater than or equal to (\S+) and less than( (or equal to))? (\S+)$`)
	// boundWords says one-sided bounds shorter.
	boundWords = strings.NewReplacer("greater than or equal to", "at least", "less than or equal to", "at most")
)

// protojsonError rewords an error of protojson.Unmarshal: no "proto:"
// prefix, and a position a person can find.
func protojsonError(err error) error {
	// protojson puts a no-break space after "proto:", so that nobody
	// matches its messages; this is the one place that does.
	msg := strings.TrimSpace(strings.TrimPrefix(err.Error(), "proto:"))
	msg = strings.TrimPrefix(msg, "syntax error ")
	if m := protojsonPos.FindStringSubmatch(msg); m != nil {
		msg = "line " + m[1] + ", column " + m[2] + ": " + strings.TrimSpace(msg[len(m[0]):])
	}
	msg = strings.ReplaceAll(msg, "google.protobuf.Timestamp", "time (RFC 3339, such as 2026-11-01T10:00:00Z)")
	msg = strings.ReplaceAll(msg, "google.protobuf.Duration", "duration (such as \"3600s\")")
	return errors.New(msg)
}

var protojsonPos = regexp.MustCompile(`^\(line (\d+):(\d+)\):?`)
