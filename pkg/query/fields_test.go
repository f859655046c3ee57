package query

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/tidwall/gjson"

	"github.com/silt-io/silt/pkg/event"
)

// bindField compiles f and binds it to b, for a test that reads one field
// of one batch. A query compiles its fields once and binds them per batch.
func bindField(f Field, b *Batch) (column, error) {
	s, err := compileField(f)
	if err != nil {
		return column{}, err
	}
	return s.bind(b), nil
}

func TestParseField_RoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		want Field
	}{
		{"stream", Field{Kind: FieldStream}},
		{"seq", Field{Kind: FieldSeq}},
		{"id", Field{Kind: FieldID}},
		{"type", Field{Kind: FieldType}},
		{"source", Field{Kind: FieldSource}},
		{"subject", Field{Kind: FieldSubject}},
		{"time", Field{Kind: FieldTime}},
		{"ingest_time", Field{Kind: FieldIngestTime}},
		{"content_type", Field{Kind: FieldContentType}},
		{"data", Field{Kind: FieldData}},
		{"attributes.org", Field{Kind: FieldAttribute, Key: "org"}},
		{"attributes.a.b", Field{Kind: FieldAttribute, Key: "a.b"}},
		{"attributes.attributes.x", Field{Kind: FieldAttribute, Key: "attributes.x"}},
		{"metrics.duration", Field{Kind: FieldMetric, Key: "duration"}},
		{"metrics.http.ms", Field{Kind: FieldMetric, Key: "http.ms"}},
		{"$.user.plan", Field{Kind: FieldDataPath, Key: "$.user.plan"}},
		{"$.a[2]", Field{Kind: FieldDataPath, Key: "$.a[2]"}},
		{`$["a.b"]`, Field{Kind: FieldDataPath, Key: `$["a.b"]`}},
		{`$["a]b"].c`, Field{Kind: FieldDataPath, Key: `$["a]b"].c`}},
	} {
		got, err := ParseField(tc.name)
		if err != nil {
			t.Errorf("ParseField(%q): %v", tc.name, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseField(%q) = %+v, want %+v", tc.name, got, tc.want)
		}
		if s := got.String(); s != tc.name {
			t.Errorf("ParseField(%q).String() = %q", tc.name, s)
		}
	}
}

func TestParseField_Errors(t *testing.T) {
	t.Parallel()
	for _, name := range []string{
		"", "foo", "Type", "attributes.", "metrics.", "attributes", "data.x",
		"$", "$.", "$..a", "$.a.", "$.*", "$a", "$.a[", "$.a[x]", "$.a[-1]",
		"$.a[1.5]", `$["a]`, `$["a"`, `$["a"]x`, `$['a`, `$["\q"]`, "$[]",
		"$" + strings.Repeat("[0]", maxPathSteps+1), "$" + strings.Repeat(".a", maxPathSteps+1),
	} {
		if f, err := ParseField(name); err == nil {
			t.Errorf("ParseField(%q) = %+v, want an error", name, f)
		}
	}
}

