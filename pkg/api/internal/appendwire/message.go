package appendwire

import (
	"sync"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/event"
)

// Message is Append's request as the server decodes it: the generated
// message, whose ProtoReflect it promotes so that codecs and interceptors
// treat it as one, and, when Parse took a binary body, the request already
// packed for the store (the message then holds only the project, stream and
// producer, for interceptors to read).
type Message struct {
	*siltv1.AppendRequest
	packed *event.AppendRequest
	// tails holds packed's record tails; Release recycles it.
	tails *[]byte
}

// Parse decodes the binary AppendRequest b into m, packed, when the fast
// path takes b, and reports whether it did. When it declines, m holds no
// packed request and an AppendRequest for the caller to decode b into the
// general way. Nothing in m aliases b.
func Parse(b []byte, m *Message) bool {
	buf := tailBufs.Get().(*[]byte)
	req, tails, ok := parse(b, *buf)
	*buf = tails[:0]
	if !ok {
		putTails(buf)
		m.packed, m.tails = nil, nil
		if m.AppendRequest == nil {
			m.AppendRequest = new(siltv1.AppendRequest)
		}
		return false
	}
	m.packed, m.tails = &req, buf
	m.AppendRequest = &siltv1.AppendRequest{Project: req.Project, Stream: req.Stream}
	if p := req.Producer; p != nil {
		m.AppendRequest.Producer = &siltv1.Producer{Id: p.ID, Epoch: p.Epoch, Seq: p.Seq}
	}
	return true
}

// Packed is the request Parse packed, nil when it declined the body (or
// after Release). Its events' tails live in a recycled buffer: valid
// until Release.
func (m *Message) Packed() *event.AppendRequest { return m.packed }

// Release recycles the buffer of m's packed events once the store is done
// with them (a store copies them; see event.AppendRequest).
func (m *Message) Release() {
	if m.tails != nil {
		putTails(m.tails)
	}
	m.tails, m.packed = nil, nil
}

// tailBufs recycles the buffers Parse writes record tails into.
var tailBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxRecycledTails is the largest buffer tailBufs keeps.
const maxRecycledTails = 8 << 20

// putTails returns a tail buffer to tailBufs unless it grew too large.
func putTails(b *[]byte) {
	if cap(*b) <= maxRecycledTails {
		*b = (*b)[:0]
		tailBufs.Put(b)
	}
}
