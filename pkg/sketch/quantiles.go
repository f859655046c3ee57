package sketch

import (
	"math"
	"slices"

	"github.com/DataDog/sketches-go/ddsketch"
)

// DefaultQuantileExact is the number of values a [Quantiles] made with it
// keeps, and answers exactly from, before it switches to a DDSketch.
const DefaultQuantileExact = 100_000

// QuantileRelativeAccuracy is the relative accuracy α of a switched
// [Quantiles]: its DDSketch answers within α·|x| of a value x of the right
// rank. The package documentation states the bound precisely.
const QuantileRelativeAccuracy = 0.01

// Quantiles answers quantile (percentile) queries over the float64 values
// added to it: exactly, by linear interpolation between closest ranks, while
// it holds at most its limit of values; within [QuantileRelativeAccuracy]
// (DDSketch) once it holds more. The package documentation states both.
//
// NaN is ignored: it is not counted and never returned. Negative zero is
// added as zero. ±Inf are counted exactly in both modes.
//
// Make one with [NewQuantiles]; the zero value is not usable. A Quantiles is
// not safe for concurrent use, and that includes [Quantiles.Quantile],
// which sorts the kept values, or the sketch's buffer, in place.
type Quantiles struct {
	limit int
	n     uint64 // values added (NaN excluded), in either mode

	// Exact state, nil once switched.
	vals   []float64
	sorted bool // vals is sorted; cleared by every append

	// Sketch state, nil until vals outgrows limit. dd holds the finite
	// values (the library refuses infinities); negInf and posInf count
	// the infinities beside it.
	dd             *ddsketch.DDSketch
	negInf, posInf uint64
}

// NewQuantiles returns an empty [Quantiles] that keeps up to exactLimit
// values (use [DefaultQuantileExact] unless there is a reason not to). With
// exactLimit 0 it sketches from the first value; a negative exactLimit is
// treated as 0.
func NewQuantiles(exactLimit int) *Quantiles {
	q := &Quantiles{limit: max(exactLimit, 0)}
	if q.limit == 0 {
		q.dd = newDD()
	}
	return q
}

func newDD() *ddsketch.DDSketch {
	// The logarithmic mapping with unbounded (buffered, paginated) stores
	// for positive and negative values and a zero count: no bins are ever
	// collapsed, so the accuracy holds at every quantile.
	dd, err := ddsketch.NewDefaultDDSketch(QuantileRelativeAccuracy)
	if err != nil {
		panic("sketch: ddsketch accuracy: " + err.Error()) // the accuracy is a valid constant
	}
	return dd
}

// Add adds v. NaN is ignored.
func (q *Quantiles) Add(v float64) {
	if math.IsNaN(v) {
		return
	}
	if v == 0 {
		v = 0 // negative zero sorts and prints as zero
	}
	q.n++
	if q.dd != nil {
		q.addSketch(v)
		return
	}
	q.vals = append(q.vals, v)
	q.sorted = false
	if len(q.vals) > q.limit {
		q.toSketch()
	}
}

// Count returns the number of values added, NaN excluded. It is exact in
// both modes.
func (q *Quantiles) Count() uint64 { return q.n }

// Exact reports whether [Quantiles.Quantile] answers exactly. Once false it
// stays false.
func (q *Quantiles) Exact() bool { return q.dd == nil }

// Quantile returns the p-quantile of the values added, p in [0, 1] (the
// 95th percentile is p = 0.95). It returns (0, false) when no value was
// added or p is outside [0, 1] or NaN.
//
// Exact: with the values sorted as x[0] ≤ … ≤ x[n-1] and h = (n-1)·p, the
// result is x[⌊h⌋] + (h-⌊h⌋)·(x[⌊h⌋+1] - x[⌊h⌋]), as DuckDB's quantile_cont
// and numpy's default method. Between an infinity and a finite value it is
// the infinity; between -Inf and +Inf it is NaN.
//
// Sketched: within [QuantileRelativeAccuracy] of x[⌊h⌋] or x[⌈h⌉], as the
// package documentation details.
func (q *Quantiles) Quantile(p float64) (float64, bool) {
	if q.n == 0 || !(p >= 0 && p <= 1) {
		return 0, false
	}
	if q.dd == nil {
		if !q.sorted {
			slices.Sort(q.vals)
			q.sorted = true
		}
		return interpolate(q.vals, p), true
	}
	return q.sketchQuantile(p), true
}

// Merge adds every value of other to q, leaving other unchanged. The result
// is exact if both are exact and hold at most q's limit of values together;
// otherwise q becomes a sketch of all of them. Merging two sketches loses
// nothing beyond what each had lost: the result is the sketch that adding
// all the values to one would have made.
func (q *Quantiles) Merge(other *Quantiles) {
	if other == nil || other.n == 0 {
		return
	}
	if other == q {
		other = q.clone()
	}
	q.n += other.n
	if q.dd == nil && other.dd == nil {
		q.vals = append(q.vals, other.vals...)
		q.sorted = false
		if len(q.vals) > q.limit {
			q.toSketch()
		}
		return
	}
	if q.dd == nil {
		q.toSketch()
	}
	if other.dd == nil {
		for _, v := range other.vals {
			q.addSketch(v)
		}
		return
	}
	if err := q.dd.MergeWith(other.dd); err != nil {
		panic("sketch: merge ddsketch: " + err.Error()) // both use one mapping
	}
	q.negInf += other.negInf
	q.posInf += other.posInf
}

