package query

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/tidwall/gjson"
)

// ErrInvalidFilter is the error of a filter that compileFilter rejects: a
// malformed tree, an operator the field does not take, an operand of the
// wrong type. The API maps it to InvalidArgument.
var ErrInvalidFilter = errors.New("invalid filter")

// maxFilterDepth bounds the nesting of a filter tree, so that compiling
// and evaluating it cannot recurse without end.
const maxFilterDepth = 64

// inListSet is the length past which an In over strings looks values up in
// a map instead of comparing them one by one.
const inListSet = 8

// predicate is a compiled Filter. It is immutable, so goroutines may share
// it; each eval call keeps its state to itself. A nil *predicate (the
// compiled nil Filter) keeps every row.
type predicate struct {
	root node
	cols columnSet
}

// node is one compiled filter node. eval clears the rows of sel that are
// true and fail the node; rows that are false are left alone and need not
// be evaluated.
type node interface {
	eval(b *Batch, sel []bool)
	// cost ranks nodes for evaluation order within And and Or: cheaper
	// nodes first, to leave fewer rows to the dearer ones.
	cost() int
}

// compileFilter checks the filter tree f and compiles it into a predicate.
// A nil f selects every event and compiles to a nil predicate. Errors wrap
// ErrInvalidFilter and name the node ("filter and[1] compare
// attributes.org: …") and the field.
//
// The semantics of a filter:
//
// And, Or and Not combine Args: And and Or take at least one, Not exactly
// one. Not is plain boolean negation of its argument's result.
//
// Compare compares Field with Value using Cmp (Eq, Ne, Lt, Le, Gt, Ge):
//   - stream, id, type, source, subject, content_type and attributes.<key>
//     take a string value; strings order byte by byte (the order of their
//     UTF-8 bytes, which is code point order);
//   - seq takes an int or a float, compared exactly (seq > 2.5 is seq >= 3);
//   - time and ingest_time take a time; a time outside the range of
//     nanosecond timestamps (1677 to 2262) lies before or after them all;
//   - metrics.<key> takes an int or a float; an int is converted to
//     float64;
//   - a JSON path takes a string, a number (int or float, compared as
//     float64) or a bool (Eq and Ne only), and compares only with events
//     whose JSON value there has the same type: a value of another type
//     matches no comparison, not even Ne;
//   - data (the whole JSON text) takes no comparison, only Contains.
//
// Float operands must not be NaN.
//
// An event without the field — no such attribute or metric, no time, no
// JSON data, a JSON path that does not resolve or resolves to null —
// matches no Compare, not even Ne, and no In, as in SQL. Not over such a
// Compare does match the event: Not(attributes.plan = "pro") selects the
// events without a plan attribute too, while attributes.plan != "pro"
// selects only events that have one.
//
// In matches when Field equals one of Values (at least one), with the
// types Compare takes; a JSON path may list values of several types.
//
// Exists matches events that have an attribute or metric of that key, a
// JSON path that resolves to a value other than null, a time (time is
// optional), or JSON data (data is null for binary payloads). The other
// envelope fields always exist: Exists on them is an error.
//
// Contains matches when the field's text contains Value.Str (a string, not
// empty): the envelope strings, attribute values, the data text, and the
// string values of a JSON path (other JSON types do not match). IgnoreCase
// folds case with Unicode simple folding (see foldNeedle): "STRAẞE"
// contains "straße", "STRASSE" does not.
//
// The arguments of And and Or run cheapest first; the result does not
// depend on the order.
func compileFilter(f *Filter) (*predicate, error) {
	if f == nil {
		return nil, nil
	}
	c := compiler{}
	root, err := c.node(f, "filter", 0)
	if err != nil {
		return nil, err
	}
	return &predicate{root: root, cols: c.cols}, nil
}

// columns is the set of Batch columns eval reads.
func (p *predicate) columns() columnSet {
	if p == nil {
		return 0
	}
	return p.cols
}

