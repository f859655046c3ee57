package query

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
)

// Random events and filters: the test that catches what the table misses.

// vocabulary the random events and operands draw from.
var (
	rStreams  = []string{"orders", "users", "billing", "ünï"}
	rTypes    = []string{"order.created", "order.paid", "Order.Created", "user.signup", "STRASSE", "straße", "STRAẞE", "Kelvin \u212A", "ſtop", "σοφία", "ΣΟΦΊΑ", ""}
	rSources  = []string{"", "web", "api", "Web", "WEB"}
	rAttrKeys = []string{"org", "plan", "region", "a.b", "env", "z"}
	rAttrVals = []string{"acme", "Acme", "beta", "pro", "free", "", "straße", "STRASSE", "eu-west", "ΣΟΦΊΑ"}
	rMetKeys  = []string{"duration", "bytes", "status", "x"}
	rMetVals  = []float64{0, math.Copysign(0, -1), 1, 100, 100.5, -3, 1e300, -1e300, 0.1, 99.99999}
	rPaths    = []string{
		"$.user.plan", "$.user.seats", "$.user", "$.n", "$.tags[0]", "$.tags[1]", "$.tags[5]",
		`$["a.b"]`, `$["#"]`, `$[""]`, `$["2"]`, "$.nested.x[0].y", "$.nested.x[1]", "$.ok", "$.s",
		"$.missing", "$[0]", `$.nested["x"][0]`, `$.m["0"]`, "$.m[0]",
	}
	rStrs = []string{"pro", "free", "PRO", "12", "", "x", "a\"b", "<&>", "é", "straße", "ſ", "\u00e9t\u00e9", "k"}
)

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// randJSON writes a random JSON value of the shapes the paths look for,
// with members in random order.
func randJSON(rng *rand.Rand) []byte {
	scalar := func() string {
		switch rng.IntN(6) {
		case 0:
			b, _ := json.Marshal(pick(rng, rStrs))
			return string(b)
		case 1:
			return strconv.FormatFloat(pick(rng, rMetVals), 'g', -1, 64)
		case 2:
			return strconv.Itoa(rng.IntN(20) - 5)
		case 3:
			return pick(rng, []string{"true", "false"})
		case 4:
			return "null"
		default:
			return pick(rng, []string{"1e400", "-0", "12.50", "1E2", `"12"`, `"\u0070ro"`, `"tab\there"`})
		}
	}
	var value func(depth int) string
	object := func(depth int, keys []string) string {
		rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		var parts []string
		for _, k := range keys[:rng.IntN(len(keys)+1)] {
			kb, _ := json.Marshal(k)
			parts = append(parts, string(kb)+":"+value(depth+1))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	value = func(depth int) string {
		if depth > 3 {
			return scalar()
		}
		switch rng.IntN(8) {
		case 0:
			var parts []string
			for range rng.IntN(3) {
				parts = append(parts, value(depth+1))
			}
			return "[" + strings.Join(parts, ", ") + "]"
		case 1:
			return object(depth, []string{"plan", "seats", "y", "0", "x"})
		default:
			return scalar()
		}
	}
	if rng.IntN(10) == 0 {
		return []byte(value(1)) // not always an object at the top
	}
	return []byte(object(0, []string{"user", "n", "tags", "a.b", "#", "", "2", "ok", "s", "nested", "m"}))
}

func randEvents(rng *rand.Rand, n int) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		e := &evs[i]
		e.Stream = pick(rng, rStreams)
		e.Seq = uint64(rng.IntN(50))
		if rng.IntN(20) == 0 {
			e.Seq = 1<<62 + uint64(rng.IntN(3))
		}
		e.ID = fmt.Sprintf("e%d", i)
		e.Type = pick(rng, rTypes)
		e.Source = pick(rng, rSources)
		e.Subject = pick(rng, rTypes) + " " + pick(rng, rAttrVals)
		if rng.IntN(4) > 0 {
			e.Time = t0.Add(time.Duration(rng.IntN(20)-10) * time.Minute).Add(time.Duration(rng.IntN(3)))
		}
		e.IngestTime = t0.Add(time.Duration(rng.IntN(20)) * time.Minute)
		if rng.IntN(6) > 0 {
			e.Attributes = map[string]string{}
			for range rng.IntN(5) {
				e.Attributes[pick(rng, rAttrKeys)] = pick(rng, rAttrVals)
			}
			if rng.IntN(10) == 0 { // enough keys to bisect
				for k := range 20 {
					e.Attributes[fmt.Sprintf("k%02d", k)] = pick(rng, rAttrVals)
				}
			}
		}
		if rng.IntN(6) > 0 {
			e.Metrics = map[string]float64{}
			for range rng.IntN(4) {
				e.Metrics[pick(rng, rMetKeys)] = pick(rng, rMetVals)
			}
		}
		switch rng.IntN(10) {
		case 0:
			e.ContentType, e.Data = "application/octet-stream", []byte{0, 1, 2}
		case 1:
			e.ContentType, e.Data = "text/plain", []byte("pro straße")
		default:
			e.ContentType, e.Data = event.ContentTypeJSON, randJSON(rng)
		}
	}
	return evs
}

