package sketch

import (
	"math"
	"strings"

	"github.com/axiomhq/hyperloglog"
)

// DefaultDistinctExact is the number of distinct values a [Distinct] made
// with it counts exactly before it switches to a HyperLogLog sketch.
const DefaultDistinctExact = 100_000

// DistinctPrecision is the HyperLogLog precision p of a [Distinct] that has
// switched to its sketch: the sketch has 2^p one-byte registers (16 KiB).
const DistinctPrecision = 14

// DistinctStdError is the relative standard error of a switched
// [Distinct]'s count, 1.04/√(2^[DistinctPrecision]) ≈ 0.81%.
const DistinctStdError = 0.008125

// Distinct counts the distinct values added to it: exactly while there are
// at most its limit of them, approximately (HyperLogLog) once there are more.
// The package documentation states the bounds.
//
// Values of different kinds are never equal: the string "1" and the float 1
// are two values. A string and a byte slice with the same bytes are one.
//
// Make one with [NewDistinct]; the zero value is not usable. A Distinct is
// not safe for concurrent use, and that includes [Distinct.Count]: the
// sketch compacts itself when it estimates.
type Distinct struct {
	limit int

	// Exact state, nil once switched. The values themselves are kept, not
	// hashes, so exact counts cannot suffer collisions.
	strs   map[string]struct{}
	floats map[uint64]struct{} // canonical bits, see floatBits

	// hll is nil until the set outgrows limit; from then on it holds every
	// value and the maps are gone.
	hll *hyperloglog.Sketch

	// bytes is about what the exact values hold (see Bytes).
	bytes int
}

// exactStringBytes and exactFloatBytes are about what one exact value
// costs besides a string's bytes: its map entry and string header.
const (
	exactStringBytes = 40
	exactFloatBytes  = 16
)

// hllBytes is what a switched Distinct holds: its registers.
const hllBytes = 1 << DistinctPrecision

// NewDistinct returns an empty [Distinct] that counts exactly up to
// exactLimit distinct values (use [DefaultDistinctExact] unless there is a
// reason not to). With exactLimit 0 it estimates from the first value; a
// negative exactLimit is treated as 0.
func NewDistinct(exactLimit int) *Distinct {
	d := &Distinct{limit: max(exactLimit, 0)}
	if d.limit == 0 {
		d.hll = newHLL()
		return d
	}
	d.strs = make(map[string]struct{})
	d.floats = make(map[uint64]struct{})
	return d
}

func newHLL() *hyperloglog.Sketch {
	sk, err := hyperloglog.NewSketch(DistinctPrecision, true)
	if err != nil {
		panic("sketch: hyperloglog precision: " + err.Error()) // the precision is a valid constant
	}
	return sk
}

// AddString adds s. Distinct keeps its own copy, so s may share memory with
// a larger buffer without keeping that buffer alive.
func (d *Distinct) AddString(s string) {
	if d.hll != nil {
		d.hll.Insert([]byte(s))
		return
	}
	if _, ok := d.strs[s]; ok {
		return
	}
	d.strs[strings.Clone(s)] = struct{}{}
	d.bytes += len(s) + exactStringBytes
	d.maybeSwitch()
}

// AddBytes adds the bytes of b as a string value; b is not retained.
func (d *Distinct) AddBytes(b []byte) {
	if d.hll != nil {
		d.hll.Insert(b)
		return
	}
	if _, ok := d.strs[string(b)]; ok {
		return
	}
	d.strs[string(b)] = struct{}{}
	d.bytes += len(b) + exactStringBytes
	d.maybeSwitch()
}

// AddFloat adds f. Zero and negative zero are one value, and so are all
// NaNs (as SQL engines that order NaN, such as DuckDB, treat them).
func (d *Distinct) AddFloat(f float64) {
	bits := floatBits(f)
	if d.hll != nil {
		d.hll.InsertHash(mix64(bits))
		return
	}
	if _, ok := d.floats[bits]; ok {
		return
	}
	d.floats[bits] = struct{}{}
	d.bytes += exactFloatBytes
	d.maybeSwitch()
}

// Count returns the number of distinct values added: exact while
// [Distinct.Exact] holds, an estimate afterwards.
func (d *Distinct) Count() uint64 {
	if d.hll != nil {
		return d.hll.Estimate()
	}
	return uint64(len(d.strs) + len(d.floats))
}

// Exact reports whether [Distinct.Count] is exact. Once false it stays false.
func (d *Distinct) Exact() bool { return d.hll == nil }

// Merge adds every value of other to d, leaving other unchanged. The result
// is exact if both are exact and the union has at most d's limit of values;
// otherwise d becomes a sketch of the union. Merging two sketches loses
// nothing: the result is the sketch the union of the values would have made.
func (d *Distinct) Merge(other *Distinct) {
	if other == nil || other == d {
		return
	}
	if d.hll == nil && other.hll != nil {
		d.toSketch()
	}
	if d.hll != nil {
		if other.hll != nil {
			if err := d.hll.Merge(other.hll); err != nil {
				panic("sketch: merge hyperloglog: " + err.Error()) // both have DistinctPrecision
			}
			return
		}
		for s := range other.strs {
			d.hll.Insert([]byte(s))
		}
		for bits := range other.floats {
			d.hll.InsertHash(mix64(bits))
		}
		return
	}
	// Both exact. The values from other are already private copies, and
	// map keys are immutable, so sharing them is safe.
	for s := range other.strs {
		if _, ok := d.strs[s]; !ok {
			d.strs[s] = struct{}{}
			d.bytes += len(s) + exactStringBytes
		}
	}
	for bits := range other.floats {
		if _, ok := d.floats[bits]; !ok {
			d.floats[bits] = struct{}{}
			d.bytes += exactFloatBytes
		}
	}
	d.maybeSwitch()
}

// Bytes is about the memory d holds: its exact values, or its sketch's
// registers once switched. It is what a caller that bounds the memory of
// many Distincts counts.
func (d *Distinct) Bytes() int {
	if d.hll != nil {
		return hllBytes
	}
	return d.bytes
}

// Approximate switches an exact d to its sketch now, as outgrowing its
// limit would: a caller over its memory budget trades exactness for a
// bounded size ([Distinct.Bytes]).
func (d *Distinct) Approximate() {
	if d.hll == nil {
		d.toSketch()
	}
}

// maybeSwitch moves an exact d that has outgrown its limit to a sketch.
func (d *Distinct) maybeSwitch() {
	if len(d.strs)+len(d.floats) > d.limit {
		d.toSketch()
	}
}

// toSketch inserts the exact values into a new sketch and drops them.
func (d *Distinct) toSketch() {
	d.hll = newHLL()
	for s := range d.strs {
		d.hll.Insert([]byte(s))
	}
	for bits := range d.floats {
		d.hll.InsertHash(mix64(bits))
	}
	d.strs, d.floats, d.bytes = nil, nil, 0
}

// floatBits returns the bits that stand for f: every NaN maps to one NaN
// and negative zero to zero, so values that compare equal count once.
func floatBits(f float64) uint64 {
	switch {
	case math.IsNaN(f):
		return math.Float64bits(math.NaN())
	case f == 0:
		return 0
	}
	return math.Float64bits(f)
}

// mix64 is the 64-bit finalizer of MurmurHash3 (fmix64): a bijection on
// uint64 whose output bits each depend on every input bit, so it turns
// float bits, which cluster in their high bits, into the uniform hash that
// HyperLogLog needs. Strings go through the library's own hash (MetroHash64)
// instead; a float and a string thus collide only by a 2^-64 chance.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