// eval clears the rows of sel (len b.Len) that are true and fail the
// filter. b must hold the columns p.columns() names; eval panics if not.
func (p *predicate) eval(b *Batch, sel []bool) {
	if p == nil {
		return
	}
	if len(sel) != b.Len {
		panic(fmt.Sprintf("query: filter over %d rows with a selection of %d", b.Len, len(sel)))
	}
	if m := p.cols.missing(b); m != 0 {
		panic(fmt.Sprintf("query: filter needs the %s columns, which the batch lacks", m))
	}
	p.root.eval(b, sel)
}

// selPool holds scratch selections for Or and Not.
var selPool sync.Pool // of *[]bool

// copySel returns a scratch copy of sel; releaseSel gives it back.
func copySel(sel []bool) *[]bool {
	p, _ := selPool.Get().(*[]bool)
	if p == nil || cap(*p) < len(sel) {
		s := make([]bool, len(sel))
		p = &s
	}
	*p = append((*p)[:0], sel...)
	return p
}

func releaseSel(p *[]bool) { selPool.Put(p) }

// anyTrue reports whether some row of sel is true.
func anyTrue(sel []bool) bool {
	return slices.Contains(sel, true)
}

// compiler checks and compiles a filter tree.
type compiler struct {
	cols columnSet
}

// bad returns an ErrInvalidFilter error about the node at where.
func bad(where, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidFilter, where, fmt.Sprintf(format, args...))
}

// opNames name the operators in errors.
var opNames = map[Op]string{
	OpAnd: "and", OpOr: "or", OpNot: "not", OpCompare: "compare",
	OpIn: "in", OpExists: "exists", OpContains: "contains",
}

// cmpNames name the comparison operators in errors.
var cmpNames = map[Cmp]string{Eq: "=", Ne: "!=", Lt: "<", Le: "<=", Gt: ">", Ge: ">="}

// node compiles f, which sits at where (for errors) at depth.
func (c *compiler) node(f *Filter, where string, depth int) (node, error) {
	if f == nil {
		return nil, bad(where, "nil node")
	}
	if depth >= maxFilterDepth {
		return nil, bad(where, "nested deeper than %d", maxFilterDepth)
	}
	name, ok := opNames[f.Op]
	if !ok {
		return nil, bad(where, "unknown operator %d", f.Op)
	}
	where += " " + name
	switch f.Op {
	case OpAnd, OpOr, OpNot:
		if f.Field != (Field{}) || f.Cmp != 0 || f.Value != (Value{}) || f.Values != nil || f.IgnoreCase {
			return nil, bad(where, "%s takes only arguments (no field, comparison, value or ignore-case)", name)
		}
		return c.combine(f, where, depth)
	}
	if f.Args != nil {
		return nil, bad(where, "%s takes no arguments", name)
	}
	if f.Field.Kind == 0 {
		return nil, bad(where, "%s needs a field", name)
	}
	where += " " + f.Field.String()
	spec, err := compileField(f.Field)
	if err != nil {
		return nil, bad(where, "%v", err)
	}
	if f.Op != OpCompare && f.Cmp != 0 {
		return nil, bad(where, "%s takes no comparison operator", name)
	}
	if f.Op != OpIn && f.Values != nil {
		return nil, bad(where, "%s takes no value list (only in does)", name)
	}
	if f.Op != OpContains && f.IgnoreCase {
		return nil, bad(where, "%s takes no ignore-case (only contains does)", name)
	}
	if (f.Op == OpIn || f.Op == OpExists) && f.Value != (Value{}) {
		return nil, bad(where, "%s takes no single value", name)
	}
	var n node
	switch f.Op {
	case OpCompare:
		n, err = compileCompare(spec, f.Cmp, f.Value)
	case OpIn:
		n, err = compileIn(spec, f.Values)
	case OpExists:
		n, err = compileExists(spec)
	case OpContains:
		n, err = compileContains(spec, f.Value, f.IgnoreCase)
	}
	if err != nil {
		return nil, bad(where, "%v", err)
	}
	c.cols |= spec.col
	return n, nil
}

