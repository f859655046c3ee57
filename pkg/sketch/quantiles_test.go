package sketch

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// refQuantile is the brute-force reference: sort a copy, then weigh the two
// neighbours of rank h = (n-1)·p (numpy's "linear" method, written as a
// weighted mean rather than as the implementation's a + t·(b-a)).
func refQuantile(values []float64, p float64) float64 {
	x := slices.Clone(values)
	slices.Sort(x)
	return refSortedQuantile(x, p)
}

// refSortedQuantile is refQuantile for values already sorted.
func refSortedQuantile(x []float64, p float64) float64 {
	h := float64(len(x)-1) * p
	lo := int(math.Floor(h))
	hi := int(math.Ceil(h))
	w := h - float64(lo)
	return (1-w)*x[lo] + w*x[hi]
}

func closeTo(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func newQuantilesOf(limit int, values ...float64) *Quantiles {
	q := NewQuantiles(limit)
	for _, v := range values {
		q.Add(v)
	}
	return q
}

func TestQuantiles_Quantile_HandChecked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		values []float64
		p      float64
		want   float64
	}{
		{[]float64{1, 2, 3, 4}, 0.5, 2.5},
		{[]float64{1, 2, 3, 4}, 0.9, 3.7},
		{[]float64{1, 2, 3, 4}, 0.25, 1.75},
		{[]float64{1, 2, 3, 4}, 0, 1},
		{[]float64{1, 2, 3, 4}, 1, 4},
		{[]float64{4, 1, 3, 2}, 0.5, 2.5}, // unsorted input
		{[]float64{7}, 0.3, 7},
		{[]float64{-3, 0, 3}, 0.5, 0},
		{[]float64{-3, 0, 3}, 0.75, 1.5},
		{[]float64{-2, -1}, 0.5, -1.5},
		{[]float64{10, 20, 20, 20, 100}, 0.95, 84}, // h = 3.8: 20 + 0.8·80
	}
	for _, tt := range tests {
		q := newQuantilesOf(DefaultQuantileExact, tt.values...)
		got, ok := q.Quantile(tt.p)
		if !ok || !closeTo(got, tt.want, 1e-12) {
			t.Errorf("Quantile(%v) of %v = %v, %v; want %v, true", tt.p, tt.values, got, ok, tt.want)
		}
		if !q.Exact() {
			t.Errorf("%v: Exact() = false under the limit", tt.values)
		}
	}
}

func TestQuantiles_Quantile_MatchesBruteForce(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		n := 1 + rng.IntN(60)
		values := make([]float64, n)
		for i := range values {
			if rng.IntN(4) == 0 {
				values[i] = float64(rng.IntN(5) - 2) // duplicates, zero, negatives
			} else {
				values[i] = rng.NormFloat64() * 1000
			}
		}
		q := newQuantilesOf(n+1, values...) // room for the -5000 below
		for _, p := range []float64{0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1, rng.Float64()} {
			got, ok := q.Quantile(p)
			if want := refQuantile(values, p); !ok || !closeTo(got, want, 1e-9) {
				t.Fatalf("Quantile(%v) of %v = %v, %v; want %v", p, values, got, ok, want)
			}
		}
		// Adding after a query must invalidate the sorted order.
		q.Add(-5000)
		values = append(values, -5000)
		if got, _ := q.Quantile(0); got != -5000 {
			t.Fatalf("Quantile(0) after Add(-5000) = %v", got)
		}
		if got, want := q.Count(), uint64(len(values)); got != want {
			t.Fatalf("Count() = %d, want %d", got, want)
		}
	}
}

func TestQuantiles_Quantile_NoAnswer(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{0, 10} {
		q := NewQuantiles(limit)
		if v, ok := q.Quantile(0.5); ok || v != 0 {
			t.Errorf("limit %d: empty Quantile(0.5) = %v, %v; want 0, false", limit, v, ok)
		}
		q.Add(math.NaN())
		if v, ok := q.Quantile(0.5); ok || v != 0 || q.Count() != 0 {
			t.Errorf("limit %d: NaN only: Quantile(0.5) = %v, %v, Count %d; want 0, false, 0", limit, v, ok, q.Count())
		}
		q.Add(1)
		for _, p := range []float64{-0.01, 1.01, math.NaN(), math.Inf(1)} {
			if v, ok := q.Quantile(p); ok || v != 0 {
				t.Errorf("limit %d: Quantile(%v) = %v, %v; want 0, false", limit, p, v, ok)
			}
		}
	}
}

