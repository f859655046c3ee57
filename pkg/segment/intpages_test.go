package segment

import (
	"math/rand/v2"
	"testing"
)

// TestUnpack_EveryWidth checks the bit unpacking of delta miniblocks and
// levels against reading the bits one by one, for every width and every
// bit offset, up to the last byte of the data.
func TestUnpack_EveryWidth(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(1, 2))
	for w := 1; w <= 64; w++ {
		data := make([]byte, 32*w/8) // one miniblock of 32 values, as the writer pads it
		for i := range data {
			data[i] = byte(rnd.Uint32())
		}
		mask := ^uint64(0)
		if w < 64 {
			mask = uint64(1)<<w - 1
		}
		for i := range 32 {
			var want uint64
			for b := range w {
				p := i*w + b
				want |= uint64(data[p>>3]>>(p&7)&1) << b
			}
			if got := unpack(data, i*w, w) & mask; got != want {
				t.Fatalf("width %d, value %d: unpacked %#x, want %#x", w, i, got, want)
			}
		}
	}
}

// TestDecodeDelta_RejectsDamage checks that a damaged DELTA_BINARY_PACKED
// page gives an error, not a panic or made-up values.
func TestDecodeDelta_RejectsDamage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		data []byte
		n    int
	}{
		{"empty", nil, 1},
		{"count differs", []byte{128, 1, 4, 5, 0}, 4},
		{"block not a multiple of 128", []byte{100, 4, 2, 0}, 2},
		{"miniblock past the end", []byte{128, 1, 4, 3, 0, 0, 8, 8, 8, 8}, 3},
		{"width over 64", []byte{128, 1, 4, 3, 0, 0, 65, 0, 0, 0}, 3},
	} {
		if _, err := decodeDelta(tc.data, tc.n, nil); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
