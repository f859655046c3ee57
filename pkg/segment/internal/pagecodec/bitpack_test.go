package pagecodec

import (
	"encoding/binary"
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
		want := make([]uint64, 32)
		for i := range want {
			for b := range w {
				p := i*w + b
				want[i] |= uint64(data[p>>3]>>(p&7)&1) << b
			}
			if got := unpack(data, i*w, w) & mask; got != want[i] {
				t.Fatalf("width %d, value %d: unpacked %#x, want %#x", w, i, got, want[i])
			}
		}
		// A miniblock: each value is the last plus minDelta plus its bits.
		var deltas []int64
		last := unpackDeltas(data, w, 32, 7, -3, &deltas)
		sum := int64(7)
		for i, d := range deltas {
			sum += -3 + int64(want[i])
			if d != sum {
				t.Fatalf("width %d, delta %d: value %d, want %d", w, i, d, sum)
			}
		}
		if last != sum {
			t.Fatalf("width %d: last %d, want %d", w, last, sum)
		}
		if w <= 32 {
			got := make([]int32, 32)
			unpackSmall(data, w, got)
			for i, g := range got {
				if uint32(g) != uint32(want[i]) {
					t.Fatalf("width %d, index %d: unpacked %#x, want %#x", w, i, g, want[i])
				}
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
		// More miniblocks than values in a block; 2^63 of them once
		// overflowed an int and panicked.
		{"miniblocks over the block size", []byte{128, 1, 129, 1, 2, 0, 0, 1, 2, 3}, 2},
		{"2^63 miniblocks", append(binary.AppendUvarint([]byte{128, 1}, 1<<63), 2, 0, 0, 1, 2, 3), 2},
	} {
		if _, err := decodeDelta(tc.data, tc.n, nil); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