// combine compiles And, Or and Not.
func (c *compiler) combine(f *Filter, where string, depth int) (node, error) {
	switch {
	case f.Op == OpNot && len(f.Args) != 1:
		return nil, bad(where, "not takes exactly one argument, got %d", len(f.Args))
	case len(f.Args) == 0:
		return nil, bad(where, "%s takes at least one argument", opNames[f.Op])
	}
	args := make([]node, len(f.Args))
	for i, a := range f.Args {
		n, err := c.node(a, fmt.Sprintf("%s[%d]", where, i), depth+1)
		if err != nil {
			return nil, err
		}
		args[i] = n
	}
	if f.Op == OpNot {
		if inner, ok := args[0].(*notNode); ok {
			return inner.arg, nil
		}
		return &notNode{arg: args[0]}, nil
	}
	if len(args) == 1 {
		return args[0], nil
	}
	// And and Or commute and their arguments have no effects, so the
	// cheapest run first.
	slices.SortStableFunc(args, func(a, b node) int { return cmp.Compare(a.cost(), b.cost()) })
	if f.Op == OpAnd {
		return &andNode{args: args}, nil
	}
	return &orNode{args: args}, nil
}

// andNode: every argument holds. Each argument sees only the rows the
// ones before it kept.
type andNode struct{ args []node }

func (n *andNode) eval(b *Batch, sel []bool) {
	for i, a := range n.args {
		if i > 0 && !anyTrue(sel) {
			return
		}
		a.eval(b, sel)
	}
}

func (n *andNode) cost() int { return sumCost(n.args) }

// orNode: some argument holds. Each argument sees only the rows that no
// argument before it matched.
type orNode struct{ args []node }

func (n *orNode) eval(b *Batch, sel []bool) {
	rest := copySel(sel) // rows no argument matched yet
	defer releaseSel(rest)
	try := copySel(sel)
	defer releaseSel(try)
	for i, a := range n.args {
		if i > 0 {
			if !anyTrue(*rest) {
				break
			}
			copy(*try, *rest)
		}
		a.eval(b, *try)
		for j, ok := range *try {
			if ok {
				(*rest)[j] = false
			}
		}
	}
	for j, unmatched := range *rest {
		if unmatched {
			sel[j] = false
		}
	}
}

func (n *orNode) cost() int { return sumCost(n.args) }

// notNode: the argument does not hold.
type notNode struct{ arg node }

func (n *notNode) eval(b *Batch, sel []bool) {
	matched := copySel(sel)
	defer releaseSel(matched)
	n.arg.eval(b, *matched)
	for j, ok := range *matched {
		if ok {
			sel[j] = false
		}
	}
}

func (n *notNode) cost() int { return n.arg.cost() + 1 }

func sumCost(ns []node) int {
	s := 0
	for _, n := range ns {
		s += n.cost()
	}
	return s
}

// Costs of the leaves, roughly their time per row.
const (
	costFixed     = 1  // a fixed-width column: seq, times
	costString    = 2  // an envelope string
	costMap       = 3  // an attribute or metric lookup
	costSearch    = 8  // a substring search
	costFoldMatch = 12 // a case-insensitive search
	costJSON      = 20 // a JSON path lookup
)

