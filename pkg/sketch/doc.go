// Package sketch holds the state of the query engine's two approximate
// aggregates: [Distinct] counts distinct values, [Quantiles] answers
// percentiles. Each is exact on small inputs and switches, once and for
// good, to a well-known sketch from a maintained library when its input
// outgrows a limit set at construction. Both merge, so partial aggregates
// from segments, row groups and the hot tier combine into one.
//
// # Distinct
//
// Exact while at most [DefaultDistinctExact] (100,000) distinct values were
// added: the values themselves are kept (strings copied, floats as their
// bits), so an exact count has no hash collisions. Adding the 100,001st
// distinct value moves them all into a HyperLogLog sketch
// (github.com/axiomhq/hyperloglog: LogLog-Beta estimator, precision
// p = [DistinctPrecision] = 14, 2^14 one-byte registers, 16 KiB) and drops
// them. Strings and byte slices are hashed with the library's MetroHash64;
// floats with MurmurHash3's 64-bit finalizer over their bits, after every
// NaN is made one NaN and -0 is made 0.
//
// The estimate's relative standard error is 1.04/√(2^14) ≈ 0.81%
// ([DistinctStdError]): about 68% of estimates lie within 0.81% of the true
// count, 95% within 1.6%, 99.7% within 2.4%. The tests check a million
// random strings, and a million consecutive integers as floats, against
// three standard errors. The estimate depends only on the set of values,
// not on their order nor on how they were split between merged parts.
//
// # Quantiles
//
// Exact while at most [DefaultQuantileExact] (100,000) values were added
// (800 KB of float64s). With them sorted as x[0] ≤ … ≤ x[n-1] and
// h = (n-1)·p, the p-quantile is
//
//	x[⌊h⌋] + (h-⌊h⌋)·(x[⌊h⌋+1] - x[⌊h⌋])
//
// linear interpolation between closest ranks, the definition of DuckDB's
// quantile_cont and numpy's default method: the median of 1, 2, 3, 4 is
// 2.5 and its 0.9-quantile 3.7.
//
// Adding the 100,001st value moves them all into a DDSketch
// (github.com/DataDog/sketches-go, NewDefaultDDSketch: logarithmic mapping
// with relative accuracy α = [QuantileRelativeAccuracy] = 0.01, unbounded
// stores for positive and for negative values and a count of zeros, so no
// bin is ever collapsed) and drops them. From then on Quantile(p) returns a
// value v such that
//
//	|v - x[k]| ≤ 0.01·|x[k]|   for k = ⌊h⌋ or k = ⌈h⌉
//
// where x is the sorted input and h = (n-1)·p as above: v is within 1% of
// an input value whose rank is the requested rank rounded down or up. The
// library does not interpolate; it takes k = ⌈h⌉ when x[⌈h⌉] is negative
// and k = ⌊h⌋ otherwise. Hence v is within 1% of the interval between
// x[⌊h⌋] and x[⌈h⌉], which holds the exact answer; it need not be within
// 1% of the exact answer itself when those two neighbours are far apart
// (the tests measure 1.34% at p = 0.11, just past the zeros, where the
// neighbours are 1.4% apart). The bound holds for
// |x[k]| between 2.3e-308 and 1.25e308: smaller magnitudes are answered as
// 0, and larger finite ones are clamped to about 1.26e308. The tests check
// it at 109 quantiles (every percentile and some in the tails) of a
// million skewed values: log-normal durations, a tenth of them negated,
// one in a hundred zero. The answers depend only on the multiset of
// values, not on their order nor on how they were split between merged
// parts.
//
// NaN is ignored by Quantiles (not counted, never returned) and is one
// value for Distinct. ±Inf are counted exactly in both modes; an
// interpolation between an infinity and a finite value yields the
// infinity, and between -Inf and +Inf NaN.
//
// # Memory and concurrency
//
// An exact Distinct holds its distinct values, an exact Quantiles its
// values; both drop them when they switch. Neither type is safe for
// concurrent use, not even for reads: [Distinct.Count] lets the
// HyperLogLog compact itself and [Quantiles.Quantile] sorts in place.
package sketch