// filterGen makes random valid filters, with operands often taken from the
// events so that comparisons hit.
type filterGen struct {
	rng  *rand.Rand
	refs []refEvent
}

var (
	stringFields = []string{"stream", "id", "type", "source", "subject", "content_type"}
	allCmps      = []Cmp{Eq, Ne, Lt, Le, Gt, Ge}
)

// field picks a field name for op.
func (g *filterGen) field(op Op) string {
	rng := g.rng
	attr := func() string {
		if rng.IntN(8) == 0 {
			return fmt.Sprintf("attributes.k%02d", rng.IntN(22))
		}
		return "attributes." + pick(rng, rAttrKeys)
	}
	switch op {
	case OpExists:
		return pick(rng, []string{attr(), "metrics." + pick(rng, rMetKeys), pick(rng, rPaths), "time", "data"})
	case OpContains:
		return pick(rng, []string{pick(rng, stringFields), attr(), attr(), "data", pick(rng, rPaths)})
	}
	return pick(rng, []string{
		pick(rng, stringFields), attr(), attr(), "seq", "time", "ingest_time",
		"metrics." + pick(rng, rMetKeys), "metrics." + pick(rng, rMetKeys), pick(rng, rPaths), pick(rng, rPaths),
	})
}

// operand makes a value fit for field f: from a random event or made up.
func (g *filterGen) operand(f Field) Value {
	rng := g.rng
	x := refField(f, pick(rng, g.refs))
	switch f.Kind {
	case FieldSeq:
		u := float64(rng.IntN(50))
		if x.kind == 'u' {
			u = float64(x.u)
		}
		switch rng.IntN(6) {
		case 0:
			return Float(u + 0.5)
		case 1:
			return Float(-rng.Float64() * 3)
		case 2:
			return Float(pick(rng, []float64{1e20, math.Inf(1), math.Inf(-1), 1 << 62, 1<<62 + 1024}))
		case 3:
			return Int(int64(rng.IntN(5)) - 2)
		case 4:
			return Float(u)
		}
		if x.kind == 'u' {
			return Int(int64(x.u) + int64(rng.IntN(3)) - 1)
		}
		return Int(int64(u))
	case FieldTime, FieldIngestTime:
		tm := t0
		if x.kind == 't' {
			tm = x.t
		}
		switch rng.IntN(6) {
		case 0:
			return TimeValue(time.Time{})
		case 1:
			return TimeValue(time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC))
		case 2:
			return TimeValue(tm.In(time.FixedZone("east", 5*3600)))
		}
		return TimeValue(tm.Add(time.Duration(rng.IntN(3) - 1)))
	case FieldMetric:
		v := pick(rng, rMetVals)
		if x.kind == 'n' {
			v = x.f
		}
		switch rng.IntN(5) {
		case 0:
			return Int(int64(rng.IntN(200)) - 50)
		case 1:
			return Float(pick(rng, []float64{math.Inf(1), math.Inf(-1), math.Nextafter(v, 0)}))
		}
		return Float(v)
	case FieldDataPath:
		switch {
		case x.kind == 's' && rng.IntN(3) > 0:
			return String(x.s)
		case x.kind == 'n' && rng.IntN(3) > 0:
			if x.f == math.Trunc(x.f) && math.Abs(x.f) < 1e15 && rng.IntN(2) == 0 {
				return Int(int64(x.f))
			}
			return Float(x.f)
		case x.kind == 'b' && rng.IntN(3) > 0:
			return Bool(x.b)
		}
		switch rng.IntN(4) {
		case 0:
			return String(pick(rng, rStrs))
		case 1:
			return Float(pick(rng, rMetVals))
		case 2:
			return Int(int64(rng.IntN(20) - 5))
		}
		return Bool(rng.IntN(2) == 0)
	}
	// Strings.
	if x.kind == 's' && rng.IntN(3) > 0 {
		return String(x.s)
	}
	return String(pick(rng, slices.Concat(rAttrVals, rTypes, rStrs)))
}

