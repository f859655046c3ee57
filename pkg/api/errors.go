package api

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"

	validatepb "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/query"
)

// errorDomain names Silt in google.rpc.ErrorInfo details.
const errorDomain = "silt.io"

// errInternal is what a client is told of an error outside the catalogue;
// the server logs the error itself, whose message may name server paths.
var errInternal = errors.New("internal error")

// toConnectError maps an error to the Connect error a client gets. It is
// the one place where that happens; every handler and interceptor goes
// through it, and docs/api.md has the table.
//
//   - The code, and the google.rpc.ErrorInfo reason, are those of the
//     event catalogue's sentinel that err wraps (event.Classify).
//   - Typed errors add what they know: a conflict's expected number, a
//     lost range's seqs, the fields of an invalid request.
//   - The context's errors keep their codes (Canceled, DeadlineExceeded).
//   - Anything else is Internal, logged, and says only "internal error".
//
// Messages name no server path: an error that means a sentinel without
// wrapping it (the operating system's ENOSPC, which quotes a file's path)
// says the sentinel's text alone.
func toConnectError(log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce
	}
	sentinel := event.Classify(err)
	switch {
	case sentinel != nil:
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, err)
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, err)
	default:
		log.Error("internal error", "err", err)
		return connect.NewError(connect.CodeInternal, errInternal)
	}
	if sentinel.Code() == event.CodeDataLoss {
		log.Error("data lost", "err", err)
	}
	if !errors.Is(err, sentinel) {
		err = sentinel
	}
	ce = connect.NewError(connectCode(sentinel.Code()), err)
	addDetails(ce, sentinel, err)
	return ce
}

// connectCode converts a catalogue code: the numbers are the same.
func connectCode(c event.Code) connect.Code { return connect.Code(c) }

// addDetails adds to ce what err's typed errors know, and the sentinel's
// ErrorInfo reason.
func addDetails(ce *connect.Error, sentinel *event.Error, err error) {
	var (
		bad      *query.InvalidError
		violated *violationError
		conflict *event.ConflictError
		lost     *event.RangeError
	)
	switch {
	case errors.As(err, &violated):
		addDetail(ce, violated.violations)
	case errors.As(err, &bad):
		addDetail(ce, &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: bad.Field, Description: bad.Reason}}})
	}
	if sentinel.Reason() == "" {
		return
	}
	info := &errdetails.ErrorInfo{Reason: sentinel.Reason(), Domain: errorDomain}
	meta := func(k string, v uint64) {
		if info.Metadata == nil {
			info.Metadata = make(map[string]string, 2)
		}
		info.Metadata[k] = strconv.FormatUint(v, 10)
	}
	if key := sentinel.ExpectedKey(); key != "" && errors.As(err, &conflict) {
		meta(key, conflict.Expected)
	}
	if errors.As(err, &lost) {
		meta("first_seq", lost.FirstSeq)
		meta("last_seq", lost.LastSeq)
	}
	addDetail(ce, info)
}

// addDetail adds one detail message to ce.
func addDetail(ce *connect.Error, msg proto.Message) {
	if d, err := connect.NewErrorDetail(msg); err == nil {
		ce.AddDetail(d)
	}
}

// violationError is a request that breaks the rules of its message
// (protovalidate's, or the API's own checks of the same kind): it wraps
// event.ErrInvalidArgument and carries a buf.validate.Violations detail
// naming each field.
type violationError struct {
	msg        string
	violations *validatepb.Violations
}

// Error implements error.
func (e *violationError) Error() string { return e.msg }

// Unwrap returns event.ErrInvalidArgument.
func (e *violationError) Unwrap() error { return event.ErrInvalidArgument }