// clone returns a deep copy of q.
func (q *Quantiles) clone() *Quantiles {
	c := *q
	c.vals = slices.Clone(q.vals)
	if q.dd != nil {
		c.dd = q.dd.Copy()
	}
	return &c
}

// toSketch adds the kept values to a new sketch and drops them.
func (q *Quantiles) toSketch() {
	q.dd = newDD()
	for _, v := range q.vals {
		q.addSketch(v)
	}
	q.vals, q.sorted = nil, false
}

// addSketch adds a non-NaN v to the sketch state. The finite values beyond
// the mapping's range (|v| > about 1.26e308) are clamped into it.
func (q *Quantiles) addSketch(v float64) {
	switch {
	case math.IsInf(v, -1):
		q.negInf++
		return
	case math.IsInf(v, 1):
		q.posInf++
		return
	}
	top := q.dd.MaxIndexableValue()
	v = min(max(v, -top), top)
	if err := q.dd.Add(v); err != nil {
		panic("sketch: add to ddsketch: " + err.Error()) // v is finite, not NaN, and in range
	}
}

// sketchQuantile answers Quantile from the sketch state. The ranks follow
// the library's: h = p·(n-1), computed without fused multiply-add.
func (q *Quantiles) sketchQuantile(p float64) float64 {
	if q.negInf == 0 && q.posInf == 0 {
		v, err := q.dd.GetValueAtQuantile(p)
		if err != nil {
			panic("sketch: ddsketch quantile: " + err.Error()) // p is valid, the sketch not empty
		}
		return v
	}
	// The sorted values are negInf times -Inf, then the finite values in
	// the sketch, then posInf times +Inf. Answer as the exact mode does
	// for the infinities, and from the sketch at the finite rank otherwise.
	h := float64(p * float64(q.n-1))
	lo, hi := math.Floor(h), math.Ceil(h)
	neg := float64(q.negInf)
	fin := float64(q.n - q.negInf - q.posInf)
	switch {
	case lo < neg && hi >= neg+fin:
		return math.NaN() // between -Inf and +Inf
	case lo < neg:
		return math.Inf(-1)
	case hi >= neg+fin:
		return math.Inf(1)
	}
	return q.finiteAtRank(h - neg)
}

// finiteAtRank returns the sketch's value at the 0-based rank r among the
// finite values, r in [0, count-1], the way the library's
// GetValueAtQuantile does for its own rank: the negative store is ordered
// by magnitude, so its ranks are counted from the top.
func (q *Quantiles) finiteAtRank(r float64) float64 {
	negs := q.dd.GetNegativeValueStore()
	nc := negs.TotalCount()
	zeros := q.dd.GetZeroCount()
	switch {
	case r < nc:
		return -q.dd.Value(negs.KeyAtRank(nc - 1 - r))
	case r < nc+zeros:
		return 0
	default:
		return q.dd.Value(q.dd.GetPositiveValueStore().KeyAtRank(r - nc - zeros))
	}
}

// interpolate returns the p-quantile of the sorted, non-empty x by linear
// interpolation between closest ranks.
func interpolate(x []float64, p float64) float64 {
	h := float64(p * float64(len(x)-1))
	lo := math.Floor(h)
	i := int(lo)
	if i >= len(x)-1 {
		return x[len(x)-1]
	}
	return lerp(x[i], x[i+1], h-lo)
}

// lerp returns a + t·(b-a) for a ≤ b and t in [0, 1), with the limits at
// the infinities.
func lerp(a, b, t float64) float64 {
	switch {
	case t == 0 || a == b:
		return a
	case math.IsInf(a, -1) && math.IsInf(b, 1):
		return math.NaN()
	case math.IsInf(a, -1):
		return a
	case math.IsInf(b, 1):
		return b
	}
	d := b - a
	if math.IsInf(d, 1) { // both finite, but far apart: avoid Inf·t
		return a*(1-t) + b*t
	}
	return a + t*d
}

// ddBytes is about what a switched Quantiles holds: DDSketch's bins at
// QuantileRelativeAccuracy over some twelve decades of values (the store
// grows with the range of the values; this is a nominal figure).
const ddBytes = 16 << 10

// Bytes is about the memory q holds: its kept values, or its sketch once
// switched (nominally; see ddBytes).
func (q *Quantiles) Bytes() int {
	if q.dd != nil {
		return ddBytes
	}
	return 8 * cap(q.vals)
}

// Approximate switches an exact q to its sketch now, as outgrowing its
// limit would: a caller over its memory budget trades exactness for a
// bounded size ([Quantiles.Bytes]).
func (q *Quantiles) Approximate() {
	if q.dd == nil {
		q.toSketch()
	}
}
