package pagecodec

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// This file holds the bit-packed encodings every page decoder shares: the
// RLE/bit-packed hybrid of levels and dictionary indices, and the
// miniblocks of DELTA_BINARY_PACKED.

// decodeHybrid decodes n values of bit width w (at most 32) from
// RLE/bit-packed hybrid data (levels, dictionary indices) into out.
func decodeHybrid[T int16 | int32](data []byte, w, n int, out []T) ([]T, error) {
	out = out[:0]
	if w > 32 {
		return nil, fmt.Errorf("hybrid bit width %d", w)
	}
	bytesPerRun := (w + 7) / 8
	for len(out) < n {
		h, k := binary.Uvarint(data)
		if k <= 0 {
			return nil, fmt.Errorf("hybrid data ends after %d of %d values", len(out), n)
		}
		data = data[k:]
		if h&1 == 0 { // a run of one value
			count := h >> 1
			if len(data) < bytesPerRun || count > uint64(n-len(out)) {
				return nil, fmt.Errorf("bad run of %d", count)
			}
			v := T(0)
			for i := range bytesPerRun {
				v |= T(data[i]) << (8 * i)
			}
			data = data[bytesPerRun:]
			for range count {
				out = append(out, v)
			}
			continue
		}
		groups := h >> 1 // bit-packed groups of 8
		if groups > uint64(len(data)) {
			return nil, fmt.Errorf("bit-packed run of %d groups past the end", groups)
		}
		count := int(groups) * 8
		size := count * w / 8
		if len(data) < size {
			return nil, fmt.Errorf("bit-packed run of %d bytes past the end", size)
		}
		m := min(count, n-len(out))
		base := len(out)
		out = slices.Grow(out, m)[:base+m]
		unpackSmall(data[:size], w, out[base:])
		data = data[size:]
	}
	return out, nil
}

// unpackDeltas appends m values of a miniblock of width w to *out, each the
// previous one plus minDelta plus its packed delta (wrapping, as the
// format says), and returns the last.
func unpackDeltas(data []byte, w, m int, last, minDelta int64, out *[]int64) int64 {
	o := *out
	if w == 0 {
		for range m {
			last += minDelta
			o = append(o, last)
		}
		*out = o
		return last
	}
	mask := uint64(1)<<w - 1
	if w == 64 {
		mask = ^uint64(0)
	}
	i := 0
	if w <= 56 { // one 64-bit load holds a value at any bit offset
		for ; i < m; i++ {
			p := i * w
			b := p >> 3
			if b+8 > len(data) {
				break
			}
			last += minDelta + int64(binary.LittleEndian.Uint64(data[b:])>>(p&7)&mask)
			o = append(o, last)
		}
	}
	for ; i < m; i++ {
		last += minDelta + int64(unpack(data, i*w, w)&mask)
		o = append(o, last)
	}
	*out = o
	return last
}

// unpackSmall fills out with consecutive values of width w (at most 32)
// bit-packed LSB first in data.
func unpackSmall[T int16 | int32](data []byte, w int, out []T) {
	mask := uint64(1)<<w - 1
	i := 0
	for ; i < len(out); i++ {
		p := i * w
		b := p >> 3
		if b+8 > len(data) {
			break
		}
		out[i] = T(binary.LittleEndian.Uint64(data[b:]) >> (p & 7) & mask)
	}
	for ; i < len(out); i++ {
		out[i] = T(unpack(data, i*w, w) & mask)
	}
}

// unpack returns the bits of data from bit p on (LSB first), at least w of
// them in the low bits; the caller masks.
func unpack(data []byte, p, w int) uint64 {
	i, s := p>>3, uint(p&7)
	if i+9 <= len(data) {
		v := binary.LittleEndian.Uint64(data[i:]) >> s
		if int(s)+w > 64 {
			v |= uint64(data[i+8]) << (64 - s)
		}
		return v
	}
	var v uint64
	for j := 0; j < 9 && i+j < len(data); j++ {
		b := uint64(data[i+j])
		if j == 0 {
			v = b >> s
		} else {
			v |= b << (uint(8*j) - s)
		}
	}
	return v
}
