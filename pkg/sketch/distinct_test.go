package sketch

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// value is one input to a Distinct: a string or a float.
type value struct {
	s       string
	f       float64
	isFloat bool
}

func (v value) addTo(d *Distinct) {
	if v.isFloat {
		d.AddFloat(v.f)
	} else {
		d.AddString(v.s)
	}
}

// key is the brute-force reference's notion of equality: floats by value,
// with every NaN equal; strings by content; a float never equals a string.
func (v value) key() any {
	if !v.isFloat {
		return "s" + v.s
	}
	if math.IsNaN(v.f) {
		return "nan"
	}
	return v.f // +0 == -0 as map keys
}

func strs(ss ...string) []value {
	out := make([]value, len(ss))
	for i, s := range ss {
		out[i] = value{s: s}
	}
	return out
}

func floats(fs ...float64) []value {
	out := make([]value, len(fs))
	for i, f := range fs {
		out[i] = value{f: f, isFloat: true}
	}
	return out
}

func newDistinctOf(limit int, vs ...value) *Distinct {
	d := NewDistinct(limit)
	for _, v := range vs {
		v.addTo(d)
	}
	return d
}

func refDistinct(vs []value) uint64 {
	set := make(map[any]struct{})
	for _, v := range vs {
		set[v.key()] = struct{}{}
	}
	return uint64(len(set))
}

func TestDistinct_Count_HandChecked(t *testing.T) {
	t.Parallel()
	negZero := math.Copysign(0, -1)
	tests := []struct {
		name   string
		values []value
		want   uint64
	}{
		{"empty", nil, 0},
		{"duplicates", strs("a", "b", "a", "", ""), 3},
		{"string and float differ", append(strs("1"), floats(1)...), 2},
		{"zero and negative zero", floats(0, negZero, 0), 1},
		{"NaNs are one", floats(math.NaN(), math.Float64frombits(0x7ff8000000000001), -math.NaN(), 1), 2},
		{"infinities", floats(math.Inf(1), math.Inf(-1), math.Inf(1)), 2},
	}
	for _, tt := range tests {
		d := newDistinctOf(DefaultDistinctExact, tt.values...)
		if got := d.Count(); got != tt.want || !d.Exact() {
			t.Errorf("%s: Count() = %d, Exact() = %v; want %d, true", tt.name, got, d.Exact(), tt.want)
		}
	}
}

func TestDistinct_Count_MatchesBruteForce(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		vs := make([]value, rng.IntN(300))
		for i := range vs {
			if rng.IntN(2) == 0 {
				vs[i] = value{s: strconv.Itoa(rng.IntN(100))}
			} else {
				vs[i] = value{f: float64(rng.IntN(100)), isFloat: true}
			}
		}
		d := newDistinctOf(len(vs), vs...)
		if got, want := d.Count(), refDistinct(vs); got != want || !d.Exact() {
			t.Fatalf("Count() = %d, Exact() = %v; want %d, true", got, d.Exact(), want)
		}
	}
}

func TestDistinct_AddBytes_SameAsStringAndNotRetained(t *testing.T) {
	t.Parallel()
	d := NewDistinct(10)
	buf := []byte("abc")
	d.AddBytes(buf)
	copy(buf, "xyz") // the caller reuses its buffer
	d.AddString("abc")
	if d.Count() != 1 {
		t.Fatalf(`AddBytes("abc"), AddString("abc"): Count() = %d, want 1`, d.Count())
	}
	d.AddBytes(buf)
	if d.Count() != 2 {
		t.Fatalf(`then AddBytes("xyz"): Count() = %d, want 2`, d.Count())
	}
}

func TestDistinct_AddString_KeepsOwnCopy(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 1<<20)
	d := NewDistinct(10)
	d.AddString(big[:3]) // shares big's memory
	for k := range d.strs {
		if unsafe.StringData(k) == unsafe.StringData(big) {
			t.Fatal("the kept value shares the caller's 1 MiB string, keeping it alive")
		}
	}
}

func TestDistinct_Add_SwitchesAfterLimit(t *testing.T) {
	t.Parallel()
	const limit = 10
	d := NewDistinct(limit)
	for i := range limit {
		d.AddString(strconv.Itoa(i))
	}
	for i := range limit { // duplicates never switch
		d.AddString(strconv.Itoa(i))
	}
	if !d.Exact() || d.Count() != limit {
		t.Fatalf("%d distinct values, limit %d: Count() = %d, Exact() = %v", limit, limit, d.Count(), d.Exact())
	}
	d.AddFloat(10)
	if d.Exact() {
		t.Fatalf("Exact() = true with %d distinct values, limit %d", limit+1, limit)
	}
	if d.strs != nil || d.floats != nil {
		t.Errorf("kept %d strings and %d floats after switching", len(d.strs), len(d.floats))
	}
	// At eleven values the sketch is still sparse, and as good as exact.
	if d.Count() != limit+1 {
		t.Errorf("Count() = %d, want %d", d.Count(), limit+1)
	}
	// Every later value goes to the sketch, and still counts once.
	d.AddString("0")
	d.AddFloat(10)
	d.AddString("new")
	if d.Count() != limit+2 {
		t.Errorf("after one new value: Count() = %d, want %d", d.Count(), limit+2)
	}
}

