package hot

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

func TestStore_Read_MissingStream(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	_, err := s.Read(t.Context(), event.ReadRequest{Project: "p", Stream: "nope", Limit: 10})
	if !errors.Is(err, event.ErrStreamNotFound) {
		t.Fatalf("err = %v", err)
	}
}

func TestStore_Read_EmptyStream(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	mustCreate(t, s, "p", "s")
	res := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s"})
	if len(res.Events) != 0 || res.NextSeq != 1 || res.FirstSeq != 1 || res.LastSeq != 0 || !res.UpToDate() {
		t.Fatalf("res = %+v", res)
	}
}

func TestStore_Read_FromSeqPagesWithLimit(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	for range 10 {
		mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(3, "a")...), AutoCreate: true})
	}
	var seen []uint64
	next := uint64(0)
	for {
		res := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s", FromSeq: next, Limit: 4})
		if res.FirstSeq != 1 || res.LastSeq != 30 {
			t.Fatalf("extent %d..%d", res.FirstSeq, res.LastSeq)
		}
		for _, e := range res.Events {
			seen = append(seen, e.Seq)
		}
		next = res.NextSeq
		if res.UpToDate() {
			break
		}
		if len(res.Events) != 4 {
			t.Fatalf("page of %d events before the tail", len(res.Events))
		}
	}
	for i, seq := range seen {
		if seq != uint64(i+1) {
			t.Fatalf("seen %v", seen)
		}
	}
	if len(seen) != 30 || next != 31 {
		t.Fatalf("seen %d events, next %d", len(seen), next)
	}
}

func TestStore_Read_FromSeqBeyondLast(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(3, "a")...), AutoCreate: true})
	res := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s", FromSeq: 10})
	if len(res.Events) != 0 || res.NextSeq != 10 || res.LastSeq != 3 {
		t.Fatalf("res = %+v", res)
	}
}

func TestStore_Read_MaxBytes(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	evs := make([]event.Event, 10)
	for i := range evs {
		evs[i] = event.Event{Data: []byte(fmt.Sprintf(`"%08d"`, i))} // 10 bytes each
	}
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(evs...), AutoCreate: true})
	// MaxBytes counts each event's Size (all ten are the same size here).
	all := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s", Limit: 10})
	size := all.Events[0].Size()
	res := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s", MaxBytes: 3*size + size/2})
	if len(res.Events) != 3 || res.NextSeq != 4 {
		t.Errorf("MaxBytes 3.5 events: %d events, next %d; want 3, 4", len(res.Events), res.NextSeq)
	}
	res = mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s", FromSeq: 5, MaxBytes: 1})
	if len(res.Events) != 1 || res.Events[0].Seq != 5 || res.NextSeq != 6 {
		t.Errorf("MaxBytes 1: %d events, next %d; want one event", len(res.Events), res.NextSeq)
	}
}

func TestStore_Read_FromTimeSeeks(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := openStore(t, func(o *Options) { o.Now = clock.Now })
	start := clock.Now()
	for i := range 20 {
		clock.Set(start.Add(time.Duration(i) * time.Minute))
		mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(2, "a")...), AutoCreate: true})
	}
	cases := []struct {
		from     time.Time
		wantSeq  uint64 // first seq returned; 0 for none
		wantNext uint64
	}{
		{start.Add(-time.Hour), 1, 41},
		{start, 1, 41},
		{start.Add(5 * time.Minute), 11, 41},
		{start.Add(5*time.Minute + time.Nanosecond), 13, 41},
		{start.Add(19 * time.Minute), 39, 41},
		{start.Add(20 * time.Minute), 0, 41},
	}
	for _, c := range cases {
		res := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s", FromTime: c.from, FromSeq: 7})
		var first uint64
		if len(res.Events) > 0 {
			first = res.Events[0].Seq
			if res.Events[0].IngestTime.Before(c.from) {
				t.Errorf("from %v: first event ingested at %v", c.from, res.Events[0].IngestTime)
			}
		}
		if first != c.wantSeq || res.NextSeq != c.wantNext {
			t.Errorf("from %v: first seq %d next %d, want %d and %d", c.from.Sub(start), first, res.NextSeq, c.wantSeq, c.wantNext)
		}
	}
}
