package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/silt-io/silt/pkg/diskspace"
	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/query"
	"github.com/silt-io/silt/pkg/record"
	"github.com/silt-io/silt/pkg/segment"
)

// quiet discards the logs of the mapping.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// errorInfo returns the ErrorInfo detail of err, or nil.
func errorInfo(t *testing.T, err error) *errdetails.ErrorInfo {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("%v is not a *connect.Error", err)
	}
	for _, d := range ce.Details() {
		if v, derr := d.Value(); derr == nil {
			if info, ok := v.(*errdetails.ErrorInfo); ok {
				return info
			}
		}
	}
	return nil
}

// TestToConnectError_Catalogue walks the catalogue: each sentinel, wrapped
// as the stores wrap them, is answered with its code, which Connect names
// as the catalogue does, and with its ErrorInfo reason.
func TestToConnectError_Catalogue(t *testing.T) {
	t.Parallel()
	if len(event.Catalogue()) == 0 {
		t.Fatal("empty catalogue")
	}
	for _, e := range event.Catalogue() {
		err := toConnectError(quiet, fmt.Errorf("read p/s: %w", e))
		want := connectCode(e.Code())
		if got := connect.CodeOf(err); got != want {
			t.Errorf("%q: %v, want %v", e, got, want)
		}
		// connect spells codes in snake case: "not_found" for NotFound.
		if snake(e.Code().String()) != want.String() {
			t.Errorf("%q: the catalogue calls code %d %s, Connect %s", e, e.Code(), e.Code(), want)
		}
		info := errorInfo(t, err)
		switch {
		case e.Reason() == "" && info != nil:
			t.Errorf("%q: ErrorInfo %v, want none", e, info)
		case e.Reason() != "" && (info == nil || info.GetReason() != e.Reason() || info.GetDomain() != errorDomain):
			t.Errorf("%q: ErrorInfo %v, want reason %s", e, info, e.Reason())
		}
		if !strings.Contains(err.Error(), e.Error()) {
			t.Errorf("%q: message %q lost the sentinel's text", e, err)
		}
	}
}

// snake turns "NotFound" into "not_found".
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestToConnectError_Codes checks errors as the packages make them: their
// own sentinels and typed errors that wrap the catalogue's, the operating
// system's, the context's, and errors outside the catalogue.
func TestToConnectError_Codes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		code connect.Code
	}{
		{record.ErrCorrupt, connect.CodeDataLoss},
		{segment.ErrCorrupt, connect.CodeDataLoss},
		{&event.RangeError{Project: "p", Stream: "s", FirstSeq: 3, LastSeq: 9, Where: "hot tier", Err: record.ErrCorrupt}, connect.CodeDataLoss},
		{&diskspace.FullError{Dir: "/d", Free: 1, Mark: 2}, connect.CodeResourceExhausted},
		{syscall.ENOSPC, connect.CodeResourceExhausted},
		{syscall.EDQUOT, connect.CodeResourceExhausted},
		{&query.InvalidError{Field: "filter", Reason: "bad"}, connect.CodeInvalidArgument},
		{fieldViolation(fieldPath("limit"), "limit", "too big"), connect.CodeInvalidArgument},
		{&event.ConflictError{Err: event.ErrProducerSeqGap, Expected: 4, Got: 6}, connect.CodeAborted},
		{errStopping{}, connect.CodeUnavailable},
		{context.DeadlineExceeded, connect.CodeDeadlineExceeded},
		{context.Canceled, connect.CodeCanceled},
		{fmt.Errorf("something else"), connect.CodeInternal},
		// Outside the catalogue: a segment writer misused, a bug.
		{segment.ErrUnsorted, connect.CodeInternal},
	} {
		err := toConnectError(quiet, fmt.Errorf("query p/s: %w", tc.err))
		if got := connect.CodeOf(err); got != tc.code {
			t.Errorf("%v: %v, want %v", tc.err, got, tc.code)
		}
	}
}

// TestToConnectError_Details checks what typed errors add.
func TestToConnectError_Details(t *testing.T) {
	t.Parallel()
	err := toConnectError(quiet, fmt.Errorf("append: %w", &event.ConflictError{Err: event.ErrProducerFenced, Expected: 7, Got: 3}))
	if info := errorInfo(t, err); info.GetReason() != "PRODUCER_FENCED" || info.GetMetadata()["current_epoch"] != "7" {
		t.Errorf("fenced: ErrorInfo %v", info)
	}
	err = toConnectError(quiet, &event.RangeError{Project: "p", Stream: "s", FirstSeq: 3, LastSeq: 9, Where: "segment x", Err: segment.ErrCorrupt})
	if info := errorInfo(t, err); info.GetReason() != "EVENTS_LOST" || info.GetMetadata()["first_seq"] != "3" || info.GetMetadata()["last_seq"] != "9" {
		t.Errorf("lost range: ErrorInfo %v", info)
	}
	err = toConnectError(quiet, &query.InvalidError{Field: "filter.compare", Reason: "bad"})
	var ce *connect.Error
	if !errors.As(err, &ce) || len(ce.Details()) != 1 {
		t.Fatalf("invalid query: %v", err)
	}
	if v, _ := ce.Details()[0].Value(); v.(*errdetails.BadRequest).GetFieldViolations()[0].GetField() != "filter.compare" {
		t.Errorf("invalid query: detail %v", v)
	}
}

