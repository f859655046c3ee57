package segment

import (
	"errors"
	"fmt"

	"github.com/silt-io/silt/pkg/event"
)

// Sentinel errors; the package wraps them with what it was doing. The
// writer's (ErrUnsorted, ErrEmpty, ErrInvalidEvent) mean a caller's bug
// and stay inside the server; ErrCorrupt is the event catalogue's
// ErrCorrupt, which clients see as DataLoss.
var (
	// ErrUnsorted: events are not in strictly increasing (stream, seq) order.
	ErrUnsorted = errors.New("events are not sorted by (stream, seq)")
	// ErrEmpty: a segment would hold no events.
	ErrEmpty = errors.New("segment has no events")
	// ErrInvalidEvent: an event a segment cannot hold (no stream, seq 0, no
	// ingest time, a time outside 1678-2262, another project).
	ErrInvalidEvent = errors.New("invalid event")
	// ErrCorrupt: a file is not a readable segment: truncated, garbage, a
	// checksum mismatch, or inconsistent with its own metadata. It wraps
	// event.ErrCorrupt.
	ErrCorrupt = fmt.Errorf("segment is %w", event.ErrCorrupt)
)
