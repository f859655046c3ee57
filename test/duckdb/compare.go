package duckcheck

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/silt-io/silt/pkg/event"
)

// Compare returns nil when got, as [ReadEvents] returns it, holds exactly the
// events of want, and otherwise an error naming the first event and field
// that differ.
//
// want may be in any order; Compare sorts a normalised copy by (project,
// stream, seq) and expects got in that order. Normalising allows only what
// a segment round trip and DuckDB change: times in UTC, cut to
// [TimePrecision] (toward 1970); empty Attributes, Metrics and Data as nil. Every other
// field must be equal, metric values bit for bit (any NaN equals any NaN).
func Compare(want, got []event.Event) error {
	want = slices.Clone(want)
	for i := range want {
		normalise(&want[i])
	}
	slices.SortStableFunc(want, func(a, b event.Event) int {
		return cmp.Or(cmp.Compare(a.Project, b.Project), cmp.Compare(a.Stream, b.Stream), cmp.Compare(a.Seq, b.Seq))
	})
	for i := range min(len(want), len(got)) {
		if d := diff(&want[i], &got[i]); d != "" {
			return fmt.Errorf("event %d (project %q, stream %q, seq %d): %s",
				i, want[i].Project, want[i].Stream, want[i].Seq, d)
		}
	}
	switch n := min(len(want), len(got)); {
	case len(got) < len(want):
		return fmt.Errorf("got %d events, want %d: first missing is event %d (project %q, stream %q, seq %d)",
			len(got), len(want), n, want[n].Project, want[n].Stream, want[n].Seq)
	case len(got) > len(want):
		return fmt.Errorf("got %d events, want %d: first extra is event %d (project %q, stream %q, seq %d)",
			len(got), len(want), n, got[n].Project, got[n].Stream, got[n].Seq)
	}
	return nil
}

// normalise applies to e what a segment round trip through DuckDB may change.
// Every reader gives an event without a time its ingest time, and one
// without a payload no content type.
func normalise(e *event.Event) {
	if e.Time.IsZero() {
		e.Time = e.IngestTime
	}
	if !e.HasPayload() {
		e.ContentType = ""
	}
	e.SetPresent(e.HasSource(), e.HasSubject(), e.HasPayload())
	e.Time = cut(e.Time)
	e.IngestTime = cut(e.IngestTime)
	if len(e.Attributes) == 0 {
		e.Attributes = nil
	}
	if len(e.Metrics) == 0 {
		e.Metrics = nil
	}
	if len(e.Data) == 0 {
		e.Data = nil
	}
}

// cut returns t in UTC without the digits below TimePrecision, cut as
// DuckDB does: it divides the nanoseconds since 1970, so times before 1970
// move up, toward 1970, and later ones down.
func cut(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	ns := t.UnixNano()
	return time.Unix(0, ns-ns%int64(TimePrecision)).UTC()
}

// diff describes the first field in which got differs from want, or "".
func diff(want, got *event.Event) string {
	str := func(field, w, g string) string {
		if w == g {
			return ""
		}
		return fmt.Sprintf("%s: want %q, got %q", field, w, g)
	}
	if d := cmp.Or(
		str("project", want.Project, got.Project),
		str("stream", want.Stream, got.Stream),
	); d != "" {
		return d
	}
	if want.Seq != got.Seq {
		return fmt.Sprintf("seq: want %d, got %d", want.Seq, got.Seq)
	}
	return cmp.Or(
		str("id", want.ID, got.ID),
		str("type", want.Type, got.Type),
		str("source", want.Source, got.Source),
		str("subject", want.Subject, got.Subject),
		str("present", fmt.Sprintf("%03b", want.Present), fmt.Sprintf("%03b", got.Present)),
		diffTime("time", want.Time, got.Time),
		diffTime("ingest_time", want.IngestTime, got.IngestTime),
		diffMap("attributes", want.Attributes, got.Attributes, func(a, b string) bool { return a == b }),
		diffMap("metrics", want.Metrics, got.Metrics, sameFloat),
		str("content_type", want.ContentType, got.ContentType),
		diffData(want.Data, got.Data),
	)
}

func diffTime(field string, want, got time.Time) string {
	if want.Equal(got) && want.Location() == got.Location() {
		return ""
	}
	return fmt.Sprintf("%s: want %s, got %s", field, want.Format(time.RFC3339Nano), got.Format(time.RFC3339Nano))
}

func diffMap[V any](field string, want, got map[string]V, eq func(a, b V) bool) string {
	if (want == nil) != (got == nil) || !maps.EqualFunc(want, got, eq) {
		return fmt.Sprintf("%s: want %v, got %v", field, want, got)
	}
	return ""
}

func diffData(want, got []byte) string {
	if bytes.Equal(want, got) && (want == nil) == (got == nil) {
		return ""
	}
	i := 0
	for i < min(len(want), len(got)) && want[i] == got[i] {
		i++
	}
	return fmt.Sprintf("data: %d bytes want, %d got, first difference at byte %d: want %q, got %q",
		len(want), len(got), i, want[i:min(len(want), i+32)], got[i:min(len(got), i+32)])
}

// sameFloat reports whether a and b are the same double: equal bits, or both NaN.
func sameFloat(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || math.IsNaN(a) && math.IsNaN(b)
}