// needle makes a Contains needle for field f.
func (g *filterGen) needle(f Field) string {
	rng := g.rng
	x := refField(f, pick(rng, g.refs))
	s := pick(rng, slices.Concat(rAttrVals, rTypes, rStrs))
	if x.kind == 's' && x.s != "" && rng.IntN(4) > 0 {
		s = x.s
	}
	rs := []rune(s)
	if len(rs) == 0 {
		return "e"
	}
	i := rng.IntN(len(rs))
	j := i + 1 + rng.IntN(min(len(rs)-i, 6))
	s = string(rs[i:j])
	switch rng.IntN(4) {
	case 0:
		s = strings.ToUpper(s)
	case 1:
		s = strings.ToLower(s)
	}
	return s
}

func (g *filterGen) filter(depth int) *Filter {
	rng := g.rng
	if depth < 3 && rng.IntN(3) == 0 {
		switch rng.IntN(3) {
		case 0:
			return notF(g.filter(depth + 1))
		case 1:
			args := make([]*Filter, 1+rng.IntN(4))
			for i := range args {
				args[i] = g.filter(depth + 1)
			}
			return andF(args...)
		default:
			args := make([]*Filter, 1+rng.IntN(4))
			for i := range args {
				args[i] = g.filter(depth + 1)
			}
			return orF(args...)
		}
	}
	switch n := rng.IntN(10); {
	case n < 5:
		f := mustField(g.field(OpCompare))
		c := pick(rng, allCmps)
		v := g.operand(f)
		if v.Type == TypeBool {
			c = pick(rng, []Cmp{Eq, Ne})
		}
		return &Filter{Op: OpCompare, Field: f, Cmp: c, Value: v}
	case n < 7:
		f := mustField(g.field(OpIn))
		vs := make([]Value, 1+rng.IntN(12))
		for i := range vs {
			vs[i] = g.operand(f)
		}
		return &Filter{Op: OpIn, Field: f, Values: vs}
	case n < 8:
		return existsF(g.field(OpExists))
	default:
		f := mustField(g.field(OpContains))
		return &Filter{Op: OpContains, Field: f, Value: String(g.needle(f)), IgnoreCase: rng.IntN(2) == 0}
	}
}

func TestPredicate_Random(t *testing.T) {
	t.Parallel()
	const rounds, events, filters = 6, 300, 400
	for seed := range uint64(rounds) {
		rng := rand.New(rand.NewPCG(seed, 0x5117))
		evs := randEvents(rng, events)
		refs := newRefEvents(evs)
		batches := []*Batch{newBatch(t, evs), newSlicedBatch(t, evs)}
		g := &filterGen{rng: rng, refs: refs}
		for range filters {
			f := g.filter(0)
			enter := allTrue(events)
			if rng.IntN(2) == 0 {
				for i := range enter {
					enter[i] = rng.IntN(5) > 0
				}
			}
			checkFilter(t, f, pick(rng, batches), refs, enter)
		}
	}
}
