package query

import (
	"strings"
	"testing"

	"github.com/silt-io/silt/pkg/event"
)

func TestStopper_Tick(t *testing.T) {
	t.Parallel()
	var none *stopper
	if none.tick(1 << 30) {
		t.Error("a nil stopper stopped")
	}
	done := make(chan struct{})
	s := newStopper(done)
	if s.tick(stopEvery) {
		t.Fatal("stopped before done was closed")
	}
	close(done)
	ticks := 1
	for !s.tick(1) {
		ticks++
	}
	if ticks > stopEvery/rowWork+1 {
		t.Errorf("stopped after %d ticks of a byte, want at most %d", ticks, stopEvery/rowWork+1)
	}
	if !s.tick(0) {
		t.Error("a stopped stopper went on")
	}
}

// TestPredicate_Eval_Stops: a leaf over rows longer than stopEvery
// evaluates none of them once the query has ended (seen as rows left
// selected that fail), and every one without a stopper. Above a Not the
// rows left would be cleared: a stopped filter's selection means nothing.
func TestPredicate_Eval_Stops(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("a", stopEvery)
	evs := make([]event.Event, 4)
	for i := range evs {
		evs[i] = event.Event{ID: "e", Type: "t", ContentType: event.ContentTypeJSON, Data: []byte(`{"text":"` + text + `"}`)}
	}
	b := newBatch(t, evs)
	for _, f := range []*Filter{
		{Op: OpContains, Field: Field{Kind: FieldData}, Value: String("B"), IgnoreCase: true},
		{Op: OpContains, Field: Field{Kind: FieldData}, Value: String("b")},
		{Op: OpCompare, Field: Field{Kind: FieldDataPath, Key: "$.text"}, Cmp: Eq, Value: String("b")},
		{Op: OpExists, Field: Field{Kind: FieldDataPath, Key: "$.none"}},
	} {
		p, err := compileFilter(f)
		if err != nil {
			t.Fatal(err)
		}
		sel := allTrue(b.Len)
		p.eval(b, sel, nil)
		if anyTrue(sel) {
			t.Fatalf("%s: rows %v passed, want none", fmtFilter(f), sel)
		}
		done := make(chan struct{})
		close(done)
		sel = allTrue(b.Len)
		p.eval(b, sel, newStopper(done))
		if !sel[len(sel)-1] {
			t.Errorf("%s: evaluated the last row after the query ended", fmtFilter(f))
		}
	}
}
