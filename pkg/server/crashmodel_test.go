package server_test

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// The crash run's checker. It models each stream's history exactly: the
// list of events the server acknowledged, by seq. Acknowledgements fill the
// list (a producer's retry after a kill resolves its in-flight batch, so
// after the retries of a restart every seq the server holds has an owner);
// every read is compared with it event by event. A direct check of the
// sequence is both simpler and stronger than a linearizability search: a
// stream is one register per seq, written once, so any history that is not
// exactly "the acknowledged events, each at its acknowledged seq, with
// nothing else" is wrong, and saying which seq is wrong is the useful
// report.

// evRef names one event a crash-run producer sent: the producer's index
// plus one, and the producer's event number (its n, from 1). The zero evRef
// is "nobody acknowledged this seq yet".
type evRef struct {
	producer uint32
	n        uint32
}

// anomalies counts what the checker found, by kind.
type anomalies struct {
	// lost: an acknowledged event missing from a read of its stream.
	lost int
	// dup: one event at two seqs, or acknowledged twice at different seqs.
	dup int
	// reorder: an event at a seq other than its acknowledged one, a read
	// going backwards, or a producer's batches acknowledged out of order.
	reorder int
	// gap: a read skipping seqs.
	gap int
	// phantom: an event no producer sent with that content, or that
	// nobody acknowledged (not even the producer's retry).
	phantom int
	// failed: an append, read, subscription or admin call that failed
	// while the server was up (not killed yet).
	failed int
}

func (a anomalies) total() int { return a.lost + a.dup + a.reorder + a.gap + a.phantom + a.failed }

func (a anomalies) String() string {
	return fmt.Sprintf("lost=%d dup=%d reorder=%d gap=%d phantom=%d failed=%d", a.lost, a.dup, a.reorder, a.gap, a.phantom, a.failed)
}

// observation is an event a reader saw at a seq nobody had acknowledged
// yet; it is judged after the next restart's retries.
type observation struct {
	seq uint64
	ref evRef
}

// producerModel is what one producer sent and where it landed.
type producerModel struct {
	name   string
	stream string // the model key, project/stream
	// seqOf[n-1] is the seq event n was acknowledged at (0: not yet).
	seqOf []uint64
	// lastSeq is the last seq of the producer's latest acknowledged batch.
	lastSeq uint64
}

// streamModel is one stream's acknowledged history.
type streamModel struct {
	// slots[s-1] is the event acknowledged at seq s.
	slots []evRef
	// unsure are events readers saw before their acknowledgement.
	unsure []observation
}

// crashModel is the checker's state, shared by producers and readers.
type crashModel struct {
	// mu guards every field below.
	mu        sync.Mutex
	streams   map[string]*streamModel
	producers []*producerModel
	byName    map[string]int
	found     anomalies
	notes     []string // the first anomalies, described
	acked     int      // events acknowledged
	observed  int      // events checked by readers during the load
	checked   int      // events checked by the full checks after restarts
}

// maxNotes bounds how many anomalies the model describes.
const maxNotes = 20

func newCrashModel() *crashModel {
	return &crashModel{streams: map[string]*streamModel{}, byName: map[string]int{}}
}

// streamKey is the model's name for a stream.
func streamKey(project, stream string) string { return project + "/" + stream }

// addProducer registers producer name writing to the stream key.
func (m *crashModel) addProducer(name, key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.streams[key] == nil {
		m.streams[key] = &streamModel{}
	}
	m.byName[name] = len(m.producers)
	m.producers = append(m.producers, &producerModel{name: name, stream: key})
}

// note counts one anomaly of a kind and describes the first few. The
// caller holds mu.
func (m *crashModel) note(kind *int, format string, args ...any) {
	*kind++
	if len(m.notes) < maxNotes {
		m.notes = append(m.notes, fmt.Sprintf(format, args...))
	}
}

