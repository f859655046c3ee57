package record

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/silt-io/silt/pkg/event"
)

// FlagHasTime is the bit of a record's flags byte that says Time follows.
const FlagHasTime byte = 1

// AppendBody appends e's record body, with id in place of e.ID, to dst.
func AppendBody(dst []byte, e *event.Event, id string) []byte {
	flags := eventFlags(e)
	dst = append(dst, flags)
	dst = AppendString(dst, id)
	dst = AppendString(dst, e.Type)
	dst = AppendString(dst, e.Source)
	dst = AppendString(dst, e.Subject)
	if flags&FlagHasTime != 0 {
		dst = AppendTime(dst, e.Time)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.Attributes)))
	for k, v := range e.Attributes {
		dst = AppendString(dst, k)
		dst = AppendString(dst, v)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.Metrics)))
	for k, v := range e.Metrics {
		dst = AppendString(dst, k)
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
	}
	if flags&FlagNoPayload != 0 {
		return append(dst, 0, 0) // no content type, no data
	}
	dst = AppendString(dst, e.ContentType)
	return AppendString(dst, e.Data)
}

// BodyLen is the length of e's record body with the given id.
func BodyLen(e *event.Event, id string) int {
	n := 1 + StringLen(id) + StringLen(e.Type) + StringLen(e.Source) + StringLen(e.Subject)
	if !e.Time.IsZero() {
		n += varintLen(e.Time.Unix()) + UvarintLen(uint64(e.Time.Nanosecond()))
	}
	n += UvarintLen(uint64(len(e.Attributes)))
	for k, v := range e.Attributes {
		n += StringLen(k) + StringLen(v)
	}
	n += UvarintLen(uint64(len(e.Metrics)))
	for k := range e.Metrics {
		n += StringLen(k) + 8
	}
	if !e.HasPayload() {
		return n + 2
	}
	return n + StringLen(e.ContentType) + StringLen(e.Data)
}

// DecodeBody decodes one record body into e's ID, envelope, attributes,
// metrics, content type and data, copying everything out of b. Seq and
// ingest time are the caller's.
func DecodeBody(b []byte, e *event.Event) error {
	var v View
	if err := v.Parse(b); err != nil {
		return err
	}
	e.ID, e.Type, e.Source, e.Subject = string(v.ID), string(v.Type), string(v.Source), string(v.Subject)
	if v.HasTime() {
		e.Time = time.Unix(v.Seconds, int64(v.Nanos)).UTC()
	}
	if n := v.NumAttributes(); n > 0 {
		e.Attributes = make(map[string]string, n)
		for k, val := range v.Attributes() {
			e.Attributes[string(k)] = string(val)
		}
	}
	if n := v.NumMetrics(); n > 0 {
		e.Metrics = make(map[string]float64, n)
		for k, val := range v.Metrics() {
			e.Metrics[string(k)] = val
		}
	}
	e.ContentType = string(v.ContentType)
	if len(v.Data) > 0 {
		e.Data = append([]byte(nil), v.Data...)
	}
	applyFlags(v.Flags, e)
	return nil
}

// AppendString appends s as a string: uvarint(len) and the bytes.
func AppendString[S string | []byte](dst []byte, s S) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// AppendTime appends t as varint unix seconds and uvarint nanoseconds.
func AppendTime(dst []byte, t time.Time) []byte {
	dst = binary.AppendVarint(dst, t.Unix())
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

// StringLen is the encoded length of a string of s's length.
func StringLen[S string | []byte](s S) int { return UvarintLen(uint64(len(s))) + len(s) }

// UvarintLen is the length of v as a uvarint.
func UvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func varintLen(v int64) int {
	ux := uint64(v) << 1
	if v < 0 {
		ux = ^ux
	}
	return UvarintLen(ux)
}
