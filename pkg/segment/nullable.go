package segment

import (
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/silt-io/silt/pkg/event"
)

// Source and subject became nullable (null: the event has none, which is
// not an empty string). Segments written before hold them as required
// columns, whose every row is present; every reader takes both forms, so
// existing data directories stay readable. Each column reader asks the
// file's own column descriptor whether a leaf is nullable, never
// leafShapes.

// becameNullable reports whether Schema field f was required in segments
// written before it became nullable.
func becameNullable(f int) bool { return f == fSource || f == fSubject }

// defLevelOK reports whether a file's leaf may have maximum definition
// level def: the schema's, or 0 for a leaf that became nullable.
func defLevelOK(leaf int, def int16) bool {
	if def == leafShapes[leaf].maxDef {
		return true
	}
	return def == 0 && (leaf == leafSource || leaf == leafSubject)
}

// appendOptional appends s, or null when it is absent.
func appendOptional(b *array.StringBuilder, s string, present bool) {
	if present {
		appendString(b, s)
	} else {
		b.AppendNull()
	}
}

// eventTime is the time a segment stores for e: its time, or its ingest
// time when it has none, as every reader returns it. So the time column
// of a segment written since has no nulls; one written before may, and
// its readers give those rows their ingest time.
func eventTime(e *event.Event) time.Time {
	if e.Time.IsZero() {
		return e.IngestTime
	}
	return e.Time
}