// compileCompare compiles Compare: spec's field against v with c.
func compileCompare(spec *fieldSpec, c Cmp, v Value) (node, error) {
	if _, ok := cmpNames[c]; !ok {
		return nil, fmt.Errorf("unknown comparison operator %d", c)
	}
	if err := checkOperand(v); err != nil {
		return nil, err
	}
	f := spec.field
	switch f.Kind {
	case FieldStream, FieldID, FieldType, FieldSource, FieldSubject, FieldContentType, FieldAttribute:
		if v.Type != TypeString {
			return nil, fmt.Errorf("%s takes a string value, got %s", f, v.Type)
		}
		return newStrLeaf(spec, strCompare(c, v.Str)), nil
	case FieldSeq:
		o, ok := seqOperand(v)
		if !ok {
			return nil, fmt.Errorf("%s takes an int or float value, got %s", f, v.Type)
		}
		return &seqLeaf{t: intRange(c, o, 0, math.MaxUint64)}, nil
	case FieldTime, FieldIngestTime:
		if v.Type != TypeTime {
			return nil, fmt.Errorf("%s takes a time value, got %s", f, v.Type)
		}
		return &timeLeaf{spec: spec, t: intRange(c, timeOperand(v), math.MinInt64, math.MaxInt64)}, nil
	case FieldMetric:
		x, ok := number(v)
		if !ok {
			return nil, fmt.Errorf("%s takes a number, got %s", f, v.Type)
		}
		return &metricLeaf{spec: spec, t: floatRange(c, x)}, nil
	case FieldDataPath:
		t := &jsonTest{}
		switch v.Type {
		case TypeString:
			t.str = strCompare(c, v.Str)
		case TypeInt, TypeFloat:
			x, _ := number(v)
			t.num = floatRange(c, x)
		case TypeBool:
			switch c {
			case Eq:
				t.bools = boolBit(v.Bool)
			case Ne:
				t.bools = boolBit(!v.Bool)
			default:
				return nil, fmt.Errorf("a bool compares only with = and !=")
			}
		default:
			return nil, fmt.Errorf("%s takes a string, number or bool value, got %s", f, v.Type)
		}
		return &jsonLeaf{spec: spec, t: t}, nil
	case FieldData:
		return nil, fmt.Errorf("data (the JSON text) takes only contains; compare a JSON path such as $.user.plan instead")
	}
	return nil, fmt.Errorf("field %s cannot be compared", f)
}

// compileIn compiles In: spec's field equals one of vs.
func compileIn(spec *fieldSpec, vs []Value) (node, error) {
	if len(vs) == 0 {
		return nil, fmt.Errorf("in needs at least one value")
	}
	for i, v := range vs {
		if err := checkOperand(v); err != nil {
			return nil, fmt.Errorf("value %d: %w", i, err)
		}
	}
	f := spec.field
	switch f.Kind {
	case FieldStream, FieldID, FieldType, FieldSource, FieldSubject, FieldContentType, FieldAttribute:
		ss := make([]string, len(vs))
		for i, v := range vs {
			if v.Type != TypeString {
				return nil, fmt.Errorf("%s takes string values, got %s (value %d)", f, v.Type, i)
			}
			ss[i] = v.Str
		}
		return newStrLeaf(spec, strIn(ss)), nil
	case FieldSeq:
		var set []uint64
		for i, v := range vs {
			o, ok := seqOperand(v)
			if !ok {
				return nil, fmt.Errorf("%s takes int or float values, got %s (value %d)", f, v.Type, i)
			}
			if o.exact() {
				set = append(set, o.fl)
			}
		}
		return &seqLeaf{t: inSet(set)}, nil
	case FieldTime, FieldIngestTime:
		var set []arrow.Timestamp
		for i, v := range vs {
			if v.Type != TypeTime {
				return nil, fmt.Errorf("%s takes time values, got %s (value %d)", f, v.Type, i)
			}
			if o := timeOperand(v); o.exact() {
				set = append(set, o.fl)
			}
		}
		return &timeLeaf{spec: spec, t: inSet(set)}, nil
	case FieldMetric:
		set := make([]float64, len(vs))
		for i, v := range vs {
			x, ok := number(v)
			if !ok {
				return nil, fmt.Errorf("%s takes numbers, got %s (value %d)", f, v.Type, i)
			}
			set[i] = x
		}
		return &metricLeaf{spec: spec, t: inSet(set)}, nil
	case FieldDataPath:
		t := &jsonTest{}
		var strs []string
		var nums []float64
		for i, v := range vs {
			switch v.Type {
			case TypeString:
				strs = append(strs, v.Str)
			case TypeInt, TypeFloat:
				x, _ := number(v)
				nums = append(nums, x)
			case TypeBool:
				t.bools |= boolBit(v.Bool)
			default:
				return nil, fmt.Errorf("%s takes string, number or bool values, got %s (value %d)", f, v.Type, i)
			}
		}
		if strs != nil {
			t.str = strIn(strs)
		}
		if nums != nil {
			t.num = inSet(nums)
		}
		return &jsonLeaf{spec: spec, t: t}, nil
	case FieldData:
		return nil, fmt.Errorf("data (the JSON text) takes only contains; use a JSON path such as $.user.plan instead")
	}
	return nil, fmt.Errorf("field %s takes no in", f)
}

