// Package appendwire is the API's Append fast path: a binary
// silt.v1.AppendRequest parsed straight into the store's packed records
// (package record): no EventInput, no Go map, one copy of each event.
//
// It takes only the plain encoding that clients send and only input that
// passes AppendRequest's rules; anything else (an unknown or repeated field,
// a data Value, a map key given twice, a broken rule, invalid UTF-8) makes
// [Parse] decline, and the API's general path (generated decoder, its rule
// checks, protovalidate) decodes the body and names the problem. The API's
// FuzzAppendFastPath checks that whatever Parse takes, the general path
// accepts and packs into the same records.
package appendwire

import (
	"encoding/binary"
	"math"
	"slices"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/silt-io/silt/pkg/api/internal/jsontext"
	"github.com/silt-io/silt/pkg/api/internal/rules"
	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// Field numbers of silt.v1.AppendRequest, EventInput, Producer and
// google.protobuf.Timestamp.
const (
	fieldAppendProject         = 1
	fieldAppendStream          = 2
	fieldAppendEvents          = 3
	fieldAppendProducer        = 4
	fieldAppendExpectedLastSeq = 5

	fieldInputID          = 1
	fieldInputType        = 2
	fieldInputSource      = 3
	fieldInputSubject     = 4
	fieldInputTime        = 5
	fieldInputAttributes  = 6
	fieldInputMetrics     = 7
	fieldInputData        = 8
	fieldInputBinaryData  = 9
	fieldInputContentType = 10

	fieldProducerID    = 1
	fieldProducerEpoch = 2
	fieldProducerSeq   = 3

	fieldTimestampSeconds = 1
	fieldTimestampNanos   = 2

	fieldMapKey   = 1
	fieldMapValue = 2
)

// parse decodes the binary AppendRequest b into req with packed events,
// whose tails it writes into buf (from its start, growing it as needed) and
// returns as tails. ok is false when the fast path declines b (see the
// package documentation); req is then meaningless. Nothing in req aliases b.
func parse(b, buf []byte) (req event.AppendRequest, tails []byte, ok bool) {
	var (
		p              appendParser
		project        []byte
		stream         []byte
		seen           uint8 // bit per singular field of AppendRequest
		expectedLast   uint64
		producerFields producerWire
	)
	p.buf = slices.Grow(buf[:0], len(b)+len(b)/8)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return req, p.buf, false
		}
		b = b[n:]
		if num != fieldAppendEvents {
			if num < 1 || num > 5 || seen&(1<<num) != 0 {
				return req, p.buf, false
			}
			seen |= 1 << num
		}
		switch {
		case num == fieldAppendExpectedLastSeq && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return req, p.buf, false
			}
			expectedLast, b = v, b[n:]
			continue
		case typ != protowire.BytesType || num == fieldAppendExpectedLastSeq:
			return req, p.buf, false
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return req, p.buf, false
		}
		b = b[n:]
		switch num {
		case fieldAppendProject:
			project = v
		case fieldAppendStream:
			stream = v
		case fieldAppendEvents:
			if len(p.events) == rules.MaxAppendEvents || !p.event(v) {
				return req, p.buf, false
			}
		case fieldAppendProducer:
			if !producerFields.parse(v) {
				return req, p.buf, false
			}
		}
	}
	if !rules.ProjectName(project) || !rules.StreamName(stream) || len(p.events) == 0 {
		return req, p.buf, false
	}
	req = event.AppendRequest{Project: string(project), Stream: string(stream), Events: p.events}
	for i := range p.events {
		p.events[i].Tail = p.buf[p.tails[i].start:p.tails[i].end:p.tails[i].end]
	}
	if seen&(1<<fieldAppendExpectedLastSeq) != 0 {
		req.ExpectedLastSeq = &expectedLast
	}
	if seen&(1<<fieldAppendProducer) != 0 {
		if !rules.PrintableASCII(producerFields.id, 1, rules.MaxIDLen) {
			return req, p.buf, false
		}
		req.Producer = &event.Producer{ID: string(producerFields.id), Epoch: producerFields.epoch, Seq: producerFields.seq}
	}
	return req, p.buf, true
}

// appendParser accumulates the packed events of one request.
type appendParser struct {
	buf    []byte // every event's record tail, one after another
	events []event.PackedEvent
	tails  []span // where each event's tail lies in buf
	f      record.Fields
	// attributes and metrics are f's backing arrays, reused by every event.
	attributes [rules.MaxMapEntries]record.Attribute
	metrics    [rules.MaxMapEntries]record.Metric
}

type span struct{ start, end int }