func TestDistinct_Merge(t *testing.T) {
	t.Parallel()
	// prefix_0 … prefix_{n-1}, half of them floats so both kinds merge.
	series := func(prefix string, from, n int) []value {
		var vs []value
		for i := from; i < from+n; i++ {
			if i%2 == 0 {
				vs = append(vs, value{s: prefix + strconv.Itoa(i)})
			} else {
				vs = append(vs, value{f: float64(i), isFloat: true})
			}
		}
		return vs
	}
	const limit = 10
	tests := []struct {
		name           string
		a, b           []value
		aLimit, bLimit int
		wantExact      bool
	}{
		{"exact+exact under the limit", series("k", 0, 6), series("k", 3, 7), limit, limit, true}, // union 0..9
		{"exact+exact over the limit", series("k", 0, 8), series("k", 5, 8), limit, limit, false},
		{"exact+sketch", series("k", 0, 5), series("k", 2, 3000), limit, limit, false},
		{"sketch+exact", series("k", 0, 3000), series("k", 2990, 8), limit, limit, false},
		{"sketch+sketch", series("k", 0, 30_000), series("k", 20_000, 30_000), limit, limit, false},
		{"exact+sketch from the start", series("k", 0, 3), series("k", 1, 3), limit, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newDistinctOf(tt.aLimit, tt.a...)
			b := newDistinctOf(tt.bLimit, tt.b...)
			bCount, bExact := b.Count(), b.Exact()
			a.Merge(b)

			all := append(append([]value(nil), tt.a...), tt.b...)
			if a.Exact() != tt.wantExact {
				t.Errorf("Exact() = %v, want %v", a.Exact(), tt.wantExact)
			}
			// Exact: the brute force. Sketched: the sketch of the union,
			// to the unit, since a HyperLogLog merge loses nothing.
			want := refDistinct(all)
			if !tt.wantExact {
				want = newDistinctOf(0, all...).Count()
			}
			if got := a.Count(); got != want {
				t.Errorf("Count() = %d, want %d (true count %d)", got, want, refDistinct(all))
			}
			if b.Count() != bCount || b.Exact() != bExact {
				t.Errorf("Merge changed its argument: Count %d → %d, Exact %v → %v", bCount, b.Count(), bExact, b.Exact())
			}
		})
	}
}

func TestDistinct_Merge_Self(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{100, 0} {
		d := newDistinctOf(limit, strs("a", "b", "c")...)
		d.Merge(d)
		d.Merge(nil)
		if d.Count() != 3 {
			t.Errorf("limit %d: after d.Merge(d): Count() = %d, want 3", limit, d.Count())
		}
	}
}

func TestDistinct_Count_ErrorBound(t *testing.T) {
	t.Parallel()
	const n = 1_000_000
	rng := rand.New(rand.NewPCG(3, 4))
	check := func(name string, d *Distinct) {
		t.Helper()
		if d.Exact() {
			t.Fatalf("%s: still exact at %d values", name, n)
		}
		est := d.Count()
		rel := (float64(est) - n) / n
		t.Logf("HyperLogLog p=%d, %s: estimate %d for %d, error %+.3f%% (%.2f standard errors)",
			DistinctPrecision, name, est, n, 100*rel, rel/DistinctStdError)
		if math.Abs(rel) > 3*DistinctStdError {
			t.Errorf("%s: estimate %d for %d: error %.3f%% beyond 3 standard errors (%.3f%%)",
				name, est, n, 100*rel, 300*DistinctStdError)
		}
	}

	random := NewDistinct(DefaultDistinctExact)
	for range n {
		random.AddString(strconv.FormatUint(rng.Uint64(), 36))
	}
	check("random strings", random)

	// Consecutive integers differ only in a few low mantissa bits: a
	// weak float hash would show here.
	ints := NewDistinct(DefaultDistinctExact)
	for i := range n {
		ints.AddFloat(float64(i))
	}
	check("floats 0…999999", ints)

	// The same floats in four parts, two of them still exact, merged.
	merged := NewDistinct(DefaultDistinctExact)
	for _, r := range [][2]int{{0, 50_000}, {50_000, 600_000}, {600_000, 650_000}, {650_000, n}} {
		part := NewDistinct(DefaultDistinctExact)
		for i := r[0]; i < r[1]; i++ {
			part.AddFloat(float64(i))
		}
		merged.Merge(part)
	}
	if merged.Count() != ints.Count() {
		t.Errorf("merged parts estimate %d, whole %d", merged.Count(), ints.Count())
	}
}

func TestDistinct_Count_Deterministic(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	vs := make([]value, 50_000)
	for i := range vs {
		vs[i] = value{s: strconv.Itoa(rng.IntN(40_000))}
	}
	shuffled := append([]value(nil), vs...)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, limit := range []int{0, 1000, DefaultDistinctExact} {
		a := newDistinctOf(limit, vs...).Count()
		b := newDistinctOf(limit, shuffled...).Count()
		if a != b {
			t.Errorf("limit %d: Count() %d in one order, %d in another", limit, a, b)
		}
	}
}

func BenchmarkDistinct_Add(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	words := make([]string, 1<<16)
	nums := make([]float64, 1<<16)
	for i := range words {
		words[i] = strconv.FormatUint(rng.Uint64(), 36) // 12-13 bytes
		nums[i] = rng.ExpFloat64()
	}
	for _, bc := range []struct {
		name  string
		limit int
		float bool
	}{
		{"string/exact", math.MaxInt, false},
		{"string/sketch", 0, false},
		{"float/exact", math.MaxInt, true},
		{"float/sketch", 0, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d := NewDistinct(bc.limit)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if bc.float {
					d.AddFloat(nums[i&(len(nums)-1)])
				} else {
					d.AddString(words[i&(len(words)-1)])
				}
				i++
			}
		})
	}
}