func TestQuantiles_Add_IgnoresNaNAndNormalizesNegativeZero(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{0, 10} {
		q := newQuantilesOf(limit, math.NaN(), math.Copysign(0, -1), math.NaN())
		if q.Count() != 1 {
			t.Errorf("limit %d: Count() = %d, want 1", limit, q.Count())
		}
		v, ok := q.Quantile(0.5)
		if !ok || v != 0 || math.Signbit(v) {
			t.Errorf("limit %d: Quantile(0.5) = %v (signbit %v), %v; want +0", limit, v, math.Signbit(v), ok)
		}
	}
}

func TestQuantiles_Quantile_Infinities(t *testing.T) {
	t.Parallel()
	inf := math.Inf(1)
	values := []float64{-inf, 1, 2, 3, inf} // h = 4p
	tests := []struct {
		p          float64
		want       float64 // exact
		sketchNear float64 // NaN: the sketch must return want itself
	}{
		{0, -inf, math.NaN()},
		{0.2, -inf, math.NaN()}, // between -Inf and 1
		{0.25, 1, 1},
		{0.5, 2, 2},
		{0.625, 2.5, 2}, // h = 2.5: 2.5 exact, x[2] = 2 for the sketch
		{0.75, 3, 3},
		{0.8, inf, math.NaN()}, // between 3 and +Inf
		{1, inf, math.NaN()},
	}
	for _, limit := range []int{10, 0} {
		q := newQuantilesOf(limit, values...)
		for _, tt := range tests {
			got, ok := q.Quantile(tt.p)
			switch {
			case !ok:
				t.Errorf("limit %d: Quantile(%v) not ok", limit, tt.p)
			case limit > 0 || math.IsNaN(tt.sketchNear):
				if got != tt.want {
					t.Errorf("limit %d: Quantile(%v) = %v, want %v", limit, tt.p, got, tt.want)
				}
			case math.Abs(got-tt.sketchNear) > QuantileRelativeAccuracy*tt.sketchNear:
				t.Errorf("limit %d: Quantile(%v) = %v, want within 1%% of %v", limit, tt.p, got, tt.sketchNear)
			}
		}
		both := newQuantilesOf(limit, -inf, inf)
		if got, _ := both.Quantile(0.5); !math.IsNaN(got) {
			t.Errorf("limit %d: median of -Inf, +Inf = %v, want NaN", limit, got)
		}
	}
}

func TestQuantiles_Add_SwitchesAfterLimit(t *testing.T) {
	t.Parallel()
	const limit = 10
	q := NewQuantiles(limit)
	for i := range limit {
		q.Add(float64(i + 1)) // 1..10
	}
	if !q.Exact() {
		t.Fatalf("Exact() = false with %d values, limit %d", limit, limit)
	}
	if got, _ := q.Quantile(0.5); got != 5.5 {
		t.Fatalf("exact median of 1..10 = %v, want 5.5", got)
	}
	q.Add(11)
	if q.Exact() {
		t.Fatalf("Exact() = true with %d values, limit %d", limit+1, limit)
	}
	if q.vals != nil {
		t.Errorf("kept %d values after switching", len(q.vals))
	}
	if q.Count() != limit+1 {
		t.Errorf("Count() = %d, want %d", q.Count(), limit+1)
	}
	// 1..11: h = 5 at p = 0.5, so the sketch answers x[5] = 6 within 1%.
	if got, _ := q.Quantile(0.5); math.Abs(got-6) > 0.06 {
		t.Errorf("sketched median of 1..11 = %v, want 6 ± 1%%", got)
	}
}

func TestQuantiles_Add_ClampsHugeFiniteValues(t *testing.T) {
	t.Parallel()
	q := newQuantilesOf(0, math.MaxFloat64, -math.MaxFloat64, 5e-324, 1)
	if q.Count() != 4 {
		t.Fatalf("Count() = %d, want 4", q.Count())
	}
	hi, _ := q.Quantile(1)
	lo, _ := q.Quantile(0)
	if !(hi > 1e308 && !math.IsInf(hi, 0) && lo < -1e308 && !math.IsInf(lo, 0)) {
		t.Errorf("extremes of ±MaxFloat64 = %v, %v; want finite beyond ±1e308", lo, hi)
	}
	if got, _ := q.Quantile(1.0 / 3); got != 0 { // the subnormal lands in the zero bin
		t.Errorf("Quantile(1/3) = %v, want 0 for 5e-324", got)
	}
}