// event parses one EventInput and packs it.
func (p *appendParser) event(b []byte) bool {
	if len(b) > rules.MaxEventBytes {
		return false
	}
	p.f = record.Fields{Attributes: p.attributes[:0], Metrics: p.metrics[:0]}
	f := &p.f
	var (
		id   []byte
		seen uint16
	)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		if num < 1 || num > 10 || num == fieldInputData {
			return false
		}
		if num != fieldInputAttributes && num != fieldInputMetrics {
			if seen&(1<<num) != 0 {
				return false
			}
			seen |= 1 << num
		}
		if typ != protowire.BytesType {
			return false
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		switch num {
		case fieldInputID:
			id = v
		case fieldInputType:
			f.Type = v
		case fieldInputSource:
			f.Source, f.HasSource = v, true
		case fieldInputSubject:
			f.Subject, f.HasSubject = v, true
		case fieldInputTime:
			if !parseTimestamp(v, f) {
				return false
			}
		case fieldInputAttributes:
			if len(f.Attributes) == rules.MaxMapEntries {
				return false
			}
			k, val, ok := mapEntry(v, protowire.BytesType)
			if !ok || !rules.MapKey(k) || !utf8.Valid(val) || utf8.RuneCount(val) > rules.MaxAttributeLen {
				return false
			}
			for _, a := range f.Attributes {
				if string(a.Key) == string(k) {
					return false
				}
			}
			f.Attributes = append(f.Attributes, record.Attribute{Key: k, Value: val})
		case fieldInputMetrics:
			if len(f.Metrics) == rules.MaxMapEntries {
				return false
			}
			k, val, ok := mapEntry(v, protowire.Fixed64Type)
			if !ok || !rules.MapKey(k) {
				return false
			}
			m := math.Float64frombits(binary.LittleEndian.Uint64(val))
			if math.IsNaN(m) || math.IsInf(m, 0) {
				return false
			}
			for _, x := range f.Metrics {
				if string(x.Key) == string(k) {
					return false
				}
			}
			f.Metrics = append(f.Metrics, record.Metric{Key: k, Value: m})
		case fieldInputBinaryData:
			f.Data, f.HasPayload = v, true
		case fieldInputContentType:
			f.ContentType = v
		}
	}
	if len(f.Data) > rules.MaxBinaryDataLen ||
		!rules.PrintableASCII(id, 0, rules.MaxIDLen) || !rules.EventType(f.Type) ||
		!rules.RunesAtMost(f.Source, rules.MaxSourceLen) || !rules.RunesAtMost(f.Subject, rules.MaxSourceLen) ||
		!rules.RunesAtMost(f.ContentType, rules.MaxContentType) {
		return false
	}
	if string(f.ContentType) == event.ContentTypeJSON && !jsontext.Valid(f.Data) {
		return false
	}
	start := len(p.buf)
	p.buf = record.AppendTail(p.buf, f)
	p.tails = append(p.tails, span{start, len(p.buf)})
	p.events = append(p.events, event.PackedEvent{ID: string(id), Flags: f.Flags()})
	return true
}

// parseTimestamp parses a google.protobuf.Timestamp into f's time. It
// declines nanos outside [0, 1e9) and times outside the rule's range.
func parseTimestamp(b []byte, f *record.Fields) bool {
	var seconds, nanos uint64
	var seen uint8
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || typ != protowire.VarintType || (num != fieldTimestampSeconds && num != fieldTimestampNanos) || seen&(1<<num) != 0 {
			return false
		}
		seen |= 1 << num
		v, m := protowire.ConsumeVarint(b[n:])
		if m < 0 {
			return false
		}
		b = b[n+m:]
		if num == fieldTimestampSeconds {
			seconds = v
		} else {
			nanos = v
		}
	}
	ns := int32(nanos) //nolint:gosec // protobuf's int32 decoding truncates
	if ns < 0 || ns >= 1e9 || int64(seconds) < rules.MinTimeSeconds || int64(seconds) >= rules.MaxTimeSeconds {
		return false
	}
	f.HasTime, f.Seconds, f.Nanos = true, int64(seconds), uint32(ns)
	return true
}

// mapEntry parses a map entry whose value has wire type valueType. It
// declines an entry without a key or a value: no valid key is empty, and
// re-encoded such an entry would be larger than on the wire, which the
// event size cap counts.
func mapEntry(b []byte, valueType protowire.Type) (key, val []byte, ok bool) {
	var seen uint8
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || (num != fieldMapKey && num != fieldMapValue) || seen&(1<<num) != 0 {
			return nil, nil, false
		}
		seen |= 1 << num
		b = b[n:]
		switch {
		case num == fieldMapKey && typ == protowire.BytesType:
			key, n = protowire.ConsumeBytes(b)
		case num == fieldMapValue && typ == valueType && typ == protowire.BytesType:
			val, n = protowire.ConsumeBytes(b)
		case num == fieldMapValue && typ == valueType && typ == protowire.Fixed64Type:
			if len(b) < 8 {
				return nil, nil, false
			}
			val, n = b[:8], 8
		default:
			return nil, nil, false
		}
		if n < 0 {
			return nil, nil, false
		}
		b = b[n:]
	}
	return key, val, seen == 1<<fieldMapKey|1<<fieldMapValue
}

// producerWire is a parsed silt.v1.Producer.
type producerWire struct {
	id         []byte
	epoch, seq uint64
}

func (pw *producerWire) parse(b []byte) bool {
	var seen uint8
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num < 1 || num > 3 || seen&(1<<num) != 0 {
			return false
		}
		seen |= 1 << num
		b = b[n:]
		if num == fieldProducerID {
			if typ != protowire.BytesType {
				return false
			}
			pw.id, n = protowire.ConsumeBytes(b)
		} else {
			if typ != protowire.VarintType {
				return false
			}
			var v uint64
			v, n = protowire.ConsumeVarint(b)
			if num == fieldProducerEpoch {
				pw.epoch = v
			} else {
				pw.seq = v
			}
		}
		if n < 0 {
			return false
		}
		b = b[n:]
	}
	return true
}