func TestParsePath_Steps(t *testing.T) {
	t.Parallel()
	key := func(k string) pathStep { return pathStep{key: k} }
	idx := func(i int) pathStep { return pathStep{index: i, isIdx: true} }
	for _, tc := range []struct {
		path string
		want []pathStep
	}{
		{"$.a", []pathStep{key("a")}},
		{"$.user.plan", []pathStep{key("user"), key("plan")}},
		{"$.a[2]", []pathStep{key("a"), idx(2)}},
		{"$[0][10]", []pathStep{idx(0), idx(10)}},
		{`$["a.b"].c`, []pathStep{key("a.b"), key("c")}},
		{`$['a.b']`, []pathStep{key("a.b")}},
		{`$["a]b"]`, []pathStep{key("a]b")}},
		{`$['a]b']`, []pathStep{key("a]b")}},
		{`$["say \"hi\""]`, []pathStep{key(`say "hi"`)}},
		{`$['it\'s']`, []pathStep{key("it's")}},
		{`$['back\\slash']`, []pathStep{key(`back\slash`)}},
		{`$['a\b']`, []pathStep{key(`a\b`)}},
		{`$['a"b']`, []pathStep{key(`a"b`)}},
		{`$["\u00e9"]`, []pathStep{key("é")}},
		{`$[""]`, []pathStep{key("")}},
		{`$["2"]`, []pathStep{key("2")}},
		{"$.é.ü", []pathStep{key("é"), key("ü")}},
		{"$" + strings.Repeat("[0]", maxPathSteps), slices.Repeat([]pathStep{idx(0)}, maxPathSteps)},
	} {
		got, err := parsePath(tc.path)
		if err != nil {
			t.Errorf("parsePath(%q): %v", tc.path, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parsePath(%q) = %+v, want %+v", tc.path, got, tc.want)
		}
	}
}

func TestJSONPath_GjsonPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		path string
		want string // the segments' gjson paths, joined by " | "
	}{
		{"$.user.plan", "user.plan"},
		{"$.a[2]", "a | 2"},
		{"$.a[2].b.c", "a | 2.b.c"},
		{`$["a.b"]`, `a\.b`},
		{`$["*?#@|\\"]`, `\*\?\#\@\|\\`},
		{`$["!x"]["[y"]["{z"]`, `\!x.\[y.\{z`},
		{`$["2"].x`, "2.x"},
		{`$.a["2"]`, "a | 2"},
		{`$.a[""].b`, "a |  | b"},
		{`$.é`, "é"},
		{`$["sp ace"]`, "sp ace"},
	} {
		p, err := compilePath(tc.path)
		if err != nil {
			t.Fatalf("compilePath(%q): %v", tc.path, err)
		}
		var segs []string
		for _, s := range p.segs {
			segs = append(segs, s.gpath)
		}
		if got := strings.Join(segs, " | "); got != tc.want {
			t.Errorf("compilePath(%q) segments = %q, want %q", tc.path, got, tc.want)
		}
	}
}

// jsonCase is a JSON path looked up in a document: want is the value as
// column.Value gives it.
type jsonCase struct {
	doc, path string
	want      Value
}