// quantileGrid returns the answers of q at p = 0, 0.01, …, 1.
func quantileGrid(t *testing.T, q *Quantiles) []float64 {
	t.Helper()
	out := make([]float64, 0, 101)
	for i := range 101 {
		v, ok := q.Quantile(float64(i) / 100)
		if !ok {
			t.Fatalf("Quantile(%v) not ok", float64(i)/100)
		}
		out = append(out, v)
	}
	return out
}

func sameFloats(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool {
		return math.Float64bits(x) == math.Float64bits(y)
	})
}

func TestQuantiles_Merge(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	part := func(n int) []float64 {
		vs := make([]float64, n)
		for i := range vs {
			vs[i] = math.Round(rng.NormFloat64()*100) / 4
		}
		return vs
	}
	const limit = 10
	tests := []struct {
		name      string
		a, b      []float64
		aLimit    int // the limit of a's and b's own Quantiles
		bLimit    int
		wantExact bool
	}{
		{"exact+exact under the limit", part(4), part(6), limit, limit, true},
		{"exact+exact over the limit", part(6), part(6), limit, limit, false},
		{"exact+sketch", part(5), part(30), limit, limit, false},
		{"sketch+exact", part(30), part(5), limit, limit, false},
		{"sketch+sketch", part(30), part(40), limit, limit, false},
		{"exact+sketch from the start", part(3), part(3), limit, 0, false},
		{"sketch+sketch with infinities", append(part(20), math.Inf(-1), math.Inf(1)), append(part(20), math.Inf(-1), math.Inf(-1)), limit, limit, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newQuantilesOf(tt.aLimit, tt.a...)
			b := newQuantilesOf(tt.bLimit, tt.b...)
			bBefore := quantileGrid(t, b)
			bExact := b.Exact()
			a.Merge(b)

			all := append(slices.Clone(tt.a), tt.b...)
			if a.Count() != uint64(len(all)) {
				t.Errorf("Count() = %d, want %d", a.Count(), len(all))
			}
			if a.Exact() != tt.wantExact {
				t.Errorf("Exact() = %v, want %v", a.Exact(), tt.wantExact)
			}
			// The merge must answer as one Quantiles fed every value: the
			// brute force when exact, the sketch of the union bit for bit
			// when not.
			got := quantileGrid(t, a)
			if tt.wantExact {
				for i, v := range got {
					if want := refQuantile(all, float64(i)/100); !closeTo(v, want, 1e-9) {
						t.Errorf("Quantile(%v) = %v, want %v", float64(i)/100, v, want)
					}
				}
			} else if want := quantileGrid(t, newQuantilesOf(0, all...)); !sameFloats(got, want) {
				t.Errorf("merged quantiles differ from the sketch of the union:\n got %v\nwant %v", got, want)
			}
			if b.Count() != uint64(len(tt.b)) || b.Exact() != bExact || !sameFloats(quantileGrid(t, b), bBefore) {
				t.Errorf("Merge changed its argument")
			}
		})
	}
}

func TestQuantiles_Merge_Self(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{100, 0} {
		q := newQuantilesOf(limit, 1, 2, 3, 4)
		q.Merge(q)
		want := newQuantilesOf(limit, 1, 2, 3, 4, 1, 2, 3, 4)
		if q.Count() != 8 || !sameFloats(quantileGrid(t, q), quantileGrid(t, want)) {
			t.Errorf("limit %d: q.Merge(q) is not the values twice: count %d", limit, q.Count())
		}
	}
}

// skewed returns n values like request durations in seconds (log-normal,
// median 50 ms, a long tail), a tenth of them negated and one in a hundred
// zero, so all three of the sketch's stores are exercised.
func skewed(rng *rand.Rand, n int) []float64 {
	vs := make([]float64, n)
	for i := range vs {
		v := math.Exp(math.Log(0.05) + 1.5*rng.NormFloat64())
		switch r := rng.IntN(100); {
		case r == 0:
			v = 0
		case r < 11:
			v = -v
		}
		vs[i] = v
	}
	return vs
}

