package hot

import (
	"encoding/binary"
	"time"
)

// Key spaces. Every key starts with one of these bytes; numbers in keys are
// big-endian so that byte order is numeric order.
const (
	// spaceSystem holds store-wide counters: spaceSystem + name.
	spaceSystem byte = 0x00
	// spaceStream holds stream metadata: spaceStream + uvarint(len(project)) + project + name.
	spaceStream byte = 0x01
	// spaceBlock holds event blocks: spaceBlock + id(8) + lastSeq(8).
	spaceBlock byte = 0x02
	// spaceTime is the ingest-time index: spaceTime + id(8) + ingestTime(8) + firstSeq(8).
	spaceTime byte = 0x03
	// spaceProducer holds producer state: spaceProducer + id(8) + producer id.
	spaceProducer byte = 0x04
	// spaceTombstone marks a deleted stream id whose data is still being purged: spaceTombstone + id(8).
	spaceTombstone byte = 0x05
	// spaceProject holds project records: spaceProject + project.
	spaceProject byte = 0x06
)

// nextIDKey holds the next stream id to hand out (uint64, big-endian).
var nextIDKey = []byte{spaceSystem, 'n', 'e', 'x', 't', '-', 'i', 'd'}

// streamKey is the metadata key of (project, name).
func streamKey(project, name string) []byte {
	k := streamPrefix(project, name)
	return k
}

// streamPrefix is the key prefix of project's streams whose names start with namePrefix.
func streamPrefix(project, namePrefix string) []byte {
	k := make([]byte, 0, 1+binary.MaxVarintLen64+len(project)+len(namePrefix))
	k = append(k, spaceStream)
	k = binary.AppendUvarint(k, uint64(len(project)))
	k = append(k, project...)
	return append(k, namePrefix...)
}

// parseStreamKey returns the project and name of a metadata key.
func parseStreamKey(k []byte) (project, name string, ok bool) {
	if len(k) < 2 || k[0] != spaceStream {
		return "", "", false
	}
	n, w := binary.Uvarint(k[1:])
	if w <= 0 || uint64(len(k)-1-w) < n {
		return "", "", false
	}
	rest := k[1+w:]
	return string(rest[:n]), string(rest[n:]), true
}

// projectKey is the record key of project.
func projectKey(project string) []byte {
	return append([]byte{spaceProject}, project...)
}

// idPrefix is space + id.
func idPrefix(space byte, id uint64) []byte {
	k := make([]byte, 9, 25)
	k[0] = space
	binary.BigEndian.PutUint64(k[1:], id)
	return k
}

// blockKey is the key of stream id's block whose last event has seq lastSeq.
func blockKey(id, lastSeq uint64) []byte {
	return binary.BigEndian.AppendUint64(idPrefix(spaceBlock, id), lastSeq)
}

// blockKeyLastSeq returns the last seq encoded in a block key.
func blockKeyLastSeq(k []byte) uint64 { return binary.BigEndian.Uint64(k[9:17]) }

// timeKey is the time-index key of the block of stream id that starts at
// firstSeq and was ingested at t.
func timeKey(id uint64, t time.Time, firstSeq uint64) []byte {
	k := binary.BigEndian.AppendUint64(idPrefix(spaceTime, id), timeOrder(t))
	return binary.BigEndian.AppendUint64(k, firstSeq)
}

// timeKeyFirstSeq returns the first seq encoded in a time-index key.
func timeKeyFirstSeq(k []byte) uint64 { return binary.BigEndian.Uint64(k[17:25]) }

// timeOrder maps t to a uint64 whose order is t's order (Unix nanoseconds
// with the sign bit flipped; times outside 1678..2262 saturate).
func timeOrder(t time.Time) uint64 {
	var ns int64
	switch {
	case t.Before(minNanoTime):
		ns = minNanoTime.UnixNano()
	case t.After(maxNanoTime):
		ns = maxNanoTime.UnixNano()
	default:
		ns = t.UnixNano()
	}
	return uint64(ns) ^ (1 << 63)
}

var (
	minNanoTime = time.Unix(0, -1<<63)
	maxNanoTime = time.Unix(0, 1<<63-1)
)

// producerKey is the key of producer pid's state on stream id.
func producerKey(id uint64, pid string) []byte {
	return append(idPrefix(spaceProducer, id), pid...)
}

// tombstoneKey marks stream id as deleted and not yet purged.
func tombstoneKey(id uint64) []byte { return idPrefix(spaceTombstone, id) }

// idFromKey returns the stream id of a key in an id-keyed space.
func idFromKey(k []byte) uint64 { return binary.BigEndian.Uint64(k[1:9]) }

func beUint64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

func putBeUint64(b []byte, v uint64) { binary.BigEndian.PutUint64(b, v) }
