package event

import (
	"errors"
	"fmt"
	"slices"
	"syscall"
)

// The catalogue: every error the API answers with a code of its own is
// one of these sentinels, declared with that code, the
// google.rpc.ErrorInfo reason it carries, and what it means. Packages
// wrap them with context ("read segment %s: %w") or return a typed error
// below that wraps one; a package-specific sentinel that its callers must
// tell apart wraps one too (record.ErrCorrupt). The API answers an error
// by the first sentinel in its chain (Classify) and anything else as
// Internal. docs/api.md has the same table for clients, and a test in
// pkg/api keeps the two equal.
//
// The message of an error that wraps a sentinel reaches the client, so it
// must name no server path (segments go by ID and relative path).
var (
	// ErrInvalidArgument: a request the server cannot serve as asked,
	// whatever its state: a field breaks a rule, a query names an unknown
	// field or compares values of the wrong type. The typed errors that
	// name the field wrap it.
	ErrInvalidArgument = define(CodeInvalidArgument, "invalid argument", "", "")
	// ErrAppendTooLarge: an append or one of its events is larger than a
	// store can commit at once. Like the API's own size rules, it is the
	// request's fault: split it.
	ErrAppendTooLarge = define(CodeInvalidArgument, "append too large", "", "")
	// ErrStreamNotFound: the stream does not exist (and was not auto-created).
	ErrStreamNotFound = define(CodeNotFound, "stream not found", "STREAM_NOT_FOUND", "")
	// ErrStreamExists: CreateStream named a stream that exists.
	ErrStreamExists = define(CodeAlreadyExists, "stream already exists", "STREAM_EXISTS", "")
	// ErrProjectNotFound: the project does not exist, or its deletion began
	// (then CreateStream in it answers it too, until the deletion finished).
	ErrProjectNotFound = define(CodeNotFound, "project not found", "PROJECT_NOT_FOUND", "")
	// ErrProjectExists: CreateProject named a project that exists, created
	// explicitly or by its first stream, or whose deletion has not finished.
	ErrProjectExists = define(CodeAlreadyExists, "project already exists", "PROJECT_EXISTS", "")
	// ErrLastSeqMismatch: ExpectedLastSeq is not the stream's last seq.
	ErrLastSeqMismatch = define(CodeFailedPrecondition, "expected last seq does not match", "LAST_SEQ_MISMATCH", "last_seq")
	// ErrProducerFenced: the producer's epoch is older than one already seen.
	ErrProducerFenced = define(CodeFailedPrecondition, "producer epoch is fenced", "PRODUCER_FENCED", "current_epoch")
	// ErrProducerSeqGap: the producer's seq skips ahead of the next expected one.
	ErrProducerSeqGap = define(CodeAborted, "producer sequence gap", "PRODUCER_SEQ_GAP", "expected_seq")
	// ErrOutOfRange: a read starts below the stream's first retained seq.
	ErrOutOfRange = define(CodeOutOfRange, "seq out of range", "SEQ_OUT_OF_RANGE", "first_seq")
	// ErrResultTooLarge: a query's answer would pass a cap of the engine
	// (groups); a narrower query or a coarser grouping fits. A cap the
	// answer, not the request, runs into: unlike ErrAppendTooLarge.
	ErrResultTooLarge = define(CodeResourceExhausted, "query result too large", "", "")
	// ErrQuotaExceeded: the call would take the project past one of its
	// quotas (concurrent subscriptions or queries); other projects are not
	// affected. Retry once one of the project's calls ended.
	ErrQuotaExceeded = define(CodeResourceExhausted, "project quota exceeded", "QUOTA_EXCEEDED", "")
	// ErrDiskFull: the write would leave less free disk space than the
	// server keeps (its low-water mark), or the disk ran out of space.
	// Nothing of the refused write was stored; retry once space is freed.
	// Classify takes the operating system's ENOSPC and EDQUOT for it.
	ErrDiskFull = define(CodeResourceExhausted, "disk full", "", "")
	// ErrClosed: the store is closed or closing; the server is stopping.
	ErrClosed = define(CodeUnavailable, "store is closed", "", "")
	// ErrMissingHistory: a stream's events were sealed into the history
	// tier, but no segment holds them (a lost file, a damaged manifest).
	// Reads and queries fail with it rather than skip the events.
	ErrMissingHistory = define(CodeDataLoss, "sealed events missing from the history tier", "EVENTS_LOST", "")
	// ErrCorrupt: stored bytes failed a check (a checksum, a decoder, a seq
	// that is not where its key says) or a store lacks seqs that its stream's
	// extent claims. Reads fail with it rather than skip or invent events.
	// The packages that decode stored bytes wrap it in their own sentinels.
	ErrCorrupt = define(CodeDataLoss, "corrupt", "EVENTS_LOST", "")
)

