package query

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/silt-io/silt/pkg/event"
)

// The reference: row by row, straight from the events, written for
// clarity rather than speed and independent of the code under test (but
// for parsePath, tested on its own).

// refEvent is an event with its data decoded.
type refEvent struct {
	e   *event.Event
	doc any // decoded JSON data (json.Number for numbers)
	ok  bool
}

func newRefEvents(evs []event.Event) []refEvent {
	out := make([]refEvent, len(evs))
	for i := range evs {
		e := &evs[i]
		out[i].e = e
		if e.IsJSON() && utf8.Valid(e.Data) {
			d := json.NewDecoder(strings.NewReader(string(e.Data)))
			d.UseNumber()
			if err := d.Decode(&out[i].doc); err != nil {
				panic(fmt.Sprintf("event %s: %v", e.ID, err))
			}
			out[i].ok = true
		}
	}
	return out
}

// refVal is a field's value in an event: its JSON type for a JSON path.
type refVal struct {
	kind byte // 0 absent, 's' string, 'n' number, 'b' bool, 't' time, 'u' seq, 'o' object or array
	s    string
	f    float64
	b    bool
	t    time.Time
	u    uint64
}

func refField(f Field, r refEvent) refVal {
	e := r.e
	switch f.Kind {
	case FieldStream:
		return refVal{kind: 's', s: e.Stream}
	case FieldID:
		return refVal{kind: 's', s: e.ID}
	case FieldType:
		return refVal{kind: 's', s: e.Type}
	case FieldSource:
		if e.HasSource() { // absent: null, not ""
			return refVal{kind: 's', s: e.Source}
		}
	case FieldSubject:
		if e.HasSubject() {
			return refVal{kind: 's', s: e.Subject}
		}
	case FieldContentType:
		return refVal{kind: 's', s: e.ContentType}
	case FieldSeq:
		return refVal{kind: 'u', u: e.Seq}
	case FieldTime:
		if e.Time.IsZero() { // no time: the ingest time
			return refVal{kind: 't', t: e.IngestTime}
		}
		return refVal{kind: 't', t: e.Time}
	case FieldIngestTime:
		return refVal{kind: 't', t: e.IngestTime}
	case FieldAttribute:
		if v, ok := e.Attributes[f.Key]; ok {
			return refVal{kind: 's', s: v}
		}
	case FieldMetric:
		if v, ok := e.Metrics[f.Key]; ok {
			return refVal{kind: 'n', f: v}
		}
	case FieldData:
		if r.ok {
			return refVal{kind: 's', s: string(e.Data)}
		}
	case FieldDataPath:
		if !r.ok {
			return refVal{}
		}
		steps, err := parsePath(f.Key)
		if err != nil {
			panic(err)
		}
		v := r.doc
		for _, st := range steps {
			switch x := v.(type) {
			case map[string]any:
				if st.isIdx {
					return refVal{}
				}
				var ok bool
				if v, ok = x[st.key]; !ok {
					return refVal{}
				}
			case []any:
				if !st.isIdx || st.index >= len(x) {
					return refVal{}
				}
				v = x[st.index]
			default:
				return refVal{}
			}
		}
		switch x := v.(type) {
		case string:
			return refVal{kind: 's', s: x}
		case json.Number:
			n, _ := strconv.ParseFloat(string(x), 64) // ±Inf past the float range
			return refVal{kind: 'n', f: n}
		case bool:
			return refVal{kind: 'b', b: x}
		case map[string]any, []any:
			return refVal{kind: 'o'}
		}
	}
	return refVal{}
}

// refCompare reports whether x c v holds; ok is false when the types do
// not compare.
func refCompare(x refVal, c Cmp, v Value) bool {
	var d int
	switch {
	case x.kind == 's' && v.Type == TypeString:
		d = strings.Compare(x.s, v.Str)
	case x.kind == 'u' && v.Type == TypeInt:
		d = new(big.Float).SetUint64(x.u).Cmp(new(big.Float).SetInt64(v.Int))
	case x.kind == 'u' && v.Type == TypeFloat:
		d = new(big.Float).SetUint64(x.u).Cmp(big.NewFloat(v.F))
	case x.kind == 't' && v.Type == TypeTime:
		d = x.t.Compare(v.Time)
	case x.kind == 'n' && (v.Type == TypeInt || v.Type == TypeFloat):
		w := v.F
		if v.Type == TypeInt {
			w = float64(v.Int)
		}
		switch {
		case x.f < w:
			d = -1
		case x.f > w:
			d = 1
		}
	case x.kind == 'b' && v.Type == TypeBool:
		if c != Eq && c != Ne {
			panic("bool order")
		}
		if x.b != v.Bool {
			d = 1
		}
	default:
		return false
	}
	switch c {
	case Eq:
		return d == 0
	case Ne:
		return d != 0
	case Lt:
		return d < 0
	case Le:
		return d <= 0
	case Gt:
		return d > 0
	case Ge:
		return d >= 0
	}
	panic("cmp")
}

// refFold maps each rune to the least rune of its simple folding orbit.
func refFold(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}

func refMatch(f *Filter, r refEvent) bool {
	switch f.Op {
	case OpAnd:
		for _, a := range f.Args {
			if !refMatch(a, r) {
				return false
			}
		}
		return true
	case OpOr:
		for _, a := range f.Args {
			if refMatch(a, r) {
				return true
			}
		}
		return false
	case OpNot:
		return !refMatch(f.Args[0], r)
	case OpCompare:
		return refCompare(refField(f.Field, r), f.Cmp, f.Value)
	case OpIn:
		x := refField(f.Field, r)
		for _, v := range f.Values {
			if refCompare(x, Eq, v) {
				return true
			}
		}
		return false
	case OpExists:
		return refField(f.Field, r).kind != 0
	case OpContains:
		x := refField(f.Field, r)
		if x.kind != 's' {
			return false
		}
		if f.IgnoreCase {
			return strings.Contains(refFold(x.s), refFold(f.Value.Str))
		}
		return strings.Contains(x.s, f.Value.Str)
	}
	panic("op")
}

// checkFilter compiles f, runs it over b (built from evs) with the
// selection enter, and compares the rows it keeps with the reference.
func checkFilter(t *testing.T, f *Filter, b *Batch, refs []refEvent, enter []bool) {
	t.Helper()
	p, err := compileFilter(f)
	if err != nil {
		t.Fatalf("compile %s: %v", fmtFilter(f), err)
	}
	sel := slices.Clone(enter)
	p.eval(b, sel, nil)
	for i, r := range refs {
		want := enter[i] && refMatch(f, r)
		if sel[i] != want {
			t.Fatalf("%s: event %s (row %d): got %v, want %v\nevent: %+v\ndata: %s",
				fmtFilter(f), r.e.ID, i, sel[i], want, *r.e, r.e.Data)
		}
	}
}
