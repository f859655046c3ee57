package query

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/tidwall/gjson"
)

// This file reads one Field's values out of a Batch. A Field is checked
// and prepared once per query (compileField: its column, its JSON path
// turned into gjson paths); binding it to a Batch (fieldSpec.bind) only
// picks up that batch's arrays, so it is done per batch; the accessors then
// read row by row without allocating (an escaped string in JSON data, or
// a JSON path key that gjson must unescape, costs one allocation).
//
// Map columns (attributes, metrics) have their keys sorted within each row,
// as the segment writer and the hot tier both write them; a key lookup
// relies on it when a row has many keys.

// fieldSpec is a Field checked once per query: the Batch column it reads
// and, for a JSON path, the compiled path.
type fieldSpec struct {
	field Field
	col   columnSet
	path  *jsonPath // FieldDataPath
}

// compileField checks f and prepares it for reading.
func compileField(f Field) (*fieldSpec, error) {
	s := &fieldSpec{field: f, col: columnOf(f.Kind)}
	switch f.Kind {
	case FieldStream, FieldSeq, FieldID, FieldType, FieldSource, FieldSubject,
		FieldTime, FieldIngestTime, FieldContentType, FieldData:
		if f.Key != "" {
			return nil, fmt.Errorf("field %s takes no key (got %q)", f, f.Key)
		}
	case FieldAttribute, FieldMetric:
		if f.Key == "" {
			return nil, fmt.Errorf("field %s needs a key", f)
		}
	case FieldDataPath:
		p, err := compilePath(f.Key)
		if err != nil {
			return nil, err
		}
		s.path = p
	default:
		return nil, fmt.Errorf("unknown field kind %d", f.Kind)
	}
	return s, nil
}

// columnNames are the names of the columns of a columnSet, in bit order.
var columnNames = [...]string{
	"stream", "seq", "id", "type", "source", "subject", "time",
	"ingest_time", "attributes", "metrics", "content_type", "data",
}

// names are the names of cs's columns, in schema order.
func (cs columnSet) names() []string {
	var out []string
	for i, name := range columnNames {
		if cs&(1<<i) != 0 {
			out = append(out, name)
		}
	}
	return out
}

// columnNamed is the column called name, or 0.
func columnNamed(name string) columnSet {
	for i, n := range columnNames {
		if n == name {
			return 1 << i
		}
	}
	return 0
}

// String lists the columns, comma-separated, in schema order.
func (cs columnSet) String() string { return strings.Join(cs.names(), ",") }

// missing is the subset of cs whose arrays b lacks.
func (cs columnSet) missing(b *Batch) columnSet {
	var m columnSet
	for _, c := range [...]struct {
		col columnSet
		nil bool
	}{
		{colStream, b.Stream == nil}, {colSeq, b.Seq == nil}, {colID, b.ID == nil},
		{colType, b.Type == nil}, {colSource, b.Source == nil}, {colSubject, b.Subject == nil},
		{colTime, b.Time == nil}, {colIngestTime, b.IngestTime == nil},
		{colAttributes, b.Attributes == nil}, {colMetrics, b.Metrics == nil},
		{colContentType, b.ContentType == nil}, {colData, b.Data == nil},
	} {
		if cs&c.col != 0 && c.nil {
			m |= c.col
		}
	}
	return m
}

// column is one Field bound to one Batch. It is a small value made per
// batch; its methods read row i (0 <= i < Batch.Len). A column is used by
// one goroutine: a map key lookup remembers where it found the key last.
type column struct {
	kind FieldKind
	// str holds the envelope strings, the data text, and the JSON
	// documents of a path; strNulls says whether it has null rows.
	str      *array.String
	strNulls bool
	seq      []uint64
	ts       *array.Timestamp
	tsv      []arrow.Timestamp
	tsNulls  bool
	entries  mapEntries    // attribute, metric
	vals     *array.String // attribute values
	rawVals  rawStrings    // attribute values, for comparisons
	nums     []float64     // metric values
	path     *jsonPath
}

// rawStrings is the layout of a string array: row i is
// data[offs[i]:offs[i+1]]. Comparing a row with a string through it skips
// the array's per-call offset arithmetic, and a length check skips most
// byte comparisons; string(data[a:b]) == s does not allocate.
type rawStrings struct {
	offs []int32
	data []byte
}