// ack records an acknowledged batch of producer name.
func (m *crashModel) ack(name string, res *siltv1.AppendResponse, events []*siltv1.EventInput) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pi := m.byName[name]
	p := m.producers[pi]
	st := m.streams[p.stream]
	first, last := res.GetFirstSeq(), res.GetLastSeq()
	if first == 0 || last-first+1 != uint64(len(events)) {
		m.note(&m.found.phantom, "%s: %d events acknowledged as seqs %d..%d", name, len(events), first, last)
		return
	}
	if first <= p.lastSeq {
		m.note(&m.found.reorder, "%s: batch acknowledged at %d..%d, after one ending at %d", name, first, last, p.lastSeq)
	}
	p.lastSeq = last
	for i, e := range events {
		_, n, _ := strings.Cut(e.GetId(), "-")
		num, _ := strconv.Atoi(n)
		ref, seq := evRef{producer: uint32(pi + 1), n: uint32(num)}, first+uint64(i)
		for uint64(len(st.slots)) < seq {
			st.slots = append(st.slots, evRef{})
		}
		if old := st.slots[seq-1]; old != (evRef{}) && old != ref {
			m.note(&m.found.dup, "%s: seq %d acknowledged for %s and for %s", p.stream, seq, m.name(old), e.GetId())
		}
		st.slots[seq-1] = ref
		for len(p.seqOf) < num {
			p.seqOf = append(p.seqOf, 0)
		}
		if old := p.seqOf[num-1]; old != 0 && old != seq {
			m.note(&m.found.dup, "%s: %s acknowledged at seq %d and at %d", p.stream, e.GetId(), old, seq)
		}
		p.seqOf[num-1] = seq
		m.acked++
	}
}

// fail records a call that failed while the server was up.
func (m *crashModel) fail(who string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.note(&m.found.failed, "%s failed while the server was up: %v", who, err)
}

// name is the event id of ref. The caller holds mu.
func (m *crashModel) name(ref evRef) string {
	if ref.producer == 0 || int(ref.producer) > len(m.producers) {
		return "nothing"
	}
	return fmt.Sprintf("%s-%d", m.producers[ref.producer-1].name, ref.n)
}

// ackedAt is the seq ref was acknowledged at (0: never). The caller holds mu.
func (m *crashModel) ackedAt(ref evRef) uint64 {
	p := m.producers[ref.producer-1]
	if int(ref.n) > len(p.seqOf) {
		return 0
	}
	return p.seqOf[ref.n-1]
}

// parse finds the producer event e claims to be, checking that its content
// is exactly what that producer sent to this stream. The caller holds mu.
func (m *crashModel) parse(key string, e *siltv1.Event) (evRef, bool) {
	name, n, ok := strings.Cut(e.GetId(), "-")
	pi, known := m.byName[name]
	num, err := strconv.Atoi(n)
	if !ok || !known || err != nil || num < 1 || m.producers[pi].stream != key {
		return evRef{}, false
	}
	if e.GetType() != "crash" || e.GetAttributes()["writer"] != name || len(e.GetAttributes()) != 1 ||
		!bytes.Equal(e.GetBinaryData(), fmt.Appendf(nil, `{"n":%d}`, num)) {
		return evRef{}, false
	}
	return evRef{producer: uint32(pi + 1), n: uint32(num)}, true
}

// session is one reader's view of one stream: the seq it expects next.
type session struct {
	key  string
	next uint64
	who  string
}

// observe checks events a reader received in order, continuing the
// session. An event at a seq nobody acknowledged yet is kept for the next
// restart's check.
func (m *crashModel) observe(s *session, events []*siltv1.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.streams[s.key]
	for _, e := range events {
		m.inSequence(s, e)
		m.observed++
		ref, ok := m.parse(s.key, e)
		if !ok {
			m.note(&m.found.phantom, "%s: %s read %s at seq %d, which no producer sent", s.key, s.who, e.GetId(), e.GetSeq())
			continue
		}
		seq := e.GetSeq()
		if seq == 0 || seq > uint64(len(st.slots)) || st.slots[seq-1] == (evRef{}) {
			st.unsure = append(st.unsure, observation{seq: seq, ref: ref})
			continue
		}
		m.judge(s.key, s.who, seq, ref, false)
	}
}

// inSequence checks that e continues the session. The caller holds mu.
func (m *crashModel) inSequence(s *session, e *siltv1.Event) {
	switch seq := e.GetSeq(); {
	case seq < s.next:
		m.note(&m.found.reorder, "%s: %s read seq %d after seq %d", s.key, s.who, seq, s.next-1)
	case seq > s.next:
		m.note(&m.found.gap, "%s: %s read seq %d after seq %d", s.key, s.who, seq, s.next-1)
	}
	s.next = e.GetSeq() + 1
}

