package sketch

import (
	"fmt"
	"testing"
)

// TestBytes_GrowWithExactValuesAndShrinkWhenApproximated: Bytes counts what
// exact state holds, and Approximate bounds it without losing the count's
// order of magnitude.
func TestBytes_GrowWithExactValuesAndShrinkWhenApproximated(t *testing.T) {
	t.Parallel()
	d := NewDistinct(DefaultDistinctExact)
	q := NewQuantiles(DefaultQuantileExact)
	for i := range 50_000 {
		d.AddString(fmt.Sprintf("a-value-of-some-length-%d", i))
		d.AddString(fmt.Sprintf("a-value-of-some-length-%d", i)) // twice is once
		q.Add(float64(i))
	}
	if b := d.Bytes(); b < 50_000*24 {
		t.Errorf("distinct of 50,000 strings of 24+ bytes holds %d bytes", b)
	}
	if b := q.Bytes(); b < 50_000*8 {
		t.Errorf("quantiles of 50,000 values hold %d bytes", b)
	}
	other := NewDistinct(DefaultDistinctExact)
	other.AddFloat(1)
	before := d.Bytes()
	d.Merge(other)
	if d.Bytes() != before+exactFloatBytes {
		t.Errorf("merging one new value: %d bytes, want %d", d.Bytes(), before+exactFloatBytes)
	}
	d.Approximate()
	q.Approximate()
	if d.Exact() || q.Exact() || d.Bytes() > hllBytes || q.Bytes() > ddBytes {
		t.Fatalf("approximated: exact %v %v, bytes %d %d", d.Exact(), q.Exact(), d.Bytes(), q.Bytes())
	}
	if n := d.Count(); n < 49_000 || n > 51_500 {
		t.Errorf("approximate distinct count %d, want about 50,001", n)
	}
	if v, _ := q.Quantile(0.5); v < 24_000 || v > 26_000 {
		t.Errorf("approximate median %v, want about 25,000", v)
	}
}