// compileExists compiles Exists.
func compileExists(spec *fieldSpec) (node, error) {
	switch spec.field.Kind {
	case FieldAttribute, FieldMetric, FieldDataPath, FieldTime, FieldData:
		return &existsLeaf{spec: spec}, nil
	}
	return nil, fmt.Errorf("every event has %s: exists takes attributes.<key>, metrics.<key>, a JSON path, time or data", spec.field)
}

// compileContains compiles Contains.
func compileContains(spec *fieldSpec, v Value, ignoreCase bool) (node, error) {
	if v.Type != TypeString {
		return nil, fmt.Errorf("contains takes a string value, got %s", v.Type)
	}
	if v.Str == "" {
		return nil, fmt.Errorf("contains needs a non-empty string")
	}
	t := &strTest{mode: sContains, v: v.Str}
	if ignoreCase {
		t.mode, t.fold = sContainsFold, newFoldNeedle(v.Str)
	}
	switch spec.field.Kind {
	case FieldStream, FieldID, FieldType, FieldSource, FieldSubject, FieldContentType, FieldAttribute, FieldData:
		return newStrLeaf(spec, t), nil
	case FieldDataPath:
		return &jsonLeaf{spec: spec, t: &jsonTest{str: t}}, nil
	}
	return nil, fmt.Errorf("%s is not text: contains takes a string field, attributes.<key>, data or a JSON path", spec.field)
}

// checkOperand rejects NaN.
func checkOperand(v Value) error {
	if v.Type == TypeFloat && math.IsNaN(v.F) {
		return fmt.Errorf("a value is NaN")
	}
	if v.Type > TypeBool || v.Type < TypeNull {
		return fmt.Errorf("unknown value type %d", v.Type)
	}
	return nil
}

// number is v as a float64, for an int or float v.
func number(v Value) (float64, bool) {
	switch v.Type {
	case TypeInt:
		return float64(v.Int), true
	case TypeFloat:
		return v.F, true
	}
	return 0, false
}

// intOperand places an operand on an integer axis: below or above every
// value of the axis, or between fl and ce, its floor and ceiling on the
// axis (equal when it is an integer).
type intOperand[T ~int64 | ~uint64] struct {
	below, above bool
	fl, ce       T
}

// exact reports whether the operand is a value of the axis.
func (o intOperand[T]) exact() bool { return !o.below && !o.above && o.fl == o.ce }

// seqOperand places an int or float on the axis of seqs.
func seqOperand(v Value) (intOperand[uint64], bool) {
	switch v.Type {
	case TypeInt:
		if v.Int < 0 {
			return intOperand[uint64]{below: true}, true
		}
		return intOperand[uint64]{fl: uint64(v.Int), ce: uint64(v.Int)}, true
	case TypeFloat:
		switch {
		case v.F < 0:
			return intOperand[uint64]{below: true}, true
		case v.F >= 1<<64:
			return intOperand[uint64]{above: true}, true
		}
		return intOperand[uint64]{fl: uint64(math.Floor(v.F)), ce: uint64(math.Ceil(v.F))}, true
	}
	return intOperand[uint64]{}, false
}

// timeOperand places a time on the axis of nanosecond timestamps.
func timeOperand(v Value) intOperand[arrow.Timestamp] {
	ns, below, above := timeNanos(v.Time)
	t := arrow.Timestamp(ns)
	return intOperand[arrow.Timestamp]{below: below, above: above, fl: t, ce: t}
}

// timeNanos places t on the axis of nanosecond timestamps: ns when t is
// representable, else below or above every timestamp.
func timeNanos(t time.Time) (ns int64, below, above bool) {
	switch {
	case t.Before(minTimestamp):
		return 0, true, false
	case t.After(maxTimestamp):
		return 0, false, true
	}
	return t.UnixNano(), false, false
}

// minTimestamp and maxTimestamp are the first and last times a timestamp
// column can hold.
var (
	minTimestamp = time.Unix(0, math.MinInt64)
	maxTimestamp = time.Unix(0, math.MaxInt64)
)