// Errors that are no sentinel of the catalogue stay inside the server,
// or reach a client as Internal with a message that says nothing more:
// manifest.ErrRejected (an edit that does not fit the manifest, after
// which rotation or compaction removes its file; the background loop
// tries again next round), the query engine's invalid-filter error (which
// it reports as an InvalidError naming the node), and segment.ErrUnsorted,
// ErrEmpty and ErrInvalidEvent (a segment writer misused: a bug).

// Error is a sentinel of the catalogue.
type Error struct {
	msg    string
	code   Code
	reason string
	key    string
}

// catalogue holds the sentinels in the order they are declared.
var catalogue []*Error

// define declares a sentinel of the catalogue.
func define(code Code, msg, reason, expectedKey string) *Error {
	e := &Error{msg: msg, code: code, reason: reason, key: expectedKey}
	catalogue = append(catalogue, e)
	return e
}

// Error implements error.
func (e *Error) Error() string { return e.msg }

// Code is the status code the API answers with.
func (e *Error) Code() Code { return e.code }

// Reason is the google.rpc.ErrorInfo reason the API sends with the code,
// or "" for none.
func (e *Error) Reason() string { return e.reason }

// ExpectedKey names, in that ErrorInfo's metadata, the Expected number of
// a ConflictError that wraps the sentinel ("" for sentinels that are not
// conflicts). A RangeError adds first_seq and last_seq instead.
func (e *Error) ExpectedKey() string { return e.key }

// Catalogue returns every sentinel of the catalogue.
func Catalogue() []*Error { return slices.Clone(catalogue) }

// Classify returns the sentinel of the catalogue that err wraps (the
// first in its chain, as errors.As finds it), ErrDiskFull for the
// operating system's ENOSPC and EDQUOT, and nil for anything else (the
// API answers the context's errors with their own codes, the rest as
// Internal).
func Classify(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return ErrDiskFull
	}
	return nil
}

// RangeError names the seqs of a stream that a read could not return, so a
// client can tell what is lost and read on after it. Its message holds no
// server paths.
type RangeError struct {
	Project, Stream string
	// FirstSeq and LastSeq bound the seqs that could not be read.
	FirstSeq, LastSeq uint64
	// Where names what held them: "hot tier", or "segment <id>".
	Where string
	// Err wraps ErrCorrupt or ErrMissingHistory.
	Err error
}

// Error implements error.
func (e *RangeError) Error() string {
	return fmt.Sprintf("events %d..%d of %s/%s unreadable in the %s: %v", e.FirstSeq, e.LastSeq, e.Project, e.Stream, e.Where, e.Err)
}

// Unwrap returns the cause.
func (e *RangeError) Unwrap() error { return e.Err }

// ConflictError carries the numbers a client needs to recover from a
// sequencing conflict: the expected value and the actual one.
type ConflictError struct {
	// Err is one of ErrProducerFenced, ErrProducerSeqGap, ErrLastSeqMismatch, ErrOutOfRange.
	Err error
	// Expected is what the request should have said: the next producer seq,
	// the current producer epoch, the stream's last seq, or the first seq.
	Expected uint64
	// Got is what the request said.
	Got uint64
}

// Error implements error.
func (e *ConflictError) Error() string {
	switch {
	case errors.Is(e.Err, ErrProducerFenced):
		return fmt.Sprintf("%v: epoch %d is older than current epoch %d", e.Err, e.Got, e.Expected)
	case errors.Is(e.Err, ErrProducerSeqGap):
		return fmt.Sprintf("%v: got seq %d, expected seq %d", e.Err, e.Got, e.Expected)
	case errors.Is(e.Err, ErrLastSeqMismatch):
		return fmt.Sprintf("%v: expected %d, stream's last seq is %d", e.Err, e.Got, e.Expected)
	case errors.Is(e.Err, ErrOutOfRange):
		return fmt.Sprintf("%v: seq %d is before the first available seq %d", e.Err, e.Got, e.Expected)
	}
	return fmt.Sprintf("%v: expected %d, got %d", e.Err, e.Expected, e.Got)
}

// Unwrap returns the sentinel.
func (e *ConflictError) Unwrap() error { return e.Err }