var jsonCases = []jsonCase{
	{`{"user":{"plan":"pro","seats":12}}`, "$.user.plan", String("pro")},
	{`{"user":{"plan":"pro","seats":12}}`, "$.user.seats", Float(12)},
	{`{"user":{"plan":"pro"}}`, "$.user.name", Value{}},
	{`{"user":{"plan":"pro"}}`, "$.user.plan.x", Value{}},
	{`{"n":12,"s":"12"}`, "$.n", Float(12)},
	{`{"n":12,"s":"12"}`, "$.s", String("12")},
	{`{"n":-1.5e3}`, "$.n", Float(-1500)},
	{`{"t":true,"f":false,"z":null}`, "$.t", Bool(true)},
	{`{"t":true,"f":false,"z":null}`, "$.f", Bool(false)},
	{`{"t":true,"f":false,"z":null}`, "$.z", Value{}},
	{`{"a.b":1,"a":{"b":2}}`, `$["a.b"]`, Float(1)},
	{`{"a.b":1,"a":{"b":2}}`, "$.a.b", Float(2)},
	{`{"*":1,"?":2,"#":3,"@this":4,"|":5,"\\":6,"!x":7,"[":8,"{":9,"a*":10}`, `$["*"]`, Float(1)},
	{`{"*":1,"?":2,"#":3,"@this":4,"|":5,"\\":6,"!x":7,"[":8,"{":9,"a*":10}`, `$["?"]`, Float(2)},
	{`{"*":1,"?":2,"#":3,"@this":4,"|":5,"\\":6,"!x":7,"[":8,"{":9,"a*":10}`, `$["#"]`, Float(3)},
	{`{"*":1,"?":2,"#":3,"@this":4,"|":5,"\\":6,"!x":7,"[":8,"{":9,"a*":10}`, `$["@this"]`, Float(4)},
	{`{"*":1,"?":2,"#":3,"@this":4,"|":5,"\\":6,"!x":7,"[":8,"{":9,"a*":10}`, `$["|"]`, Float(5)},
	{`{"*":1,"?":2,"#":3,"@this":4,"|":5,"\\":6,"!x":7,"[":8,"{":9,"a*":10}`, `$["\\"]`, Float(6)},
	{`{"*":1,"?":2,"#":3,"@this":4,"|":5,"\\":6,"!x":7,"[":8,"{":9,"a*":10}`, `$["!x"]`, Float(7)},
	{`{"*":1,"?":2,"#":3,"@this":4,"|":5,"\\":6,"!x":7,"[":8,"{":9,"a*":10}`, `$["["]`, Float(8)},
	{`{"*":1,"?":2,"#":3,"@this":4,"|":5,"\\":6,"!x":7,"[":8,"{":9,"a*":10}`, `$["{"]`, Float(9)},
	{`{"*":1,"?":2,"#":3,"@this":4,"|":5,"\\":6,"!x":7,"[":8,"{":9,"a*":10}`, `$["a*"]`, Float(10)},
	{`{"ab":1}`, `$["a*"]`, Value{}}, // no wildcards
	{`{"ab":1}`, `$["a?"]`, Value{}},
	{`{"a":[1,2,3]}`, `$["a"]["#"]`, Value{}}, // no array length
	{`{"a":[1,2,3]}`, `$.a["@reverse"]`, Value{}},
	{`{"a":{"b|c":3,"b":{"c":4}}}`, `$.a["b|c"]`, Float(3)},
	{`{"a":[10,[20,21],{"x":"y"}]}`, "$.a[0]", Float(10)},
	{`{"a":[10,[20,21],{"x":"y"}]}`, "$.a[1][1]", Float(21)},
	{`{"a":[10,[20,21],{"x":"y"}]}`, "$.a[2].x", String("y")},
	{`{"a":[10,[20,21],{"x":"y"}]}`, "$.a[3]", Value{}},
	{`{"a":[10,[20,21],{"x":"y"}]}`, "$.a.x", Value{}},
	{`{"a":[10,[20,21],{"x":"y"}]}`, "$.a[1][2]", Value{}},
	{`{"a":{"0":"zero","10":"ten"}}`, "$.a[0]", Value{}}, // an index needs an array
	{`{"a":{"0":"zero","10":"ten"}}`, `$.a["0"]`, String("zero")},
	{`{"a":{"0":"zero","10":"ten"}}`, `$.a["10"]`, String("ten")},
	{`{"a":[1,2]}`, `$.a["0"]`, Value{}}, // a name needs an object
	{`{"a":[1,2]}`, `$.a["01"]`, Value{}},
	{`[1,[2,{"k":3}]]`, "$[1][1].k", Float(3)},
	{`[1,2]`, "$.a", Value{}},
	{`{"a":1}`, "$[0]", Value{}},
	{`"x{\"b\":1}"`, "$.b", Value{}}, // a string is no object
	{`12`, "$.b", Value{}},
	{` { "a" : [ 1 , { "b" : "c" } ] } `, "$.a[1].b", String("c")},
	{`{"":{"":5},"x":1}`, `$[""][""]`, Float(5)},
	{`{"x":{"":5}}`, `$.x[""]`, Float(5)},
	{`{"a":1}`, `$[""]`, Value{}},
	{`{"o":{"k":[1, 2]},"l":[{"a":1}]}`, "$.o", String(`{"k":[1, 2]}`)},
	{`{"o":{"k":[1, 2]},"l":[{"a":1}]}`, "$.l", String(`[{"a":1}]`)},
	{`{"s":"a\"b\u00e9\n"}`, "$.s", String("a\"bé\n")},
	{`{"a\u002eb":1}`, `$["a.b"]`, Float(1)},
	{`{"é":{"ü":"x"}}`, "$.é.ü", String("x")},
	{`{"big":1e400}`, "$.big", Float(math.Inf(1))},
	{`{"i":9007199254740993}`, "$.i", Float(9007199254740992)}, // float64, as documented
	{`{"a":"first","a":"second"}`, "$.a", String("first")},
}

