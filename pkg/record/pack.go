package record

import "github.com/silt-io/silt/pkg/event"

// Pack packs evs as the store takes them ([event.AppendRequest]): each
// event's record body without its id, in one buffer. It is how an event
// built in Go (the API's general decoding path, tests, benchmarks) becomes
// the form the API's fast Append decoder writes from the wire ([Fields],
// [AppendTail]).
func Pack(evs ...event.Event) []event.PackedEvent {
	n := 0
	for i := range evs {
		n += BodyLen(&evs[i], "")
	}
	buf := make([]byte, 0, n)
	out := make([]event.PackedEvent, len(evs))
	for i := range evs {
		start := len(buf)
		buf = AppendBody(buf, &evs[i], "")
		// body[0] is the flags byte and body[1] the empty id's length.
		body := buf[start:len(buf):len(buf)]
		out[i] = event.PackedEvent{ID: evs[i].ID, Flags: body[0], Tail: body[2:]}
	}
	return out
}

// AppendPacked appends p's record body, with id in place of p.ID, to dst:
// the body AppendBody writes for the event p was packed from.
func AppendPacked(dst []byte, p *event.PackedEvent, id string) []byte {
	dst = append(dst, p.Flags)
	dst = AppendString(dst, id)
	return append(dst, p.Tail...)
}

// PackedLen is the length of p's record body with the given id.
func PackedLen(p *event.PackedEvent, id string) int { return 1 + StringLen(id) + len(p.Tail) }
