package api

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/silt-io/silt/pkg/diskspace"
	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/query"
)

// errorDomain names Silt in google.rpc.ErrorInfo details.
const errorDomain = "silt.io"

// Reasons carried in google.rpc.ErrorInfo, for clients that branch on them.
const (
	ReasonProducerFenced  = "PRODUCER_FENCED"
	ReasonProducerSeqGap  = "PRODUCER_SEQ_GAP"
	ReasonLastSeqMismatch = "LAST_SEQ_MISMATCH"
	ReasonSeqOutOfRange   = "SEQ_OUT_OF_RANGE"
	ReasonStreamNotFound  = "STREAM_NOT_FOUND"
	ReasonStreamExists    = "STREAM_EXISTS"
	// ReasonEventsLost comes with DataLoss for a range of events that
	// cannot be read; metadata first_seq and last_seq bound it, so a
	// client can read on from last_seq+1.
	ReasonEventsLost = "EVENTS_LOST"
)

// toConnectError maps a domain error to a Connect error. It is the one place
// where codes are chosen; docs/api.md has the table.
func toConnectError(log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce
	}
	var conflict *event.ConflictError
	var bad *query.InvalidError
	var lost *event.RangeError
	switch {
	case errors.As(err, &bad):
		return withViolation(err, bad.Field, bad.Reason)
	case errors.Is(err, event.ErrResultTooLarge):
		return connect.NewError(connect.CodeResourceExhausted, err)
	case diskspace.IsFull(err):
		return connect.NewError(connect.CodeResourceExhausted, err)
	case errors.As(err, &conflict) && errors.Is(err, event.ErrProducerFenced):
		return withInfo(connect.CodeFailedPrecondition, err, ReasonProducerFenced, "current_epoch", conflict.Expected)
	case errors.As(err, &conflict) && errors.Is(err, event.ErrProducerSeqGap):
		return withInfo(connect.CodeAborted, err, ReasonProducerSeqGap, "expected_seq", conflict.Expected)
	case errors.As(err, &conflict) && errors.Is(err, event.ErrLastSeqMismatch):
		return withInfo(connect.CodeFailedPrecondition, err, ReasonLastSeqMismatch, "last_seq", conflict.Expected)
	case errors.As(err, &conflict) && errors.Is(err, event.ErrOutOfRange):
		return withInfo(connect.CodeOutOfRange, err, ReasonSeqOutOfRange, "first_seq", conflict.Expected)
	case errors.Is(err, event.ErrStreamNotFound):
		return withInfo(connect.CodeNotFound, err, ReasonStreamNotFound, "", 0)
	case errors.Is(err, event.ErrStreamExists):
		return withInfo(connect.CodeAlreadyExists, err, ReasonStreamExists, "", 0)
	case errors.Is(err, event.ErrAppendTooLarge):
		return connect.NewError(connect.CodeInvalidArgument, err)
	case errors.As(err, &lost):
		log.Error("events lost", "err", err)
		ce := connect.NewError(connect.CodeDataLoss, err)
		addInfo(ce, ReasonEventsLost, map[string]uint64{"first_seq": lost.FirstSeq, "last_seq": lost.LastSeq})
		return ce
	case errors.Is(err, event.ErrMissingHistory), errors.Is(err, event.ErrCorrupt):
		log.Error("data lost", "err", err)
		return connect.NewError(connect.CodeDataLoss, err)
	case errors.Is(err, event.ErrClosed):
		return connect.NewError(connect.CodeUnavailable, err)
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, err)
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, err)
	}
	log.Error("internal error", "err", err)
	return connect.NewError(connect.CodeInternal, err)
}

// withInfo builds a Connect error with a google.rpc.ErrorInfo detail that
// carries one number (when key is not empty).
func withInfo(code connect.Code, err error, reason, key string, value uint64) error {
	ce := connect.NewError(code, err)
	var meta map[string]uint64
	if key != "" {
		meta = map[string]uint64{key: value}
	}
	addInfo(ce, reason, meta)
	return ce
}

// addInfo adds a google.rpc.ErrorInfo detail with the numbers of meta to ce.
func addInfo(ce *connect.Error, reason string, meta map[string]uint64) {
	info := &errdetails.ErrorInfo{Reason: reason, Domain: errorDomain}
	for k, v := range meta {
		if info.Metadata == nil {
			info.Metadata = make(map[string]string, len(meta))
		}
		info.Metadata[k] = strconv.FormatUint(v, 10)
	}
	if d, derr := connect.NewErrorDetail(info); derr == nil {
		ce.AddDetail(d)
	}
}

// withViolation builds an InvalidArgument error with a google.rpc.BadRequest
// detail naming the request field at fault, as validation errors do.
func withViolation(err error, field, reason string) error {
	ce := connect.NewError(connect.CodeInvalidArgument, err)
	br := &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: reason}}}
	if d, derr := connect.NewErrorDetail(br); derr == nil {
		ce.AddDetail(d)
	}
	return ce
}