// rawOf is a's layout.
func rawOf(a *array.String) rawStrings {
	r := rawStrings{offs: a.ValueOffsets()}
	if buf := a.Data().Buffers()[2]; buf != nil {
		r.data = buf.Bytes()
	}
	return r
}

// word is a string prepared for eqWord: one of at most 8 bytes is
// compared as a single 64-bit load.
type word struct {
	s       string
	w, mask uint64 // s's bytes, little-endian, and the bits they fill
	short   bool   // len(s) <= 8
}

func newWord(s string) word {
	w := word{s: s, short: len(s) <= 8}
	if w.short {
		var buf [8]byte
		copy(buf[:], s)
		w.w = binary.LittleEndian.Uint64(buf[:])
		w.mask = 1<<(8*uint(len(s))) - 1 // 0 << … - 1 is all ones for 8 bytes
	}
	return w
}

// eqWord reports whether row i is w.s.
func (r *rawStrings) eqWord(i int, w *word) bool {
	a, b := int(r.offs[i]), int(r.offs[i+1])
	if b-a != len(w.s) {
		return false
	}
	if w.short && a+8 <= len(r.data) {
		return binary.LittleEndian.Uint64(r.data[a:])&w.mask == w.w
	}
	return string(r.data[a:b]) == w.s
}

// eqAny reports whether row i is one of ss.
func (r *rawStrings) eqAny(i int, ss []string) bool {
	a, b := r.offs[i], r.offs[i+1]
	for _, s := range ss {
		if int(b-a) == len(s) && string(r.data[a:b]) == s {
			return true
		}
	}
	return false
}

// bind picks up b's arrays for the field. It panics if b lacks the column:
// the caller loads the columns its fields need (columnOf).
func (s *fieldSpec) bind(b *Batch) column {
	if m := s.col.missing(b); m != 0 {
		panic(fmt.Sprintf("query: batch has no %s column for field %s", m, s.field))
	}
	c := column{kind: s.field.Kind, path: s.path}
	switch s.field.Kind {
	case FieldStream:
		c.str = b.Stream
	case FieldID:
		c.str = b.ID
	case FieldType:
		c.str = b.Type
	case FieldSource:
		c.str = b.Source
	case FieldSubject:
		c.str = b.Subject
	case FieldContentType:
		c.str = b.ContentType
	case FieldData, FieldDataPath:
		c.str = b.Data
	case FieldSeq:
		c.seq = b.Seq.Uint64Values()
	case FieldTime:
		c.ts = b.Time
	case FieldIngestTime:
		c.ts = b.IngestTime
	case FieldAttribute:
		c.entries = bindMap(b.Attributes, s.field.Key)
		c.vals = b.Attributes.Items().(*array.String)
		c.rawVals = rawOf(c.vals)
	case FieldMetric:
		c.entries = bindMap(b.Metrics, s.field.Key)
		c.nums = b.Metrics.Items().(*array.Float64).Float64Values()
	}
	if c.str != nil {
		c.strNulls = c.str.NullN() > 0
	}
	if c.ts != nil {
		c.tsv = c.ts.TimestampValues()
		c.tsNulls = c.ts.NullN() > 0
	}
	return c
}

// mapEntries finds one key in the rows of a map column.
type mapEntries struct {
	// offs[i] and offs[i+1] bound row i's entries, counted from base.
	offs []int32
	base int
	keys rawStrings
	m    *array.Map // set when the map column has null rows
	key  word
	// hint is the position within its row where key was found last: rows
	// tend to have the same keys, so it is usually where the next row has it.
	hint int
}

// bindMap prepares the lookup of key in the rows of m.
func bindMap(m *array.Map, key string) mapEntries {
	e := mapEntries{
		// The keys array is made from the entries struct's child, without
		// the struct's own offset.
		base: m.Data().Children()[0].Offset(),
		keys: rawOf(m.Keys().(*array.String)),
		key:  newWord(key),
	}
	if m.Len() > 0 {
		e.offs = m.Offsets()[m.Offset() : m.Offset()+m.Len()+1]
	}
	if m.NullN() > 0 {
		e.m = m
	}
	return e
}

// linearKeys is the most keys a row may have for a linear scan; past it a
// lookup bisects the sorted keys.
const linearKeys = 8

