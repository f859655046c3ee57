package query

import "github.com/apache/arrow-go/v18/arrow"

// This file holds the leaves of a compiled filter: each binds its field to
// the batch and runs one loop over the rows still selected. The leaves
// whose work grows with a row's bytes (string tests other than equality,
// JSON paths) tick the stopper once per row; the others do a fixed,
// small amount of work per row and do not.

// Costs of the leaves, roughly their time per row.
const (
	costFixed     = 1  // a fixed-width column: seq, times
	costString    = 2  // an envelope string
	costMap       = 3  // an attribute or metric lookup
	costSearch    = 8  // a substring search
	costFoldMatch = 12 // a case-insensitive search
	costJSON      = 20 // a JSON path lookup
)

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

func (l *strLeaf) eval(b *Batch, sel []bool, stop *stopper) {
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
				if j < 0 {
					sel[i] = false
					continue
				}
				v := c.vals.Value(j)
				if stop.tick(len(v)) {
					return
				}
				sel[i] = memo.match(t, v)
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
			if c.strNulls && col.IsNull(i) {
				sel[i] = false
				continue
			}
			v := col.Value(i)
			if stop.tick(len(v)) {
				return
			}
			sel[i] = memo.match(t, v)
		}
	}
}

// seqLeaf tests the seq column.
type seqLeaf struct {
	t *rangeTest[uint64]
}

func (l *seqLeaf) cost() int { return costFixed }

func (l *seqLeaf) eval(b *Batch, sel []bool, _ *stopper) {
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

func (l *timeLeaf) eval(b *Batch, sel []bool, _ *stopper) {
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

func (l *metricLeaf) eval(b *Batch, sel []bool, _ *stopper) {
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

// jsonLeaf tests the value at a JSON path.
type jsonLeaf struct {
	spec *fieldSpec
	t    *jsonTest
}

func (l *jsonLeaf) cost() int { return costJSON }

func (l *jsonLeaf) eval(b *Batch, sel []bool, stop *stopper) {
	c := l.spec.bind(b)
	for i, ok := range sel {
		if ok {
			if stop.tick(c.jsonWork(i)) {
				return
			}
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

func (l *existsLeaf) eval(b *Batch, sel []bool, stop *stopper) {
	c := l.spec.bind(b)
	for i, ok := range sel {
		if ok {
			if stop.tick(c.jsonWork(i)) {
				return
			}
			sel[i] = c.Has(i)
		}
	}
}
