package query

import (
	"errors"
	"fmt"
)

// ErrTooLarge: the result would pass a cap (groups, rows). The API maps
// it to ResourceExhausted.
var ErrTooLarge = errors.New("query result too large")

// InvalidError is a request the engine cannot run: an unknown field, a
// type mismatch, a range past the maximum. The API maps it to
// InvalidArgument, naming Field.
type InvalidError struct {
	// Field is the request field at fault, e.g. "filter.and[1].compare.value".
	Field string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *InvalidError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Reason) }

// invalid makes an InvalidError.
func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