// find returns the index in the keys and items arrays of row i's entry
// for the key, or -1.
func (e *mapEntries) find(i int) int {
	// Most rows have the key where the last row had it.
	if j := e.base + int(e.offs[i]) + e.hint; j < e.base+int(e.offs[i+1]) && e.m == nil && e.keys.eqWord(j, &e.key) {
		return j
	}
	return e.findSlow(i)
}

// findSlow is find past the hint.
func (e *mapEntries) findSlow(i int) int {
	lo, hi := e.base+int(e.offs[i]), e.base+int(e.offs[i+1])
	n := hi - lo
	if n == 0 || (e.m != nil && e.m.IsNull(i)) {
		return -1
	}
	if n <= linearKeys {
		for j := lo; j < hi; j++ {
			if e.keys.eqWord(j, &e.key) {
				e.hint = j - lo
				return j
			}
		}
		return -1
	}
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if string(e.keys.data[e.keys.offs[mid]:e.keys.offs[mid+1]]) < e.key.s {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < e.base+int(e.offs[i+1]) && e.keys.eqWord(lo, &e.key) {
		e.hint = lo - e.base - int(e.offs[i])
		return lo
	}
	return -1
}

// Has reports whether row i has the field: an attribute or metric with the
// key, a time, JSON data (data is null for binary payloads), a JSON path
// that resolves to a value other than null. Every other field is always
// present.
func (c *column) Has(i int) bool {
	switch c.kind {
	case FieldAttribute, FieldMetric:
		return c.entries.find(i) >= 0
	case FieldTime, FieldIngestTime:
		return !c.tsNulls || c.ts.IsValid(i)
	case FieldData, FieldSource, FieldSubject:
		return !c.strNulls || c.str.IsValid(i)
	case FieldDataPath:
		return c.JSON(i).Exists()
	}
	return true
}

// Str returns row i's value as a string: an envelope string, an attribute
// value, the data text, or a JSON path's string value (unescaped). ok is
// false when the row lacks the field or, for a JSON path, when the value is
// not a string; it is false for the fields that are not strings.
func (c *column) Str(i int) (s string, ok bool) {
	switch c.kind {
	case FieldAttribute:
		if j := c.entries.find(i); j >= 0 {
			return c.vals.Value(j), true
		}
		return "", false
	case FieldDataPath:
		if r := c.JSON(i); r.Type == gjson.String {
			return r.Str, true
		}
		return "", false
	case FieldSeq, FieldTime, FieldIngestTime, FieldMetric:
		return "", false
	}
	if c.strNulls && c.str.IsNull(i) {
		return "", false
	}
	return c.str.Value(i), true
}

// Float returns row i's value as a number: a metric, the seq (exact below
// 2^53), or a JSON path's number. ok is false when the row lacks the
// field, or has a value of another type.
func (c *column) Float(i int) (v float64, ok bool) {
	switch c.kind {
	case FieldMetric:
		if j := c.entries.find(i); j >= 0 {
			return c.nums[j], true
		}
	case FieldSeq:
		return float64(c.seq[i]), true
	case FieldDataPath:
		if r := c.JSON(i); r.Type == gjson.Number {
			return r.Num, true
		}
	}
	return 0, false
}

// Nanos returns row i's time or ingest time in nanoseconds since the Unix
// epoch; ok is false for an event without a time and for other fields.
func (c *column) Nanos(i int) (ns int64, ok bool) {
	if c.ts == nil || (c.tsNulls && c.ts.IsNull(i)) {
		return 0, false
	}
	return int64(c.tsv[i]), true
}

// Time is Nanos as a time.Time in UTC.
func (c *column) Time(i int) (time.Time, bool) {
	ns, ok := c.Nanos(i)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, ns).UTC(), true
}

// JSON returns the value a JSON path resolves to in row i. Its Type is
// gjson.Null (and Exists false) when the row has no JSON data, the path
// does not resolve, or it resolves to null. For other fields it is the
// zero Result.
func (c *column) JSON(i int) gjson.Result {
	if c.path == nil || (c.strNulls && c.str.IsNull(i)) {
		return gjson.Result{}
	}
	r := c.path.lookup(c.str.Value(i))
	if r.Type == gjson.Null {
		return gjson.Result{}
	}
	return r
}

// jsonWork is about the bytes that reading row i's JSON path scans: the
// row's JSON text once per path segment (each segment is one gjson pass
// over what the segment before it found); 0 for other fields.
func (c *column) jsonWork(i int) int {
	if c.path == nil {
		return 0
	}
	return c.str.ValueLen(i) * len(c.path.segs)
}

