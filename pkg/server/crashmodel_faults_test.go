package server_test

import (
	"fmt"
	"testing"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// crashEvent is the event producer name's event n, as stored at seq.
func crashEvent(name string, n int, seq uint64) *siltv1.Event {
	return &siltv1.Event{
		Seq: seq, Id: fmt.Sprintf("%s-%d", name, n), Type: "crash",
		Attributes: map[string]string{"writer": name},
		Payload:    &siltv1.Event_BinaryData{BinaryData: fmt.Appendf(nil, `{"n":%d}`, n)},
	}
}

// ackN acknowledges events from..to of producer name at seqs first on.
func ackN(m *crashModel, name string, from, to int, first uint64) {
	var in []*siltv1.EventInput
	for n := from; n <= to; n++ {
		in = append(in, &siltv1.EventInput{Id: fmt.Sprintf("%s-%d", name, n)})
	}
	m.ack(name, &siltv1.AppendResponse{FirstSeq: first, LastSeq: first + uint64(len(in)) - 1}, in)
}

// TestCrashModel_Check_FindsEachAnomaly feeds the crash run's checker
// histories with one fault each: a checker that cannot fail proves nothing.
func TestCrashModel_Check_FindsEachAnomaly(t *testing.T) {
	t.Parallel()
	const key = "p/s"
	// The acknowledged history of every case: a-1..a-3 at 1..3, b-1..b-2 at 4..5.
	history := func() *crashModel {
		m := newCrashModel()
		m.addProducer("a", key)
		m.addProducer("b", key)
		m.addProducer("x", "p/other")
		ackN(m, "a", 1, 3, 1)
		ackN(m, "b", 1, 2, 4)
		return m
	}
	good := func() []*siltv1.Event {
		return []*siltv1.Event{crashEvent("a", 1, 1), crashEvent("a", 2, 2), crashEvent("a", 3, 3), crashEvent("b", 1, 4), crashEvent("b", 2, 5)}
	}
	cases := []struct {
		name string
		read func() []*siltv1.Event
		want func(a anomalies) bool
	}{
		{"exact", good, func(a anomalies) bool { return a.total() == 0 }},
		{"lost tail", func() []*siltv1.Event { return good()[:4] }, func(a anomalies) bool { return a.lost == 1 && a.total() == 1 }},
		{"gap", func() []*siltv1.Event { e := good(); return append(e[:2], e[3:]...) }, func(a anomalies) bool { return a.gap == 1 && a.lost == 1 }},
		{"dup at the tail", func() []*siltv1.Event { return append(good(), crashEvent("b", 2, 6)) }, func(a anomalies) bool { return a.dup == 1 && a.total() == 1 }},
		{"swapped", func() []*siltv1.Event {
			e := good()
			e[1], e[2] = crashEvent("a", 3, 2), crashEvent("a", 2, 3)
			return e
		}, func(a anomalies) bool { return a.reorder == 2 && a.total() == 2 }},
		{"out of order seqs", func() []*siltv1.Event { e := good(); e[1], e[2] = e[2], e[1]; return e }, func(a anomalies) bool { return a.reorder == 1 && a.gap == 2 && a.total() == 3 }},
		{"unacknowledged event", func() []*siltv1.Event { return append(good(), crashEvent("a", 4, 6)) }, func(a anomalies) bool { return a.phantom == 1 && a.total() == 1 }},
		{"wrong content", func() []*siltv1.Event {
			e := good()
			e[0].Payload = &siltv1.Event_BinaryData{BinaryData: []byte(`{"n":7}`)}
			return e
		}, func(a anomalies) bool { return a.phantom == 1 && a.lost == 1 }},
		{"another stream's event", func() []*siltv1.Event { return append(good(), crashEvent("x", 1, 6)) }, func(a anomalies) bool { return a.phantom == 1 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := history()
			c := m.check(key, 1)
			c.page(tc.read())
			c.finish()
			if got, notes := m.result(); !tc.want(got) {
				t.Fatalf("found %v (%q)", got, notes)
			}
		})
	}
}

// TestCrashModel_Observe_JudgesUnacknowledgedLater checks that an event a
// reader sees before its acknowledgement is judged at the next check: fine
// when the retry acknowledges it there, a phantom when nothing does.
func TestCrashModel_Observe_JudgesUnacknowledgedLater(t *testing.T) {
	t.Parallel()
	const key = "p/s"
	m := newCrashModel()
	m.addProducer("a", key)
	ackN(m, "a", 1, 1, 1)
	m.observe(&session{key: key, next: 1, who: "r"}, []*siltv1.Event{crashEvent("a", 1, 1), crashEvent("a", 2, 2), crashEvent("a", 3, 3)})
	if got, _ := m.result(); got.total() != 0 {
		t.Fatalf("before the retry: %v", got)
	}
	ackN(m, "a", 2, 2, 2) // the retry lands a-2 at seq 2; a-3 was never sent for real
	c := m.check(key, 1)
	c.page([]*siltv1.Event{crashEvent("a", 1, 1), crashEvent("a", 2, 2)})
	c.finish()
	if got, notes := m.result(); got.phantom != 1 || got.total() != 1 {
		t.Fatalf("found %v (%q), want the one phantom a-3", got, notes)
	}
	m.observe(&session{key: key, next: 1, who: "r"}, []*siltv1.Event{crashEvent("a", 1, 1), crashEvent("a", 2, 3)})
	m.observe(&session{key: key, next: 1, who: "r"}, []*siltv1.Event{crashEvent("a", 2, 1)})
	if got, _ := m.result(); got.gap != 1 || got.reorder != 1 || got.total() != 3 {
		t.Fatalf("a read skipping seq 2, and a-2 read at seq 1: %v", got)
	}
}