// rangeMode is how a rangeTest matches.
type rangeMode uint8

const (
	rNone  rangeMode = iota // nothing
	rAll                    // every value
	rRange                  // lo <= x <= hi
	rNe                     // x != lo
	rIn                     // x is in set
)

// rangeTest matches numbers: every comparison with one operand is a closed
// range, its complement (Ne), all or nothing; In is a sorted set.
type rangeTest[T ~int64 | ~uint64 | ~float64] struct {
	mode   rangeMode
	lo, hi T
	set    []T
}

// match reports whether x passes.
func (t *rangeTest[T]) match(x T) bool {
	switch t.mode {
	case rRange:
		return t.lo <= x && x <= t.hi
	case rNe:
		return x != t.lo
	case rIn:
		_, ok := slices.BinarySearch(t.set, x)
		return ok
	case rAll:
		return true
	}
	return false
}

// intRange is the test of "x c o" over the integers lo..hi of an axis.
func intRange[T ~int64 | ~uint64](c Cmp, o intOperand[T], minT, maxT T) *rangeTest[T] {
	none, all := &rangeTest[T]{mode: rNone}, &rangeTest[T]{mode: rAll}
	span := func(lo, hi T) *rangeTest[T] { return &rangeTest[T]{mode: rRange, lo: lo, hi: hi} }
	switch {
	case o.below:
		if c == Eq || c == Lt || c == Le {
			return none
		}
		return all
	case o.above:
		if c == Eq || c == Gt || c == Ge {
			return none
		}
		return all
	}
	switch c {
	case Eq:
		if o.fl != o.ce {
			return none
		}
		return span(o.fl, o.fl)
	case Ne:
		if o.fl != o.ce {
			return all
		}
		return &rangeTest[T]{mode: rNe, lo: o.fl}
	case Le:
		return span(minT, o.fl)
	case Lt:
		if o.ce == minT {
			return none
		}
		return span(minT, o.ce-1)
	case Ge:
		return span(o.ce, maxT)
	default: // Gt
		if o.fl == maxT {
			return none
		}
		return span(o.fl+1, maxT)
	}
}

// floatRange is the test of "x c v" over float64 (v not NaN). Strict
// bounds become closed ones at the next float.
func floatRange(c Cmp, v float64) *rangeTest[float64] {
	inf := math.Inf(1)
	switch c {
	case Eq:
		return &rangeTest[float64]{mode: rRange, lo: v, hi: v}
	case Ne:
		return &rangeTest[float64]{mode: rNe, lo: v}
	case Le:
		return &rangeTest[float64]{mode: rRange, lo: -inf, hi: v}
	case Lt:
		if v == -inf {
			return &rangeTest[float64]{mode: rNone}
		}
		return &rangeTest[float64]{mode: rRange, lo: -inf, hi: math.Nextafter(v, -inf)}
	case Ge:
		return &rangeTest[float64]{mode: rRange, lo: v, hi: inf}
	default: // Gt
		if v == inf {
			return &rangeTest[float64]{mode: rNone}
		}
		return &rangeTest[float64]{mode: rRange, lo: math.Nextafter(v, inf), hi: inf}
	}
}

// inSet is the test of membership in vs.
func inSet[T ~int64 | ~uint64 | ~float64](vs []T) *rangeTest[T] {
	if len(vs) == 0 {
		return &rangeTest[T]{mode: rNone}
	}
	set := slices.Clone(vs)
	slices.Sort(set)
	return &rangeTest[T]{mode: rIn, set: slices.Compact(set)}
}

// strMode is how a strTest matches.
type strMode uint8

const (
	sEq strMode = iota
	sNe
	sLt
	sLe
	sGt
	sGe
	sInList // one of list
	sInSet  // in set
	sContains
	sContainsFold
)

// strTest matches strings.
type strTest struct {
	mode strMode
	v    string
	list []string // sInList; sEq: v alone
	set  map[string]struct{}
	fold *foldNeedle
}

