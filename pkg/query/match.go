package query

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/tidwall/gjson"
)

// This file holds the tests a filter leaf applies to one value: numbers
// against a range or a set, strings against a comparison, a list, a set
// or a substring, JSON values by type.

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
