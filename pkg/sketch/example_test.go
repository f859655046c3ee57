package sketch_test

import (
	"fmt"

	"github.com/silt-io/silt/pkg/sketch"
)

func ExampleQuantiles() {
	q := sketch.NewQuantiles(sketch.DefaultQuantileExact)
	for _, v := range []float64{1, 2, 3, 4} {
		q.Add(v)
	}
	median, _ := q.Quantile(0.5)
	p90, _ := q.Quantile(0.9)
	fmt.Printf("median %.1f, p90 %.1f, exact %v\n", median, p90, q.Exact())
	// Output: median 2.5, p90 3.7, exact true
}

func ExampleDistinct() {
	a := sketch.NewDistinct(sketch.DefaultDistinctExact)
	a.AddString("GET")
	a.AddString("PUT")
	b := sketch.NewDistinct(sketch.DefaultDistinctExact)
	b.AddString("GET")
	b.AddString("POST")
	a.Merge(b)
	fmt.Println(a.Count(), a.Exact())
	// Output: 3 true
}
