package hot

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// metaVersion 2 added coldSeq; version 1 values read with coldSeq 0.
const metaVersion byte = 2

// streamState is one stream as the committer knows it, and as its metadata
// key stores it (project and name live in the key).
type streamState struct {
	project, name string
	id            uint64
	settings      event.StreamSettings
	createTime    time.Time
	updateTime    time.Time
	firstSeq      uint64
	lastSeq       uint64
	count         uint64
	bytes         uint64
	lastIngest    time.Time // zero until the first append
	// coldSeq is the last seq sealed into the history tier (0: none): the
	// hot tier serves only seqs after it, and its blocks at or below it are
	// trimmed in the background.
	coldSeq uint64

	// producers is the committed producer state; the committer only
	// replaces it after a successful commit.
	producers map[string]*producerState
	// staged holds producer state changed by the group being committed.
	staged map[string]*producerState
}

// info returns the stream as the domain sees it.
func (st *streamState) info() event.StreamInfo {
	return event.StreamInfo{
		Project:    st.project,
		Name:       st.name,
		Settings:   st.settings,
		FirstSeq:   st.firstSeq,
		LastSeq:    st.lastSeq,
		EventCount: st.count,
		Bytes:      st.bytes,
		CreateTime: st.createTime,
		UpdateTime: st.updateTime,
	}
}

// producer returns pid's state as of the current group, or nil.
func (st *streamState) producer(pid string) *producerState {
	if p, ok := st.staged[pid]; ok {
		return p
	}
	return st.producers[pid]
}

// encodeMeta encodes st's metadata value.
func encodeMeta(st *streamState) []byte {
	b := make([]byte, 0, 96+len(st.settings.ContentType))
	b = append(b, metaVersion)
	b = binary.AppendUvarint(b, st.id)
	b = record.AppendString(b, st.settings.ContentType)
	b = binary.AppendVarint(b, int64(st.settings.RetentionMaxAge))
	b = binary.AppendUvarint(b, st.settings.RetentionMaxBytes)
	b = record.AppendTime(b, st.createTime)
	b = record.AppendTime(b, st.updateTime)
	b = binary.AppendUvarint(b, st.firstSeq)
	b = binary.AppendUvarint(b, st.lastSeq)
	b = binary.AppendUvarint(b, st.count)
	b = binary.AppendUvarint(b, st.bytes)
	b = binary.AppendUvarint(b, st.coldSeq)
	if st.lastIngest.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	return record.AppendTime(b, st.lastIngest)
}

// decodeMeta decodes a metadata value into a state without producers.
func decodeMeta(project, name string, b []byte) (*streamState, error) {
	d := record.NewDecoder(b)
	version := d.Byte()
	if d.Err() == nil && version != 1 && version != metaVersion {
		return nil, fmt.Errorf("decode stream meta: %w: version %d", errCorrupt, version)
	}
	st := &streamState{project: project, name: name}
	st.id = d.Uvarint()
	st.settings.ContentType = d.Str()
	st.settings.RetentionMaxAge = time.Duration(d.Varint())
	st.settings.RetentionMaxBytes = d.Uvarint()
	st.createTime = d.Time()
	st.updateTime = d.Time()
	st.firstSeq = d.Uvarint()
	st.lastSeq = d.Uvarint()
	st.count = d.Uvarint()
	st.bytes = d.Uvarint()
	if version >= 2 {
		st.coldSeq = d.Uvarint()
	}
	if d.Byte() == 1 {
		st.lastIngest = d.Time()
	}
	if d.Err() != nil {
		return nil, fmt.Errorf("decode stream meta: %w", d.Err())
	}
	return st, nil
}
