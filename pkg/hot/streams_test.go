package hot

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

func TestStore_CreateStream_Exists(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := openStore(t, func(o *Options) { o.Now = clock.Now })
	info := mustCreate(t, s, "p", "s")
	if info.Settings.ContentType != event.ContentTypeJSON || info.FirstSeq != 1 || info.LastSeq != 0 || !info.CreateTime.Equal(clock.Now()) {
		t.Errorf("info = %+v", info)
	}
	if _, err := s.CreateStream(t.Context(), "p", "s", event.StreamSettings{}); !errors.Is(err, event.ErrStreamExists) {
		t.Fatalf("err = %v, want ErrStreamExists", err)
	}
	if _, err := s.CreateStream(t.Context(), "q", "s", event.StreamSettings{}); err != nil {
		t.Fatalf("same name in another project: %v", err)
	}
}

func TestStore_GetStream_NotFound(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	if _, err := s.GetStream(t.Context(), "p", "s"); !errors.Is(err, event.ErrStreamNotFound) {
		t.Fatalf("err = %v", err)
	}
}

func TestStore_ListStreams_Pages(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	for _, n := range []string{"b", "a", "ab", "c", "abc", "b2"} {
		mustCreate(t, s, "p", n)
	}
	mustCreate(t, s, "p2", "a")
	mustCreate(t, s, "", "x")
	names := func(req event.ListStreamsRequest) string {
		t.Helper()
		infos, err := s.ListStreams(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, i := range infos {
			if i.Project != req.Project {
				t.Errorf("listed %s/%s", i.Project, i.Name)
			}
			out += i.Name + " "
		}
		return out
	}
	cases := []struct {
		req  event.ListStreamsRequest
		want string
	}{
		{event.ListStreamsRequest{Project: "p"}, "a ab abc b b2 c "},
		{event.ListStreamsRequest{Project: "p", Limit: 2}, "a ab "},
		{event.ListStreamsRequest{Project: "p", After: "ab", Limit: 2}, "abc b "},
		{event.ListStreamsRequest{Project: "p", Prefix: "a"}, "a ab abc "},
		{event.ListStreamsRequest{Project: "p", Prefix: "b", After: "a"}, "b b2 "},
		{event.ListStreamsRequest{Project: "p", Prefix: "a", After: "ab"}, "abc "},
		{event.ListStreamsRequest{Project: "p", After: "c"}, ""},
		{event.ListStreamsRequest{Project: "p2"}, "a "},
		{event.ListStreamsRequest{Project: "nobody"}, ""},
	}
	for _, c := range cases {
		if got := names(c.req); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.req, got, c.want)
		}
	}
}

func TestStore_UpdateStream_ReplacesSettings(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := openStore(t, func(o *Options) { o.Now = clock.Now })
	created := mustCreate(t, s, "p", "s")
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(1, "a")...)})
	clock.Add(time.Minute)
	set := event.StreamSettings{ContentType: "text/plain", RetentionMaxAge: time.Hour, RetentionMaxBytes: 1 << 30}
	info, err := s.UpdateStream(t.Context(), "p", "s", set)
	if err != nil {
		t.Fatal(err)
	}
	if info.Settings != set || !info.UpdateTime.Equal(clock.Now()) || !info.CreateTime.Equal(created.CreateTime) || info.LastSeq != 1 {
		t.Errorf("info = %+v", info)
	}
	got, _ := s.GetStream(t.Context(), "p", "s")
	if got != info {
		t.Errorf("GetStream = %+v, want %+v", got, info)
	}
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(event.Event{Data: []byte("x")})})
	evs := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s"}).Events
	if evs[0].ContentType != event.ContentTypeJSON || evs[1].ContentType != "text/plain" {
		t.Errorf("content types %q %q", evs[0].ContentType, evs[1].ContentType)
	}
	if _, err := s.UpdateStream(t.Context(), "p", "nope", set); !errors.Is(err, event.ErrStreamNotFound) {
		t.Errorf("update missing: %v", err)
	}
}

func TestStore_DeleteStream_RecreateStartsOver(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	for i := range 5 {
		if _, err := appendAs(t, s, "s", "w", 0, uint64(i), 100); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteStream(t.Context(), "p", "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(t.Context(), event.ReadRequest{Project: "p", Stream: "s", Limit: 1}); !errors.Is(err, event.ErrStreamNotFound) {
		t.Errorf("read after delete: %v", err)
	}
	if err := s.DeleteStream(t.Context(), "p", "s"); !errors.Is(err, event.ErrStreamNotFound) {
		t.Errorf("second delete: %v", err)
	}
	// Same producer starts again at seq 0 on the new stream: its old state is gone.
	res, err := appendAs(t, s, "s", "w", 0, 0, 1)
	if err != nil || res.FirstSeq != 1 || res.Duplicate {
		t.Fatalf("append to recreated stream: %+v, %v", res, err)
	}
	read := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s"})
	if len(read.Events) != 1 || read.LastSeq != 1 {
		t.Fatalf("recreated stream reads %d events, last seq %d", len(read.Events), read.LastSeq)
	}
	info, _ := s.GetStream(t.Context(), "p", "s")
	if info.EventCount != 1 {
		t.Errorf("count %d", info.EventCount)
	}
	// The old id's data is purged in the background.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := countKeys(t, s, idPrefix(spaceBlock, 1)) + countKeys(t, s, idPrefix(spaceTime, 1)) +
			countKeys(t, s, idPrefix(spaceProducer, 1)) + countKeys(t, s, tombstoneKey(1))
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d keys of the deleted stream remain", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStore_DeleteStream_SameGroupDeleteAndRecreate(t *testing.T) {
	t.Parallel()
	g := newGate()
	s := openStore(t, func(o *Options) { o.OnCommit = g.onCommit })
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(3, "old")...), AutoCreate: true})
	g.park(t, s)
	errs := make(chan error, 3)
	ops := []func() error{
		func() error { return s.DeleteStream(t.Context(), "p", "s") },
		func() error {
			_, err := s.Append(t.Context(), event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(1, "new")...), AutoCreate: true})
			return err
		},
		func() error { return s.DeleteStream(t.Context(), "p", "gone") },
	}
	for i, op := range ops {
		go func() { errs <- op() }()
		waitQueued(t, s, i+1)
	}
	close(g.release)
	var failed int
	for range ops {
		if err := <-errs; err != nil {
			if !errors.Is(err, event.ErrStreamNotFound) {
				t.Errorf("op: %v", err)
			}
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("%d ops failed, want only the delete of a missing stream", failed)
	}
	res := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s"})
	if len(res.Events) != 1 || res.Events[0].Type != "new" || res.Events[0].Seq != 1 {
		t.Fatalf("events %+v", res.Events)
	}
}

func TestStore_ListStreams_ManyAfterRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(testOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		if _, err := s.CreateStream(t.Context(), "p", fmt.Sprintf("s%02d", i), event.StreamSettings{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	s = openStoreIn(t, dir)
	infos, err := s.ListStreams(t.Context(), event.ListStreamsRequest{Project: "p", After: "s09", Limit: 5})
	if err != nil || len(infos) != 5 || infos[0].Name != "s10" {
		t.Fatalf("list: %v %+v", err, infos)
	}
	info := mustCreate(t, s, "p", "new")
	_ = info
	if st := s.streamsSnapshotID(t, "p", "new"); st <= 30 {
		t.Errorf("new stream got id %d, an id used before the restart", st)
	}
}
