package hot

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// openStore opens a store in a fresh directory and closes it at cleanup.
func openStore(t testing.TB, mods ...func(*Options)) *Store {
	t.Helper()
	return openStoreIn(t, t.TempDir(), mods...)
}

func testOptions(dir string, mods ...func(*Options)) Options {
	opts := DefaultOptions(dir)
	opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for _, m := range mods {
		m(&opts)
	}
	return opts
}

func openStoreIn(t testing.TB, dir string, mods ...func(*Options)) *Store {
	t.Helper()
	s, err := Open(testOptions(dir, mods...))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex // protects t
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func jsonEvents(n int, typ string) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = event.Event{Type: typ, Data: []byte(`{"n":1}`)}
	}
	return evs
}

func mustAppend(t testing.TB, s *Store, req event.AppendRequest) event.AppendResult {
	t.Helper()
	res, err := s.Append(t.Context(), req)
	if err != nil {
		t.Fatalf("Append(%s/%s): %v", req.Project, req.Stream, err)
	}
	return res
}

func mustCreate(t testing.TB, s *Store, project, stream string) event.StreamInfo {
	t.Helper()
	info, err := s.CreateStream(t.Context(), project, stream, event.StreamSettings{})
	if err != nil {
		t.Fatalf("CreateStream(%s/%s): %v", project, stream, err)
	}
	return info
}

func mustRead(t testing.TB, s *Store, req event.ReadRequest) event.ReadResult {
	t.Helper()
	if req.Limit == 0 {
		req.Limit = 10000
	}
	res, err := s.Read(t.Context(), req)
	if err != nil {
		t.Fatalf("Read(%+v): %v", req, err)
	}
	return res
}

func u64(v uint64) *uint64 { return &v }

// holdCommitter makes the committer stop in OnCommit after the next append
// to project/"gate" until release is called, so requests queued meanwhile
// form one group.
type gate struct {
	entered chan struct{}
	release chan struct{}
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 1), release: make(chan struct{})} }

func (g *gate) onCommit(project, stream string, _ uint64) {
	if stream == "gate" {
		g.entered <- struct{}{}
		<-g.release
	}
}

// countKeys counts the keys under prefix.
func countKeys(t testing.TB, s *Store, prefix []byte) int {
	t.Helper()
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// park appends to "gate" and returns once the committer is parked in its
// OnCommit; requests queued until release is closed form one group.
func (g *gate) park(t testing.TB, s *Store) {
	t.Helper()
	go func() {
		if _, err := s.Append(context.Background(), event.AppendRequest{Project: "p", Stream: "gate", Events: record.Pack(jsonEvents(1, "a")...), AutoCreate: true}); err != nil {
			t.Errorf("append to gate: %v", err)
		}
	}()
	<-g.entered
}

// streamsSnapshotID reads a stream's internal id from Badger.
func (s *Store) streamsSnapshotID(t testing.TB, project, name string) uint64 {
	t.Helper()
	var id uint64
	err := s.db.View(func(txn *badger.Txn) error {
		st, err := getMeta(txn, project, name)
		if err == nil {
			id = st.id
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// randomBytes returns n bytes that do not compress.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return b
}

// appendEvent appends uvarint(len(record)) and e's record, with id in
// place of e.ID, to dst: what Append stores for e.
func appendEvent(dst []byte, e *event.Event, id string) []byte {
	return appendRecord(dst, &record.Pack(*e)[0], id)
}