// strCompare is the test of "s c v".
func strCompare(c Cmp, v string) *strTest {
	t := &strTest{mode: [...]strMode{Eq: sEq, Ne: sNe, Lt: sLt, Le: sLe, Gt: sGt, Ge: sGe}[c], v: v}
	if c == Eq {
		t.list = []string{v}
	}
	return t
}

// strIn is the test of membership in vs.
func strIn(vs []string) *strTest {
	if len(vs) <= inListSet {
		return &strTest{mode: sInList, list: vs}
	}
	set := make(map[string]struct{}, len(vs))
	for _, v := range vs {
		set[v] = struct{}{}
	}
	return &strTest{mode: sInSet, set: set}
}

// match reports whether s passes.
func (t *strTest) match(s string) bool {
	switch t.mode {
	case sEq:
		return s == t.v
	case sNe:
		return s != t.v
	case sLt:
		return s < t.v
	case sLe:
		return s <= t.v
	case sGt:
		return s > t.v
	case sGe:
		return s >= t.v
	case sInList:
		return slices.Contains(t.list, s)
	case sInSet:
		_, ok := t.set[s]
		return ok
	case sContains:
		return strings.Contains(s, t.v)
	default: // sContainsFold
		return t.fold.in(s)
	}
}

// dear reports whether a match costs more than comparing s with the last
// string matched, so that remembering the last answer pays.
func (t *strTest) dear() bool { return t.mode >= sInSet }

// strCost ranks a strTest on a column whose base cost is base.
func (t *strTest) cost(base int) int {
	switch t.mode {
	case sContains:
		return base + costSearch
	case sContainsFold:
		return base + costFoldMatch
	}
	return base
}

// strLeaf tests a string column: an envelope string, the data text, or
// an attribute's values.
type strLeaf struct {
	spec *fieldSpec
	t    *strTest
}

func newStrLeaf(spec *fieldSpec, t *strTest) *strLeaf { return &strLeaf{spec: spec, t: t} }

func (l *strLeaf) cost() int {
	switch l.spec.field.Kind {
	case FieldAttribute:
		return l.t.cost(costMap)
	case FieldData:
		return l.t.cost(costSearch)
	}
	return l.t.cost(costString)
}

func (l *strLeaf) eval(b *Batch, sel []bool) {
	c := l.spec.bind(b)
	t := l.t
	eq := t.mode == sEq || t.mode == sInList
	if c.kind == FieldAttribute {
		if eq && len(t.list) == 1 {
			v := newWord(t.list[0])
			for i, ok := range sel {
				if ok {
					j := c.entries.find(i)
					sel[i] = j >= 0 && c.rawVals.eqWord(j, &v)
				}
			}
			return
		}
		if eq {
			list := t.list
			for i, ok := range sel {
				if ok {
					j := c.entries.find(i)
					sel[i] = j >= 0 && c.rawVals.eqAny(j, list)
				}
			}
			return
		}
		var memo lastMatch
		for i, ok := range sel {
			if ok {
				j := c.entries.find(i)
				sel[i] = j >= 0 && memo.match(t, c.vals.Value(j))
			}
		}
		return
	}
	col := c.str
	if eq && !c.strNulls {
		raw, list := rawOf(col), t.list
		if len(list) == 1 {
			v := newWord(list[0])
			for i, ok := range sel {
				if ok {
					sel[i] = raw.eqWord(i, &v)
				}
			}
			return
		}
		for i, ok := range sel {
			if ok {
				sel[i] = raw.eqAny(i, list)
			}
		}
		return
	}
	var memo lastMatch
	for i, ok := range sel {
		if ok {
			sel[i] = !(c.strNulls && col.IsNull(i)) && memo.match(t, col.Value(i))
		}
	}
}

// lastMatch remembers the last string a dear strTest matched and its
// answer: envelope strings and attribute values repeat from row to row.
type lastMatch struct {
	s    string
	ok   bool
	have bool
}

func (m *lastMatch) match(t *strTest, s string) bool {
	if !t.dear() {
		return t.match(s)
	}
	if m.have && s == m.s {
		return m.ok
	}
	m.s, m.ok, m.have = s, t.match(s), true
	return m.ok
}

