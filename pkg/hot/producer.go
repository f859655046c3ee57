package hot

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// ProducerHistory is how many of a producer's most recent batches keep their
// AppendResult. A retry of one of them is answered with its original seq
// range; a retry of an older batch of the same epoch is answered with
// Duplicate set and a zero seq range, because nothing better is known.
const ProducerHistory = 8

const producerVersion byte = 1

// producerState is what the store remembers about one (stream, producer id).
type producerState struct {
	epoch uint64
	// next is the producer seq the next new batch must carry.
	next uint64
	// recent holds the last ProducerHistory batches of this epoch, oldest first.
	recent []producerBatch
}

// producerBatch is one acknowledged batch of a producer.
type producerBatch struct {
	seq    uint64
	result event.AppendResult
}

// producerDecision is what checkProducer says to do with a batch.
type producerDecision int

const (
	producerWrite producerDecision = iota
	producerDuplicate
)

// checkProducer decides what to do with batch p given the stored state ps
// (nil for a producer never seen on this stream). For a duplicate it returns
// the result to answer with.
func checkProducer(ps *producerState, p *event.Producer) (producerDecision, event.AppendResult, error) {
	switch {
	case ps == nil || p.Epoch > ps.epoch:
		if p.Seq != 0 {
			return 0, event.AppendResult{}, &event.ConflictError{Err: event.ErrProducerSeqGap, Expected: 0, Got: p.Seq}
		}
		return producerWrite, event.AppendResult{}, nil
	case p.Epoch < ps.epoch:
		return 0, event.AppendResult{}, &event.ConflictError{Err: event.ErrProducerFenced, Expected: ps.epoch, Got: p.Epoch}
	case p.Seq == ps.next:
		return producerWrite, event.AppendResult{}, nil
	case p.Seq > ps.next:
		return 0, event.AppendResult{}, &event.ConflictError{Err: event.ErrProducerSeqGap, Expected: ps.next, Got: p.Seq}
	}
	for _, b := range ps.recent {
		if b.seq == p.Seq {
			r := b.result
			r.Duplicate = true
			return producerDuplicate, r, nil
		}
	}
	return producerDuplicate, event.AppendResult{Duplicate: true}, nil
}

// advance returns the state after batch p committed with result r.
func (ps *producerState) advance(p *event.Producer, r event.AppendResult) *producerState {
	next := &producerState{epoch: p.Epoch, next: p.Seq + 1}
	if ps != nil && ps.epoch == p.Epoch {
		keep := ps.recent[max(0, len(ps.recent)-(ProducerHistory-1)):]
		next.recent = slices.Clone(keep)
	}
	next.recent = append(next.recent, producerBatch{seq: p.Seq, result: r})
	return next
}

// encodeProducer encodes ps as a producer-state value.
func encodeProducer(ps *producerState) []byte {
	b := make([]byte, 0, 24+len(ps.recent)*40)
	b = append(b, producerVersion)
	b = binary.AppendUvarint(b, ps.epoch)
	b = binary.AppendUvarint(b, ps.next)
	b = binary.AppendUvarint(b, uint64(len(ps.recent)))
	for _, r := range ps.recent {
		b = binary.AppendUvarint(b, r.seq)
		b = binary.AppendUvarint(b, r.result.FirstSeq)
		b = binary.AppendUvarint(b, r.result.LastSeq)
		b = record.AppendTime(b, r.result.IngestTime)
	}
	return b
}

// maxProducerValueLen bounds the length of an encoded producer state.
const maxProducerValueLen = 1 + 3*binary.MaxVarintLen64 + ProducerHistory*5*binary.MaxVarintLen64

// decodeProducer decodes a producer-state value.
func decodeProducer(b []byte) (*producerState, error) {
	d := record.NewDecoder(b)
	if v := d.Byte(); d.Err() == nil && v != producerVersion {
		return nil, fmt.Errorf("decode producer state: %w: version %d", errCorrupt, v)
	}
	ps := &producerState{epoch: d.Uvarint(), next: d.Uvarint()}
	n := d.Count(5)
	for range n {
		var r producerBatch
		r.seq = d.Uvarint()
		r.result.FirstSeq = d.Uvarint()
		r.result.LastSeq = d.Uvarint()
		r.result.IngestTime = d.Time()
		ps.recent = append(ps.recent, r)
	}
	if d.Err() != nil {
		return nil, fmt.Errorf("decode producer state: %w", d.Err())
	}
	return ps, nil
}
