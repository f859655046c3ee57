package duckcheck

import (
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
)

// TestCompare_Detects proves Compare misses no change a broken writer or
// reader could make: each case alters one thing of a faithful copy.
func TestCompare_Detects(t *testing.T) {
	t.Parallel()
	want := genHistory(seed)
	sortEvents(want)
	faithful := func() []event.Event {
		got := make([]event.Event, len(want))
		for i, e := range want {
			normalise(&e)
			e.Attributes = maps.Clone(e.Attributes)
			e.Metrics = maps.Clone(e.Metrics)
			e.Data = slices.Clone(e.Data)
			got[i] = e
		}
		return got
	}
	if err := Compare(want, faithful()); err != nil {
		t.Fatalf("faithful copy: %v", err)
	}
	// Index of an event with time, attributes, metrics and data.
	i := slices.IndexFunc(want, func(e event.Event) bool {
		return !e.Time.IsZero() && len(e.Attributes) > 1 && len(e.Metrics) > 0 && len(e.Data) > 10
	})
	cases := []struct {
		name, field string
		alter       func(got []event.Event) []event.Event
	}{
		{"project", "project", func(g []event.Event) []event.Event { g[i].Project += "x"; return g }},
		{"stream", "stream", func(g []event.Event) []event.Event { g[i].Stream = "other"; return g }},
		{"seq", "seq", func(g []event.Event) []event.Event { g[i].Seq++; return g }},
		{"id", "id", func(g []event.Event) []event.Event { g[i].ID = ""; return g }},
		{"type", "type", func(g []event.Event) []event.Event { g[i].Type += " "; return g }},
		{"source", "source", func(g []event.Event) []event.Event { g[i].Source = strings.ToUpper(g[i].Source); return g }},
		{"subject", "subject", func(g []event.Event) []event.Event { g[i].Subject = g[i].Subject[1:]; return g }},
		{"time lost", "time", func(g []event.Event) []event.Event { g[i].Time = time.Time{}; return g }},
		{"time a microsecond off", "time", func(g []event.Event) []event.Event { g[i].Time = g[i].Time.Add(time.Microsecond); return g }},
		{"time in another zone", "time", func(g []event.Event) []event.Event { g[i].Time = g[i].Time.In(time.FixedZone("X", 3600)); return g }},
		{"ingest time", "ingest_time", func(g []event.Event) []event.Event {
			g[i].IngestTime = g[i].IngestTime.Add(-time.Microsecond)
			return g
		}},
		{"attribute value", "attributes", func(g []event.Event) []event.Event { g[i].Attributes["org"] += "!"; return g }},
		{"attribute lost", "attributes", func(g []event.Event) []event.Event { delete(g[i].Attributes, "org"); return g }},
		{"attributes empty", "attributes", func(g []event.Event) []event.Event { g[i].Attributes = nil; return g }},
		{"metric value", "metrics", func(g []event.Event) []event.Event { g[i].Metrics["duration_ms"] += 0.25; return g }},
		{"metric sign of zero", "metrics", func(g []event.Event) []event.Event {
			g[i].Metrics["z"] = 0
			want[i].Metrics["z"] = math.Copysign(0, -1)
			return g
		}},
		{"metric added", "metrics", func(g []event.Event) []event.Event { g[i].Metrics["extra"] = 1; return g }},
		{"content type", "content_type", func(g []event.Event) []event.Event { g[i].ContentType = "text/plain"; return g }},
		{"data byte", "data", func(g []event.Event) []event.Event { g[i].Data[5] ^= 1; return g }},
		{"data cut", "data", func(g []event.Event) []event.Event { g[i].Data = g[i].Data[:len(g[i].Data)-1]; return g }},
		{"data lost", "data", func(g []event.Event) []event.Event { g[i].Data = nil; return g }},
		{"event lost", "missing", func(g []event.Event) []event.Event { return g[:len(g)-1] }},
		{"event added", "extra", func(g []event.Event) []event.Event { return append(g, g[len(g)-1]) }},
		{"events swapped", "seq", func(g []event.Event) []event.Event { g[i], g[i+1] = g[i+1], g[i]; return g }},
	}
	for _, c := range cases {
		saved := maps.Clone(want[i].Metrics)
		err := Compare(want, c.alter(faithful()))
		want[i].Metrics = saved
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: Compare = %v, want an error about %s", c.name, err, c.field)
		}
	}
}