// seqLeaf tests the seq column.
type seqLeaf struct {
	t *rangeTest[uint64]
}

func (l *seqLeaf) cost() int { return costFixed }

func (l *seqLeaf) eval(b *Batch, sel []bool) {
	seqs := b.Seq.Uint64Values()
	evalFixed(seqs, l.t, sel)
}

// evalFixed tests the values of a column that has no nulls.
func evalFixed[T ~int64 | ~uint64 | ~float64](xs []T, t *rangeTest[T], sel []bool) {
	switch t.mode {
	case rNone:
		clear(sel)
	case rAll:
	case rRange:
		lo, hi := t.lo, t.hi
		for i, ok := range sel {
			if ok {
				x := xs[i]
				sel[i] = lo <= x && x <= hi
			}
		}
	default:
		for i, ok := range sel {
			if ok {
				sel[i] = t.match(xs[i])
			}
		}
	}
}

// timeLeaf tests time or ingest_time; an event without a time fails.
type timeLeaf struct {
	spec *fieldSpec
	t    *rangeTest[arrow.Timestamp]
}

func (l *timeLeaf) cost() int { return costFixed }

func (l *timeLeaf) eval(b *Batch, sel []bool) {
	c := l.spec.bind(b)
	if !c.tsNulls {
		evalFixed(c.tsv, l.t, sel)
		return
	}
	for i, ok := range sel {
		if ok {
			sel[i] = c.ts.IsValid(i) && l.t.match(c.tsv[i])
		}
	}
}

// metricLeaf tests a metric; an event without it fails.
type metricLeaf struct {
	spec *fieldSpec
	t    *rangeTest[float64]
}

func (l *metricLeaf) cost() int { return costMap }

func (l *metricLeaf) eval(b *Batch, sel []bool) {
	c := l.spec.bind(b)
	if l.t.mode == rRange {
		lo, hi := l.t.lo, l.t.hi
		for i, ok := range sel {
			if ok {
				j := c.entries.find(i)
				sel[i] = j >= 0 && lo <= c.nums[j] && c.nums[j] <= hi
			}
		}
		return
	}
	for i, ok := range sel {
		if ok {
			j := c.entries.find(i)
			sel[i] = j >= 0 && l.t.match(c.nums[j])
		}
	}
}

// jsonTest matches JSON values by type: a string only with str, a number
// only with num, true and false only with bools.
type jsonTest struct {
	str   *strTest
	num   *rangeTest[float64]
	bools uint8 // boolBit(false) | boolBit(true): which bools match
}

// boolBit is the bit of b in jsonTest.bools.
func boolBit(b bool) uint8 {
	if b {
		return 2
	}
	return 1
}

// match reports whether the JSON value r passes.
func (t *jsonTest) match(r gjson.Result) bool {
	switch r.Type {
	case gjson.String:
		return t.str != nil && t.str.match(r.Str)
	case gjson.Number:
		return t.num != nil && t.num.match(r.Num)
	case gjson.True:
		return t.bools&boolBit(true) != 0
	case gjson.False:
		return t.bools&boolBit(false) != 0
	}
	return false
}

// jsonLeaf tests the value at a JSON path.
type jsonLeaf struct {
	spec *fieldSpec
	t    *jsonTest
}

func (l *jsonLeaf) cost() int { return costJSON }

func (l *jsonLeaf) eval(b *Batch, sel []bool) {
	c := l.spec.bind(b)
	for i, ok := range sel {
		if ok {
			sel[i] = l.t.match(c.JSON(i))
		}
	}
}

// existsLeaf tests that an event has the field.
type existsLeaf struct {
	spec *fieldSpec
}

func (l *existsLeaf) cost() int {
	switch l.spec.field.Kind {
	case FieldDataPath:
		return costJSON
	case FieldAttribute, FieldMetric:
		return costMap
	}
	return costFixed
}

func (l *existsLeaf) eval(b *Batch, sel []bool) {
	c := l.spec.bind(b)
	for i, ok := range sel {
		if ok {
			sel[i] = c.Has(i)
		}
	}
}
