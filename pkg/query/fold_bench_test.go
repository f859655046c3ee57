package query

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkContainsIgnoreCase times one case-insensitive Contains of a
// 4 KiB needle over 9 MB of text (issue 13, finding 5), next to the
// case-sensitive search of the same needle:
//   - repeats: the text is one letter repeated and the needle is that
//     letter 4,095 times and another, so that every offset of the text
//     starts a partial match 4,095 bytes long;
//   - json: JSON events like the analytics data set's, the needle a
//     short word that is not there.
func BenchmarkContainsIgnoreCase(b *testing.B) {
	const size = 9 << 20
	var js strings.Builder
	for i := 0; js.Len() < size; i++ {
		fmt.Fprintf(&js, `{"user":{"id":%d,"plan":"pro"},"page":"/docs/%d","ref":"direct","session":"%016x"}`, i, i%500, i*7919)
	}
	for _, tc := range []struct {
		name, h, needle string
	}{
		{"repeats", strings.Repeat("a", size), strings.Repeat("A", 4095) + "B"},
		{"json", js.String(), "Needle"},
	} {
		n := newFoldNeedle(tc.needle)
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.h)))
			cpu := cpuTime()
			for b.Loop() {
				if n.in(tc.h) {
					b.Fatal("found")
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
		lower := strings.ToLower(tc.needle)
		b.Run(tc.name+"/case-sensitive", func(b *testing.B) {
			b.SetBytes(int64(len(tc.h)))
			cpu := cpuTime()
			for b.Loop() {
				if strings.Contains(tc.h, lower) {
					b.Fatal("found")
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}
