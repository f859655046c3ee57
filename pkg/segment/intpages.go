package segment

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// This file decodes the values of INT64 column chunks (seq, time,
// ingest_time) for pages, and the bit-packed encodings every page decoder
// shares. arrow-go v18.4.1 unpacks DELTA_BINARY_PACKED values one at a
// time through a bit reader, which made the time column a third of the CPU
// of a query grouping by type; here a miniblock is unpacked in one loop of
// 64-bit loads.

// int64Values decodes the values of an INT64 chunk whose data pages are
// PLAIN or DELTA_BINARY_PACKED, for pages.
type int64Values struct{}

// int64PagesReadable reports whether pages[int64] can read leaf's chunk in
// rgr: whether its data pages are version 1 and every encoding it lists is
// one int64Values decodes (no dictionary).
func int64PagesReadable(rgr *file.RowGroupReader, leaf int) bool {
	decodes := func(e parquet.Encoding) bool {
		return e == parquet.Encodings.Plain || e == parquet.Encodings.DeltaBinaryPacked
	}
	if !version1Only(rgr, leaf, decodes) {
		return false
	}
	cc, err := rgr.MetaData().ColumnChunk(leaf)
	if err != nil {
		return false
	}
	for _, e := range cc.Encodings() {
		if !decodes(e) && e != parquet.Encodings.RLE { // RLE: the levels
			return false
		}
	}
	return true
}

func (int64Values) reset() {}

func (int64Values) dictionary(file.Page) error {
	return fmt.Errorf("an INT64 chunk read without its dictionary")
}

func (int64Values) values(e parquet.Encoding, data []byte, nv int, out []int64) ([]int64, error) {
	switch e {
	case parquet.Encodings.Plain:
		if len(data) < 8*nv {
			return nil, fmt.Errorf("%d plain bytes for %d values", len(data), nv)
		}
		out = slices.Grow(out[:0], nv)[:nv]
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(data[8*i:]))
		}
		return out, nil
	case parquet.Encodings.DeltaBinaryPacked:
		return decodeDelta(data, nv, out[:0])
	}
	return nil, fmt.Errorf("encoding %s", e)
}

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

// decodeDelta decodes n DELTA_BINARY_PACKED values into out.
func decodeDelta(data []byte, n int, out []int64) ([]int64, error) {
	blockSize, k1 := binary.Uvarint(data)
	if k1 <= 0 {
		return nil, fmt.Errorf("delta header")
	}
	minis, k2 := binary.Uvarint(data[k1:])
	if k2 <= 0 {
		return nil, fmt.Errorf("delta header")
	}
	total, k3 := binary.Uvarint(data[k1+k2:])
	if k3 <= 0 {
		return nil, fmt.Errorf("delta header")
	}
	first, k4 := binary.Varint(data[k1+k2+k3:])
	if k4 <= 0 {
		return nil, fmt.Errorf("delta header")
	}
	data = data[k1+k2+k3+k4:]
	if total != uint64(n) {
		return nil, fmt.Errorf("%d delta values for %d defined rows", total, n)
	}
	if blockSize == 0 || blockSize%128 != 0 || blockSize > 1<<20 || minis == 0 || minis > blockSize || blockSize%minis != 0 || blockSize/minis%32 != 0 {
		return nil, fmt.Errorf("delta blocks of %d values in %d miniblocks", blockSize, minis)
	}
	perMini := int(blockSize / minis)
	if n == 0 {
		return out, nil
	}
	out = slices.Grow(out, n)
	out = append(out, first)
	last := first
	for len(out) < n {
		minDelta, k := binary.Varint(data)
		if k <= 0 || len(data) < k+int(minis) {
			return nil, fmt.Errorf("delta block header after %d of %d values", len(out), n)
		}
		widths := data[k : k+int(minis)]
		data = data[k+int(minis):]
		for _, w := range widths {
			if len(out) == n {
				break
			}
			if w > 64 {
				return nil, fmt.Errorf("delta bit width %d", w)
			}
			size := perMini * int(w) / 8
			if len(data) < size {
				return nil, fmt.Errorf("delta miniblock of %d bytes past the end", size)
			}
			m := min(perMini, n-len(out))
			last = unpackDeltas(data[:size], int(w), m, last, minDelta, &out)
			data = data[size:]
		}
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
