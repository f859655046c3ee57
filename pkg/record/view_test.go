package record

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
)

func TestView_Parse(t *testing.T) {
	t.Parallel()
	e := event.Event{
		Type: "t", Source: "s", Subject: "x",
		Time:        time.Unix(-3, 7).UTC(),
		Attributes:  map[string]string{"k": "v"},
		Metrics:     map[string]float64{"m": -0.5, "inf": math.Inf(-1)},
		ContentType: "text/plain", Data: []byte("hello"),
	}
	b := AppendBody(nil, &e, "id")
	var v View
	if err := v.Parse(b); err != nil {
		t.Fatal(err)
	}
	if string(v.ID) != "id" || string(v.Type) != "t" || string(v.Source) != "s" || string(v.Subject) != "x" ||
		!v.HasTime() || v.Seconds != -3 || v.Nanos != 7 || string(v.ContentType) != "text/plain" || string(v.Data) != "hello" {
		t.Errorf("view = %+v", v)
	}
	var attrs []string
	for k, val := range v.Attributes() {
		attrs = append(attrs, string(k)+"="+string(val))
	}
	if v.NumAttributes() != 1 || !slices.Equal(attrs, []string{"k=v"}) {
		t.Errorf("attributes %q (%d)", attrs, v.NumAttributes())
	}
	metrics := map[string]float64{}
	for k, val := range v.Metrics() {
		metrics[string(k)] = val
	}
	if v.NumMetrics() != 2 || metrics["m"] != -0.5 || !math.IsInf(metrics["inf"], -1) {
		t.Errorf("metrics %v (%d)", metrics, v.NumMetrics())
	}
	for n := range len(b) {
		if err := v.Parse(b[:n]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("body cut at %d: err = %v, want ErrCorrupt", n, err)
		}
	}
	if err := v.Parse(append(b, 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("trailing byte: err = %v, want ErrCorrupt", err)
	}
	bad := AppendString(AppendString([]byte{FlagHasTime}, "id"), "")
	bad = AppendString(AppendString(bad, ""), "")
	bad = append(bad, 0, 0x80, 0x94, 0xeb, 0xdc, 0x03) // nanoseconds 1e9
	if err := v.Parse(append(bad, 0, 0, 0, 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("nanoseconds 1e9: err = %v, want ErrCorrupt", err)
	}
}

// TestView_AllocatesNothing: a query of the hot tier parses every body
// it reads with a View.
func TestView_AllocatesNothing(t *testing.T) {
	e := event.Event{Type: "t", Attributes: map[string]string{"a": "1", "b": "2"}, Metrics: map[string]float64{"m": 1}, Data: []byte("{}")}
	b := AppendBody(nil, &e, "id")
	var v View
	n := 0
	allocs := testing.AllocsPerRun(100, func() {
		if err := v.Parse(b); err != nil {
			t.Fatal(err)
		}
		for k := range v.Attributes() {
			n += len(k)
		}
		for _, m := range v.Metrics() {
			n += int(m)
		}
	})
	if allocs != 0 {
		t.Errorf("Parse and iteration allocate %.0f times", allocs)
	}
}