// judge compares ref, read at seq, with the acknowledged history. final
// says every seq the server holds has been acknowledged by now (after a
// restart's retries), so an unowned seq is an anomaly rather than unsure.
// The caller holds mu.
func (m *crashModel) judge(key, who string, seq uint64, ref evRef, final bool) {
	st := m.streams[key]
	var want evRef
	if seq >= 1 && seq <= uint64(len(st.slots)) {
		want = st.slots[seq-1]
	}
	if want == ref {
		return
	}
	at := m.ackedAt(ref)
	switch {
	case want == (evRef{}) && !final:
		st.unsure = append(st.unsure, observation{seq: seq, ref: ref})
	case want == (evRef{}) && at != 0:
		m.note(&m.found.dup, "%s: %s read %s at seq %d, also acknowledged at seq %d", key, who, m.name(ref), seq, at)
	case at != 0:
		m.note(&m.found.reorder, "%s: %s read %s at seq %d, acknowledged at seq %d (seq %d holds %s)", key, who, m.name(ref), seq, at, seq, m.name(want))
	default:
		m.note(&m.found.phantom, "%s: %s read %s at seq %d, which nobody acknowledged (want %s)", key, who, m.name(ref), seq, m.name(want))
	}
}

// streamCheck compares a stream, read page by page after a restart and
// its retries, with the acknowledged history from seq from on: the same
// events at the same seqs, nothing missing, nothing extra.
type streamCheck struct {
	m    *crashModel
	s    session
	from uint64
	// okAt[i] says seq from+i held its acknowledged event.
	okAt []bool
	// misplaced are events read at a seq other than their own.
	misplaced map[evRef]bool
}

// check starts a check of the stream key from seq from.
func (m *crashModel) check(key string, from uint64) *streamCheck {
	return &streamCheck{m: m, s: session{key: key, next: from, who: "the check after restart"}, from: from, misplaced: map[evRef]bool{}}
}

// page checks the next page of the stream.
func (c *streamCheck) page(events []*siltv1.Event) {
	m := c.m
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.streams[c.s.key]
	for _, e := range events {
		m.inSequence(&c.s, e)
		m.checked++
		seq := e.GetSeq()
		ref, ok := m.parse(c.s.key, e)
		if !ok {
			m.note(&m.found.phantom, "%s: seq %d holds %s, which no producer sent", c.s.key, seq, e.GetId())
			continue
		}
		if seq >= c.from && seq <= uint64(len(st.slots)) && st.slots[seq-1] == ref {
			for uint64(len(c.okAt)) <= seq-c.from {
				c.okAt = append(c.okAt, false)
			}
			c.okAt[seq-c.from] = true
			continue
		}
		c.misplaced[ref] = true
		m.judge(c.s.key, c.s.who, seq, ref, true)
	}
}

// finish reports every acknowledged event from seq from on that the pages
// did not hold, and judges the events readers saw before their
// acknowledgement (all of them when the check started at seq 1).
func (c *streamCheck) finish() {
	m := c.m
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.streams[c.s.key]
	for seq := c.from; seq <= uint64(len(st.slots)); seq++ {
		ref := st.slots[seq-1]
		i := seq - c.from
		if ref != (evRef{}) && (i >= uint64(len(c.okAt)) || !c.okAt[i]) && !c.misplaced[ref] {
			m.note(&m.found.lost, "%s: acknowledged %s at seq %d is gone", c.s.key, m.name(ref), seq)
		}
	}
	var keep []observation
	for _, o := range st.unsure {
		if o.seq < c.from {
			keep = append(keep, o)
			continue
		}
		m.judge(c.s.key, "a reader during the load", o.seq, o.ref, true)
	}
	st.unsure = keep
}

// length is how many seqs of the stream key are acknowledged.
func (m *crashModel) length(key string) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return uint64(len(m.streams[key].slots))
}

// result returns the counts and the first anomalies described.
func (m *crashModel) result() (anomalies, []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.found, append([]string(nil), m.notes...)
}
