package query

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Page tokens are opaque to clients: "o<offset>" for the rows of an
// aggregate query (recomputed on each page), and "k<order>|<t>|<seq>|<stream>"
// for listed events: the order key of the last event returned, so the next
// page starts strictly after it however the data grew in between.

func encodeOffset(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o" + strconv.Itoa(n)))
}

func decodeOffset(tok string) (int, error) {
	if tok == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 2 || b[0] != 'o' {
		return 0, invalid("page_token", "not a token of an aggregate query")
	}
	n, err := strconv.Atoi(string(b[1:]))
	if err != nil || n < 0 {
		return 0, invalid("page_token", "not a token of an aggregate query")
	}
	return n, nil
}

// orderKey is a listed event's position in the order.
type orderKey struct {
	t      int64 // time, or ingest time when the event has none (time orders)
	stream string
	seq    uint64
}

// compare orders keys ascending for o: by time, then stream and seq (time
// orders), or by stream and seq; -1, 0 or +1.
func (k orderKey) compare(o Order, q orderKey) int {
	if o == OrderTimeAsc || o == OrderTimeDesc {
		if k.t != q.t {
			if k.t < q.t {
				return -1
			}
			return 1
		}
	}
	if c := strings.Compare(k.stream, q.stream); c != 0 {
		return c
	}
	switch {
	case k.seq < q.seq:
		return -1
	case k.seq > q.seq:
		return 1
	}
	return 0
}

func encodeKey(o Order, k orderKey) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "k%d|%d|%d|%s", o, k.t, k.seq, k.stream))
}

func decodeKey(o Order, tok string) (orderKey, error) {
	bad := invalid("page_token", "not a token of a listing query in this order")
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 2 || b[0] != 'k' {
		return orderKey{}, bad
	}
	parts := strings.SplitN(string(b[1:]), "|", 4)
	if len(parts) != 4 || parts[0] != strconv.Itoa(int(o)) {
		return orderKey{}, bad
	}
	t, err1 := strconv.ParseInt(parts[1], 10, 64)
	seq, err2 := strconv.ParseUint(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return orderKey{}, bad
	}
	return orderKey{t: t, seq: seq, stream: parts[3]}, nil
}
