package event

import (
	"errors"
	"fmt"
)

// Sentinel errors. Stores wrap them; the API maps them to codes in one place.
var (
	// ErrStreamNotFound: the stream does not exist (and was not auto-created).
	ErrStreamNotFound = errors.New("stream not found")
	// ErrStreamExists: CreateStream named a stream that exists.
	ErrStreamExists = errors.New("stream already exists")
	// ErrProducerFenced: the producer's epoch is older than one already seen.
	ErrProducerFenced = errors.New("producer epoch is fenced")
	// ErrProducerSeqGap: the producer's seq skips ahead of the next expected one.
	ErrProducerSeqGap = errors.New("producer sequence gap")
	// ErrLastSeqMismatch: ExpectedLastSeq is not the stream's last seq.
	ErrLastSeqMismatch = errors.New("expected last seq does not match")
	// ErrOutOfRange: a read starts below the stream's first retained seq.
	ErrOutOfRange = errors.New("seq out of range")
	// ErrTooLarge: an append or event is larger than a store can commit at once.
	ErrTooLarge = errors.New("too large")
	// ErrClosed: the store is closed or closing.
	ErrClosed = errors.New("store is closed")
	// ErrMissingHistory: a stream's events were sealed into the history
	// tier, but no segment holds them (a lost file, a damaged manifest).
	// Reads and queries fail with it rather than skip the events.
	ErrMissingHistory = errors.New("sealed events missing from the history tier")
	// ErrDiskFull: the write would leave less free disk space than the
	// server keeps (its low-water mark), or the disk ran out of space.
	// Nothing of the refused write was stored; retry once space is freed.
	ErrDiskFull = errors.New("disk full")
	// ErrCorrupt: stored bytes failed a check (a checksum, a decoder, a seq
	// that is not where its key says) or a store lacks seqs that its stream's
	// extent claims. Reads fail with it rather than skip or invent events.
	// The packages that decode stored bytes wrap it in their own sentinels.
	ErrCorrupt = errors.New("corrupt")
)

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
