package query

import (
	"fmt"

	"github.com/silt-io/silt/pkg/event"
)

// InvalidError is a request the engine cannot run: an unknown field, a
// type mismatch, a range past the maximum. It wraps
// event.ErrInvalidArgument; the API names Field in its answer.
type InvalidError struct {
	// Field is the request field at fault, e.g. "filter.and[1].compare.value".
	Field string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *InvalidError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Reason) }

// Unwrap returns event.ErrInvalidArgument.
func (e *InvalidError) Unwrap() error { return event.ErrInvalidArgument }

// invalid makes an InvalidError.
func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