func TestJSONPath_Lookup(t *testing.T) {
	t.Parallel()
	for _, tc := range jsonCases {
		p, err := compilePath(tc.path)
		if err != nil {
			t.Fatalf("compilePath(%q): %v", tc.path, err)
		}
		r := p.lookup(tc.doc)
		got := jsonValue(r)
		if !equalValue(got, tc.want) {
			t.Errorf("lookup(%s, %s) = %+v, want %+v", tc.doc, tc.path, got, tc.want)
		}
	}
}

// jsonValue is what column.Value makes of a lookup.
func jsonValue(r gjson.Result) Value {
	switch r.Type {
	case gjson.String:
		return String(r.Str)
	case gjson.Number:
		return Float(r.Num)
	case gjson.True, gjson.False:
		return Bool(r.Type == gjson.True)
	case gjson.JSON:
		return String(r.Raw)
	}
	return Value{}
}

func equalValue(a, b Value) bool {
	if a.Type == TypeTime && b.Type == TypeTime {
		return a.Time.Equal(b.Time) && a.Time.Location() == b.Time.Location()
	}
	return a == b
}

// TestColumn_JSONPath reads the JSON cases through a Batch, as one column
// per path, with JSON and binary payloads between them.
func TestColumn_JSONPath(t *testing.T) {
	t.Parallel()
	var evs []event.Event
	for i, tc := range jsonCases {
		evs = append(evs,
			event.Event{ID: fmt.Sprint(i), ContentType: event.ContentTypeJSON, Data: []byte(tc.doc)},
			event.Event{ID: "bin", ContentType: "application/octet-stream", Data: []byte(tc.doc)})
	}
	for name, b := range map[string]*Batch{"plain": newBatch(t, evs), "sliced": newSlicedBatch(t, evs)} {
		for i, tc := range jsonCases {
			f, err := ParseField(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			c, err := bindField(f, b)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Value(2 * i); !equalValue(got, tc.want) {
				t.Errorf("%s: %s in %s: Value = %+v, want %+v", name, tc.path, tc.doc, got, tc.want)
			}
			if got := c.Has(2 * i); got != (tc.want.Type != TypeNull) {
				t.Errorf("%s: %s in %s: Has = %v", name, tc.path, tc.doc, got)
			}
			if s, ok := c.Str(2 * i); ok != (tc.want.Type == TypeString && tc.want.Str[0] != '{' && tc.want.Str[0] != '[') || s != strIf(ok, tc.want.Str) {
				t.Errorf("%s: %s in %s: Str = %q, %v", name, tc.path, tc.doc, s, ok)
			}
			if x, ok := c.Float(2 * i); ok != (tc.want.Type == TypeFloat) || x != tc.want.F && !(math.IsInf(x, 0) && x == tc.want.F) {
				t.Errorf("%s: %s in %s: Float = %v, %v", name, tc.path, tc.doc, x, ok)
			}
			if v := c.Value(2*i + 1); v.Type != TypeNull || c.Has(2*i+1) {
				t.Errorf("%s: %s in a binary payload = %+v, want null", name, tc.path, v)
			}
		}
	}
}

func strIf(ok bool, s string) string {
	if ok {
		return s
	}
	return ""
}

var (
	t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	// accessorEvents cover every field: a time and none, attributes and
	// metrics present and missing, JSON and binary payloads.
	accessorEvents = []event.Event{
		{
			Stream: "orders", Seq: 7, ID: "e1", Type: "order.created", Source: "web", Subject: "o-1",
			Time: t0, IngestTime: t0.Add(time.Second),
			Attributes:  map[string]string{"org": "acme", "plan": "pro", "region": "eu"},
			Metrics:     map[string]float64{"duration": 120.5, "items": 3},
			ContentType: event.ContentTypeJSON, Data: []byte(`{"user":{"plan":"pro"},"n":3}`),
		},
		{
			Stream: "orders", Seq: 8, ID: "e2", Type: "order.paid", Source: "api", Subject: "", Present: event.PartSubject,
			IngestTime:  t0.Add(2 * time.Second),
			Attributes:  map[string]string{"org": "beta"},
			ContentType: "application/octet-stream", Data: []byte{0xff, 0x00},
		},
		{
			Stream: "users", Seq: 1 << 60, ID: "e3", Type: "user.signup", Source: "", Subject: "u-1",
			Time: t0.Add(-time.Hour), IngestTime: t0.Add(3 * time.Second),
			Metrics:     map[string]float64{"duration": -0.25},
			ContentType: event.ContentTypeJSON, Data: []byte(`{"user":{"plan":5}}`),
		},
	}
)

func TestColumn_Accessors(t *testing.T) {
	t.Parallel()
	null := Value{}
	want := map[string][]Value{
		"stream":            {String("orders"), String("orders"), String("users")},
		"seq":               {Int(7), Int(8), Int(1 << 60)},
		"id":                {String("e1"), String("e2"), String("e3")},
		"type":              {String("order.created"), String("order.paid"), String("user.signup")},
		"source":            {String("web"), String("api"), null}, // e3 has none
		"subject":           {String("o-1"), String(""), String("u-1")},
		"time":              {TimeValue(t0), TimeValue(t0.Add(2 * time.Second)), TimeValue(t0.Add(-time.Hour))}, // e2 has none: its ingest time
		"ingest_time":       {TimeValue(t0.Add(time.Second)), TimeValue(t0.Add(2 * time.Second)), TimeValue(t0.Add(3 * time.Second))},
		"content_type":      {String(event.ContentTypeJSON), String("application/octet-stream"), String(event.ContentTypeJSON)},
		"data":              {String(`{"user":{"plan":"pro"},"n":3}`), null, String(`{"user":{"plan":5}}`)},
		"attributes.org":    {String("acme"), String("beta"), null},
		"attributes.plan":   {String("pro"), null, null},
		"attributes.zzz":    {null, null, null},
		"metrics.duration":  {Float(120.5), null, Float(-0.25)},
		"metrics.items":     {Float(3), null, null},
		"metrics.org":       {null, null, null},
		"$.user.plan":       {String("pro"), null, Float(5)},
		"$.user":            {String(`{"plan":"pro"}`), null, String(`{"plan":5}`)},
		"$.n":               {Float(3), null, null},
		"$.user.plan.extra": {null, null, null},
	}
	for name, b := range map[string]*Batch{"plain": newBatch(t, accessorEvents), "sliced": newSlicedBatch(t, accessorEvents)} {
		for fname, vals := range want {
			f, err := ParseField(fname)
			if err != nil {
				t.Fatal(err)
			}
			c, err := bindField(f, b)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range vals {
				got := c.Value(i)
				if !equalValue(got, w) {
					t.Errorf("%s: %s row %d: Value = %+v, want %+v", name, fname, i, got, w)
				}
				if has := c.Has(i); has != (w.Type != TypeNull) {
					t.Errorf("%s: %s row %d: Has = %v", name, fname, i, has)
				}
				s, ok := c.Str(i)
				if wantOK := w.Type == TypeString && f.Kind != FieldDataPath || f.Kind == FieldDataPath && w.Type == TypeString && w.Str[0] != '{'; ok != wantOK || ok && s != w.Str {
					t.Errorf("%s: %s row %d: Str = %q, %v", name, fname, i, s, ok)
				}
				x, ok := c.Float(i)
				switch {
				case w.Type == TypeFloat:
					if !ok || x != w.F {
						t.Errorf("%s: %s row %d: Float = %v, %v", name, fname, i, x, ok)
					}
				case w.Type == TypeInt:
					if !ok || x != float64(w.Int) {
						t.Errorf("%s: %s row %d: Float = %v, %v", name, fname, i, x, ok)
					}
				case ok:
					t.Errorf("%s: %s row %d: Float = %v, want none", name, fname, i, x)
				}
				ns, ok := c.Nanos(i)
				tm, tok := c.Time(i)
				if w.Type == TypeTime {
					if !ok || ns != w.Time.UnixNano() || !tok || !tm.Equal(w.Time) || tm.Location() != time.UTC {
						t.Errorf("%s: %s row %d: Nanos = %d, %v; Time = %v, %v", name, fname, i, ns, ok, tm, tok)
					}
				} else if ok || tok {
					t.Errorf("%s: %s row %d: Nanos = %d, Time = %v, want none", name, fname, i, ns, tm)
				}
			}
		}
	}
}

func TestMapEntries_ManyKeys(t *testing.T) {
	t.Parallel()
	// Rows with 0 to 64 keys (more than linearKeys bisect), each with the
	// keys k00, k02, k04 … so that odd keys fall between them.
	var evs []event.Event
	for _, n := range []int{0, 1, 2, 5, 8, 9, 17, 64, 3, 64, 0, 12} {
		attrs := map[string]string{}
		metrics := map[string]float64{}
		for j := range n {
			k := fmt.Sprintf("k%02d", 2*j)
			attrs[k] = fmt.Sprintf("v%d-%d", n, j)
			metrics[k] = float64(n*1000 + j)
		}
		evs = append(evs, event.Event{ID: fmt.Sprint(n), Attributes: attrs, Metrics: metrics})
	}
	for name, b := range map[string]*Batch{"plain": newBatch(t, evs), "sliced": newSlicedBatch(t, evs)} {
		for k := range 130 {
			key := fmt.Sprintf("k%02d", k)
			if k == 129 {
				key = "a" // before every key
			}
			ca, _ := bindField(Field{Kind: FieldAttribute, Key: key}, b)
			cm, _ := bindField(Field{Kind: FieldMetric, Key: key}, b)
			// Twice over the rows, so that the hint is both right and wrong.
			for range 2 {
				for i, e := range evs {
					wantS, wantOK := e.Attributes[key]
					if s, ok := ca.Str(i); s != wantS || ok != wantOK {
						t.Errorf("%s: row %d attributes.%s = %q, %v; want %q, %v", name, i, key, s, ok, wantS, wantOK)
					}
					wantF, wantOK := e.Metrics[key]
					if x, ok := cm.Float(i); x != wantF || ok != wantOK {
						t.Errorf("%s: row %d metrics.%s = %v, %v; want %v, %v", name, i, key, x, ok, wantF, wantOK)
					}
				}
			}
		}
	}
}

func TestColumn_NoAllocs(t *testing.T) {
	b := newBatch(t, accessorEvents)
	bind := func(name string) column {
		f, err := ParseField(name)
		if err != nil {
			t.Fatal(err)
		}
		c, err := bindField(f, b)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	attr, metric, typ, path, tm := bind("attributes.plan"), bind("metrics.duration"), bind("type"), bind("$.user.plan"), bind("time")
	var sink int
	allocs := testing.AllocsPerRun(100, func() {
		for i := range b.Len {
			s, _ := attr.Str(i)
			x, _ := metric.Float(i)
			u, _ := typ.Str(i)
			v, _ := path.Str(i)
			ns, _ := tm.Nanos(i)
			sink += len(s) + int(x) + len(u) + len(v) + int(ns) + len(typ.Value(i).Str)
		}
	})
	if allocs != 0 {
		t.Errorf("accessors allocate %v times per batch, want 0", allocs)
	}
	_ = sink
}

func TestColumnOf(t *testing.T) {
	t.Parallel()
	fs := []Field{{Kind: FieldType}, {Kind: FieldAttribute, Key: "a"}, {Kind: FieldAttribute, Key: "b"}, {Kind: FieldDataPath, Key: "$.x"}, {Kind: FieldData}, {Kind: FieldSeq}}
	var got columnSet
	for _, f := range fs {
		got |= columnOf(f.Kind)
	}
	if want := colType | colAttributes | colData | colSeq; got != want {
		t.Errorf("columns of %v = %s, want %s", fs, got, want)
	}
	if s := got.String(); s != "seq,type,attributes,data" {
		t.Errorf("String() = %q", s)
	}
	if s := columnSet(0).String(); s != "" {
		t.Errorf("empty String() = %q", s)
	}
}

func TestBindField_Errors(t *testing.T) {
	t.Parallel()
	b := newBatch(t, accessorEvents)
	for _, f := range []Field{
		{},
		{Kind: FieldDataPath + 1},
		{Kind: FieldType, Key: "x"},
		{Kind: FieldAttribute},
		{Kind: FieldMetric},
		{Kind: FieldDataPath, Key: "$."},
		{Kind: FieldDataPath, Key: "user"},
	} {
		if _, err := bindField(f, b); err == nil {
			t.Errorf("bindField(%+v) succeeded, want an error", f)
		}
	}
}

func TestFieldSpec_Bind_MissingColumn(t *testing.T) {
	t.Parallel()
	b := newBatch(t, accessorEvents)
	b.Metrics = nil
	spec, err := compileField(Field{Kind: FieldMetric, Key: "duration"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "no metrics column") {
			t.Errorf("bind without the metrics column: panic %v", r)
		}
	}()
	spec.bind(b)
}

func TestRawStrings_EqWord(t *testing.T) {
	t.Parallel()
	// Strings of 0 to 17 bytes, equal in their first bytes, the shortest
	// last so that their 8-byte loads would run past the buffer's end.
	var vals []string
	for n := 17; n >= 0; n-- {
		vals = append(vals, strings.Repeat("a", n), strings.Repeat("a", max(n-1, 0))+"b")
	}
	var evs []event.Event
	for _, v := range vals {
		evs = append(evs, event.Event{Type: v, Attributes: map[string]string{v + "k": v}})
	}
	for name, b := range map[string]*Batch{"plain": newBatch(t, evs), "sliced": newSlicedBatch(t, evs)} {
		raw := rawOf(b.Type)
		for _, s := range vals {
			w := newWord(s)
			for i, v := range vals {
				if got := raw.eqWord(i, &w); got != (v == s) {
					t.Errorf("%s: row %q eqWord %q = %v", name, v, s, got)
				}
			}
		}
	}
	// A column of empty strings may have no data buffer at all.
	empty := newBatch(t, []event.Event{{}, {}})
	raw := rawOf(empty.Type)
	w, x := newWord(""), newWord("x")
	if !raw.eqWord(0, &w) || !raw.eqWord(1, &w) || raw.eqWord(0, &x) {
		t.Error("empty strings do not compare")
	}
}

// TestMapEntries_NullRows reads a map column with null rows, which the
// segment schema does not write but Arrow allows: a null row has no keys,
// whatever its offsets say.
func TestMapEntries_NullRows(t *testing.T) {
	t.Parallel()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	mb := array.NewMapBuilder(mem, arrow.BinaryTypes.String, arrow.BinaryTypes.String, true)
	defer mb.Release()
	keys, items := mb.KeyBuilder().(*array.StringBuilder), mb.ItemBuilder().(*array.StringBuilder)
	mb.Append(true)
	keys.Append("org")
	items.Append("acme")
	mb.AppendNull()
	mb.Append(true)
	keys.Append("org")
	items.Append("beta")
	m := mb.NewMapArray()
	defer m.Release()
	c, err := bindField(Field{Kind: FieldAttribute, Key: "org"}, &Batch{Len: 3, Attributes: m})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []Value{String("acme"), {}, String("beta")} {
		if got := c.Value(i); got != want || c.Has(i) != (want.Type != TypeNull) {
			t.Errorf("row %d = %+v, want %+v", i, got, want)
		}
	}
}
