package query

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
)

// errInvalidFilter is the error of a filter that compileFilter rejects: a
// malformed tree, an operator the field does not take, an operand of the
// wrong type. It stays in the package: compile reports it as an
// InvalidError naming the node.
var errInvalidFilter = errors.New("invalid filter")

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
// be evaluated. When stop says the query has ended, eval may return with
// sel half evaluated.
type node interface {
	eval(b *Batch, sel []bool, stop *stopper)
	// cost ranks nodes for evaluation order within And and Or: cheaper
	// nodes first, to leave fewer rows to the dearer ones.
	cost() int
}

// compileFilter checks the filter tree f and compiles it into a predicate.
// A nil f selects every event and compiles to a nil predicate. Errors wrap
// errInvalidFilter and name the node ("filter and[1] compare
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
// contains "straße", "STRASSE" does not. That search takes time linear in
// the length of the text whatever the needle; the case-sensitive one is
// strings.Contains.
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
// When stop (nil: never) says the query has ended, eval returns early and
// sel is meaningless.
func (p *predicate) eval(b *Batch, sel []bool, stop *stopper) {
	if p == nil {
		return
	}
	if len(sel) != b.Len {
		panic(fmt.Sprintf("query: filter over %d rows with a selection of %d", b.Len, len(sel)))
	}
	if m := p.cols.missing(b); m != 0 {
		panic(fmt.Sprintf("query: filter needs the %s columns, which the batch lacks", m))
	}
	p.root.eval(b, sel, stop)
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

// bad returns an errInvalidFilter error about the node at where.
func bad(where, format string, args ...any) error {
	return &filterError{where: where, reason: fmt.Sprintf(format, args...)}
}

// filterError is an errInvalidFilter error about one node of the tree.
type filterError struct {
	// where names the node as the compiler walks the tree: "filter and[1]
	// compare attributes.x".
	where, reason string
}

func (e *filterError) Error() string {
	return fmt.Sprintf("%v: %s: %s", errInvalidFilter, e.where, e.reason)
}

func (e *filterError) Unwrap() error { return errInvalidFilter }

// path is the node's path in the request as the API spells it
// ("filter.and[1].compare"; a not's argument is "not", without an index).
func (e *filterError) path() string {
	parts := strings.Fields(e.where)
	if len(parts) == 0 {
		return "filter"
	}
	out := parts[0]
	for _, p := range parts[1:] {
		name, idx, indexed := strings.Cut(p, "[")
		if !slices.Contains(slices.Collect(maps.Values(opNames)), name) {
			break // the field the node reads
		}
		out += "." + name
		if indexed && name != "not" {
			out += "[" + idx
		}
	}
	return out
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

func (n *andNode) eval(b *Batch, sel []bool, stop *stopper) {
	for i, a := range n.args {
		if i > 0 && !anyTrue(sel) {
			return
		}
		a.eval(b, sel, stop)
	}
}

func (n *andNode) cost() int { return sumCost(n.args) }

// orNode: some argument holds. Each argument sees only the rows that no
// argument before it matched.
type orNode struct{ args []node }

func (n *orNode) eval(b *Batch, sel []bool, stop *stopper) {
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
		a.eval(b, *try, stop)
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

func (n *notNode) eval(b *Batch, sel []bool, stop *stopper) {
	matched := copySel(sel)
	defer releaseSel(matched)
	n.arg.eval(b, *matched, stop)
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
	case FieldAttribute, FieldMetric, FieldDataPath, FieldTime, FieldData, FieldSource, FieldSubject:
		return &existsLeaf{spec: spec}, nil
	}
	return nil, fmt.Errorf("every event has %s: exists takes attributes.<key>, metrics.<key>, a JSON path, source, subject, time or data", spec.field)
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