// TestToConnectError_NoServerPath checks the messages of errors that may
// quote server paths.
func TestToConnectError_NoServerPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&os.PathError{Op: "write", Path: "/srv/silt/hot/000001.vlog", Err: syscall.ENOSPC}, "disk full"},
		{&os.PathError{Op: "open", Path: "/srv/silt/hot/MANIFEST", Err: syscall.EACCES}, "internal error"},
		{&diskspace.FullError{Dir: "/srv/silt/hot", Free: 1 << 20, Need: 1 << 10, Mark: 32 << 20}, "disk full: 1.0 MiB free in …/hot"},
	} {
		err := toConnectError(quiet, fmt.Errorf("append p/s: %w", tc.err))
		var ce *connect.Error
		if !errors.As(err, &ce) {
			t.Fatalf("%v: not a connect error", tc.err)
		}
		if strings.Contains(ce.Message(), "/srv") || !strings.Contains(ce.Message(), tc.want) {
			t.Errorf("%v: message %q, want %q and no server path", tc.err, ce.Message(), tc.want)
		}
	}
}

// TestErrorTable_MatchesCatalogue parses the error table of docs/api.md:
// one row per sentinel of the catalogue, keyed by its text, with its code
// and ErrorInfo reason.
func TestErrorTable_MatchesCatalogue(t *testing.T) {
	t.Parallel()
	rows := errorTable(t, "../../docs/api.md")
	byText := map[string]*event.Error{}
	for _, e := range event.Catalogue() {
		if byText[e.Error()] != nil {
			t.Fatalf("two sentinels say %q", e)
		}
		byText[e.Error()] = e
	}
	for text, row := range rows {
		e := byText[text]
		if e == nil {
			t.Errorf("docs/api.md lists %q, which is not in the catalogue", text)
			continue
		}
		if row.code != e.Code().String() {
			t.Errorf("docs/api.md: %q is %s, the catalogue says %s", text, row.code, e.Code())
		}
		if row.reason != e.Reason() {
			t.Errorf("docs/api.md: %q has ErrorInfo %q, the catalogue says %q", text, row.reason, e.Reason())
		}
		if e.ExpectedKey() != "" && !strings.Contains(row.info, "`"+e.ExpectedKey()+"`") {
			t.Errorf("docs/api.md: %q does not name its ErrorInfo metadata %s", text, e.ExpectedKey())
		}
	}
	for text := range byText {
		if _, ok := rows[text]; !ok {
			t.Errorf("docs/api.md has no row for %q", text)
		}
	}
}

// tableRow is a row of the error table.
type tableRow struct {
	code   string // "NotFound"
	reason string // "STREAM_NOT_FOUND", or ""
	info   string // the whole ErrorInfo cell
}

// errorTable reads the table that starts with "| Error | Code | ErrorInfo |"
// from the Markdown file at path, keyed by the error's text.
func errorTable(t *testing.T, path string) map[string]tableRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[string]tableRow{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "| Error | Code | ErrorInfo |") {
			in = true
			continue
		}
		if !in || strings.HasPrefix(line, "| ---") {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) < 3 {
			t.Fatalf("%s: short row %q", path, line)
		}
		text := unquote(t, cells[0])
		if _, dup := rows[text]; dup {
			t.Errorf("%s: two rows for %q", path, text)
		}
		row := tableRow{code: unquote(t, cells[1]), info: strings.TrimSpace(cells[2])}
		if row.info != "—" {
			row.reason = unquote(t, strings.SplitN(row.info, ",", 2)[0])
		}
		rows[text] = row
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s has no error table", path)
	}
	return rows
}

// unquote returns the text of a cell that is one `code span`.
func unquote(t *testing.T, cell string) string {
	t.Helper()
	cell = strings.TrimSpace(cell)
	if len(cell) < 2 || cell[0] != '`' || strings.Count(cell, "`") != 2 || cell[len(cell)-1] != '`' {
		t.Fatalf("error table cell %q is not one `code span`", cell)
	}
	return cell[1 : len(cell)-1]
}