// Value returns row i's value typed: TypeString for strings, TypeInt for
// the seq, TypeFloat for metrics, TypeTime (UTC) for times, and TypeNull
// when the row lacks the field. A JSON path gives a string as TypeString,
// a number as TypeFloat, true and false as TypeBool, and an object or an
// array as TypeString holding its JSON text as it appears in the data.
func (c *column) Value(i int) Value {
	switch c.kind {
	case FieldSeq:
		return Int(int64(c.seq[i]))
	case FieldTime, FieldIngestTime:
		if t, ok := c.Time(i); ok {
			return TimeValue(t)
		}
	case FieldMetric:
		if v, ok := c.Float(i); ok {
			return Float(v)
		}
	case FieldDataPath:
		switch r := c.JSON(i); r.Type {
		case gjson.String:
			return String(r.Str)
		case gjson.Number:
			return Float(r.Num)
		case gjson.True:
			return Bool(true)
		case gjson.False:
			return Bool(false)
		case gjson.JSON:
			return String(r.Raw)
		}
	default:
		if s, ok := c.Str(i); ok {
			return String(s)
		}
	}
	return Value{}
}

// jsonPath is a JSON path compiled into gjson paths. gjson resolves a run
// of member names in one pass, but it reads a number as an array index and
// a member name alike ("a.2" finds both {"a":[0,1,2]} and {"a":{"2":…}}),
// and it takes the first '{' or '[' of the text as the document. So the
// path is cut into segments, each starting where the kind of container
// matters (at an index, at a member name of digits only, at the empty
// name), and each segment first checks that the value it starts from is
// an array (index) or an object (name).
type jsonPath struct {
	segs []jsonSeg
}

// jsonSeg is a run of path steps.
type jsonSeg struct {
	// gpath is the run as a gjson path: member names escaped, indices as
	// decimal numbers, joined by dots.
	gpath string
	// array: the run starts with an index and applies to an array; else
	// it starts with a name and applies to an object.
	array bool
	// emptyKey: the run is the single member name "", which gjson paths
	// cannot name; it is found by walking the object's members.
	emptyKey bool
}

// compilePath parses a JSON path (parsePath) and compiles it.
func compilePath(s string) (*jsonPath, error) {
	steps, err := parsePath(s)
	if err != nil {
		return nil, err
	}
	p := &jsonPath{}
	var cur *jsonSeg
	for _, st := range steps {
		switch {
		case st.isIdx:
			p.segs = append(p.segs, jsonSeg{gpath: strconv.Itoa(st.index), array: true})
		case st.key == "":
			p.segs = append(p.segs, jsonSeg{emptyKey: true})
		case allDigits(st.key) || cur == nil || cur.emptyKey:
			p.segs = append(p.segs, jsonSeg{gpath: gjson.Escape(st.key)})
		default:
			cur.gpath += "." + gjson.Escape(st.key)
		}
		cur = &p.segs[len(p.segs)-1]
	}
	return p, nil
}

// allDigits reports whether s is made of ASCII digits only, which gjson
// reads as an array index.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// lookup resolves the path in the JSON document doc. The result's Type is
// gjson.Null with Exists false when the path does not resolve; it is
// gjson.Null with Exists true for a JSON null.
func (p *jsonPath) lookup(doc string) gjson.Result {
	var r gjson.Result
	for _, s := range p.segs {
		c := firstByte(doc)
		if s.array && c != '[' || !s.array && c != '{' {
			return gjson.Result{}
		}
		if s.emptyKey {
			r = emptyMember(doc)
		} else {
			r = gjson.Get(doc, s.gpath)
		}
		if !r.Exists() {
			return gjson.Result{}
		}
		doc = r.Raw
	}
	return r
}

// firstByte is the first byte of s that is not JSON white space, or 0.
func firstByte(s string) byte {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return s[i]
		}
	}
	return 0
}

// emptyMember returns the member named "" of the JSON object obj: the
// first one, as gjson returns the first of duplicate names.
func emptyMember(obj string) gjson.Result {
	var out gjson.Result
	gjson.Parse(obj).ForEach(func(k, v gjson.Result) bool {
		if k.Str == "" {
			out = v
			return false
		}
		return true
	})
	return out
}