func TestQuantiles_Quantile_ErrorBound(t *testing.T) {
	t.Parallel()
	const n = 1_000_000
	values := skewed(rand.New(rand.NewPCG(5, 6)), n)

	whole := newQuantilesOf(DefaultQuantileExact, values...)
	// The same values through four partial aggregates, as the engine
	// merges segments: two sketched, one exact, one sketched late.
	parts := []*Quantiles{
		newQuantilesOf(DefaultQuantileExact, values[:400_000]...),
		newQuantilesOf(DefaultQuantileExact, values[400_000:450_000]...),
		newQuantilesOf(DefaultQuantileExact, values[450_000:900_000]...),
		newQuantilesOf(DefaultQuantileExact, values[900_000:]...),
	}
	merged := NewQuantiles(DefaultQuantileExact)
	for _, p := range parts {
		merged.Merge(p)
	}
	if whole.Exact() || merged.Exact() || whole.Count() != n || merged.Count() != n {
		t.Fatalf("whole: exact %v count %d; merged: exact %v count %d", whole.Exact(), whole.Count(), merged.Exact(), merged.Count())
	}

	x := slices.Clone(values)
	slices.Sort(x)
	// The library computes in floating point (log, exp); allow rounding
	// on top of α.
	bound := QuantileRelativeAccuracy * (1 + 1e-9)
	var worstRank, worstExact float64
	ps := make([]float64, 0, 110)
	for i := range 101 {
		ps = append(ps, float64(i)/100)
	}
	ps = append(ps, 0.001, 0.005, 0.095, 0.105, 0.111, 0.995, 0.999, 0.9999)
	for _, p := range ps {
		h := float64(n-1) * p
		lo, hi := x[int(math.Floor(h))], x[int(math.Ceil(h))]
		relErr := func(v, xk float64) float64 {
			if xk == 0 {
				if v == 0 {
					return 0
				}
				return math.Inf(1)
			}
			return math.Abs(v-xk) / math.Abs(xk)
		}
		v, _ := whole.Quantile(p)
		if mv, _ := merged.Quantile(p); math.Float64bits(mv) != math.Float64bits(v) {
			t.Errorf("Quantile(%v): merged %v, whole %v", p, mv, v)
		}
		e := min(relErr(v, lo), relErr(v, hi))
		if e > bound {
			t.Errorf("Quantile(%v) = %v: %.4f%% from x[⌊h⌋] = %v and x[⌈h⌉] = %v, bound %.2f%%", p, v, 100*e, lo, hi, 100*QuantileRelativeAccuracy)
		}
		worstRank = max(worstRank, e)
		if exact := refSortedQuantile(x, p); exact != 0 {
			worstExact = max(worstExact, relErr(v, exact))
		}
	}
	t.Logf("DDSketch α=%.2f, n=%d, %d quantiles: worst relative error %.4f%% vs x[⌊h⌋] or x[⌈h⌉], %.4f%% vs the interpolated exact answer",
		QuantileRelativeAccuracy, n, len(ps), 100*worstRank, 100*worstExact)
}

func TestQuantiles_Quantile_Deterministic(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	values := skewed(rng, 5000)
	shuffled := slices.Clone(values)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, limit := range []int{0, 100, len(values)} {
		a := quantileGrid(t, newQuantilesOf(limit, values...))
		b := quantileGrid(t, newQuantilesOf(limit, shuffled...))
		if !sameFloats(a, b) {
			t.Errorf("limit %d: answers depend on insertion order", limit)
		}
	}
}

// The rank walk used when infinities are present must agree with the
// library's own GetValueAtQuantile, which answers when they are not.
func TestQuantiles_finiteAtRank_MatchesLibrary(t *testing.T) {
	t.Parallel()
	q := newQuantilesOf(0, skewed(rand.New(rand.NewPCG(9, 10)), 20_000)...)
	for i := range 1001 {
		p := float64(i) / 1000
		want, err := q.dd.GetValueAtQuantile(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := q.finiteAtRank(float64(p * float64(q.n-1))); got != want {
			t.Fatalf("p=%v: finiteAtRank = %v, library = %v", p, got, want)
		}
	}
}

func BenchmarkQuantiles_Add(b *testing.B) {
	values := skewed(rand.New(rand.NewPCG(11, 12)), 1<<16)
	for _, bc := range []struct {
		name  string
		limit int
	}{{"exact", DefaultQuantileExact}, {"sketch", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			q := NewQuantiles(bc.limit)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if bc.limit > 0 && q.Count() == uint64(bc.limit) {
					q = NewQuantiles(bc.limit) // a new group: exact state never outgrows its limit
				}
				q.Add(values[i&(len(values)-1)])
				i++
			}
		})
	}
}
