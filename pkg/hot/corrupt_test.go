package hot

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// appendBlocks appends n appends of 10 events of 1000 random bytes to p/s:
// blocks of 10 KB that do not compress, which Badger keeps in its value
// log. It returns every event's data, by seq.
func appendBlocks(t *testing.T, s *Store, n int) map[uint64][]byte {
	t.Helper()
	data := make(map[uint64][]byte)
	for range n {
		evs := make([]event.Event, 10)
		for i := range evs {
			evs[i] = event.Event{Type: "t", ContentType: "application/octet-stream", Data: randomBytes(1000)}
		}
		res := mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(evs...), AutoCreate: true})
		for i := range evs {
			data[res.FirstSeq+uint64(i)] = evs[i].Data
		}
	}
	return data
}

// damageFile flips a byte of the first file in dir matching glob whose
// bytes contain needle, in the middle of the needle.
func damageFile(t *testing.T, dir, glob string, needle []byte) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, glob))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(b, needle)
		if i < 0 {
			continue
		}
		b[i+len(needle)/2] ^= 0xff
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("no %s file in %s holds the bytes to damage", glob, dir)
}

// wantLost checks that err is a lost range first..last wrapping ErrCorrupt.
func wantLost(t *testing.T, err error, first, last uint64) {
	t.Helper()
	var lost *event.RangeError
	if !errors.As(err, &lost) || !errors.Is(err, event.ErrCorrupt) {
		t.Fatalf("err = %v, want a lost range wrapping ErrCorrupt", err)
	}
	if lost.FirstSeq != first || lost.LastSeq != last || lost.Project != "p" || lost.Stream != "s" {
		t.Fatalf("lost range %s/%s %d..%d, want p/s %d..%d", lost.Project, lost.Stream, lost.FirstSeq, lost.LastSeq, first, last)
	}
}

// wantSeqs checks that res holds exactly seqs first..last.
func wantSeqs(t *testing.T, res event.ReadResult, first, last uint64) {
	t.Helper()
	if uint64(len(res.Events)) != last-first+1 || res.Events[0].Seq != first || res.NextSeq != last+1 {
		t.Fatalf("read %d events from seq %d, next %d; want %d..%d", len(res.Events), seqOf(res.Events), res.NextSeq, first, last)
	}
	for i, e := range res.Events {
		if e.Seq != first+uint64(i) {
			t.Fatalf("event %d has seq %d, want %d", i, e.Seq, first+uint64(i))
		}
	}
}

func seqOf(evs []event.Event) uint64 {
	if len(evs) == 0 {
		return 0
	}
	return evs[0].Seq
}

// TestStore_Read_DamagedValueLogIsLostRange damages one block's bytes in
// Badger's value log: the checksum catches it, Read returns the events
// before it, then fails naming the block's seqs, and reads on after it.
//
// The block is in the first of several value-log files. Damage in the last
// one is another story: Badger's Open takes it for a torn write and
// truncates the file there, so every block after it in that file is lost
// (and each read of one names its range).
func TestStore_Read_DamagedValueLogIsLostRange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	small := func(o *Options) { o.valueLogFileSize = 1 << 20 }
	s := openStoreIn(t, dir, small)
	data := appendBlocks(t, s, 300) // ~3 MB: three value-log files
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	damageFile(t, dir, "000001.vlog", data[35]) // the block of seqs 31..40

	s = openStoreIn(t, dir, small)
	res := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s", FromSeq: 1})
	wantSeqs(t, res, 1, 30)
	_, err := s.Read(t.Context(), event.ReadRequest{Project: "p", Stream: "s", FromSeq: res.NextSeq, Limit: 100})
	wantLost(t, err, 31, 40)
	_, err = s.Read(t.Context(), event.ReadRequest{Project: "p", Stream: "s", FromSeq: 35, Limit: 100})
	wantLost(t, err, 35, 40)
	rest := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s", FromSeq: 41})
	wantSeqs(t, rest, 41, 3000)
	for _, e := range rest.Events {
		if !bytes.Equal(e.Data, data[e.Seq]) {
			t.Fatalf("seq %d reads other bytes", e.Seq)
		}
	}

	err = s.View(t.Context(), func(sn *Snapshot) error {
		x, err := sn.Stream("p", "s")
		if err != nil {
			return err
		}
		n := 0
		err = sn.Scan(t.Context(), x, x.LastSeq, func(*event.Event) error { n++; return nil })
		if n != 30 {
			t.Errorf("scan passed %d events before the damage, want 30", n)
		}
		return err
	})
	wantLost(t, err, 31, 40)
}

// TestStore_Read_LostBlockIsLostRange deletes blocks from Badger behind the
// store's back: the first, a middle one and the last. Read used to skip
// them (or answer an empty page); now it names them.
func TestStore_Read_LostBlockIsLostRange(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	appendBlocks(t, s, 10)
	id := s.streamsSnapshotID(t, "p", "s")
	err := s.db.Update(func(txn *badger.Txn) error {
		for _, last := range []uint64{10, 50, 100} {
			if err := txn.Delete(blockKey(id, last)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	_, err = s.Read(t.Context(), event.ReadRequest{Project: "p", Stream: "s", FromSeq: 1, Limit: 100})
	wantLost(t, err, 1, 10)
	res := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s", FromSeq: 11})
	wantSeqs(t, res, 11, 40)
	_, err = s.Read(t.Context(), event.ReadRequest{Project: "p", Stream: "s", FromSeq: 41, Limit: 100})
	wantLost(t, err, 41, 50)
	res = mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s", FromSeq: 51})
	wantSeqs(t, res, 51, 90)
	_, err = s.Read(t.Context(), event.ReadRequest{Project: "p", Stream: "s", FromSeq: 91, Limit: 100})
	wantLost(t, err, 91, 100)

	// A new append after the lost tail: reading from the tail's start
	// still fails; it does not jump to the new events.
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(1, "new")...)})
	_, err = s.Read(t.Context(), event.ReadRequest{Project: "p", Stream: "s", FromSeq: 91, Limit: 100})
	wantLost(t, err, 91, 100)
	wantSeqs(t, mustRead(t, s, event.ReadRequest{Project: "p", Stream: "s", FromSeq: 101}), 101, 101)
}

// TestStore_Open_DamagedTableFails damages a table holding small blocks:
// with table checksums verified, Open refuses the store instead of serving
// a gap.
func TestStore_Open_DamagedTableFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openStoreIn(t, dir)
	for range 20 {
		mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "s", Events: record.Pack(jsonEvents(5, "small")...), AutoCreate: true})
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	damageFile(t, dir, "*.sst", []byte("small"))
	s, err := Open(testOptions(dir))
	if err == nil {
		_ = s.Close(t.Context())
		t.Fatal("Open of a store with a damaged table succeeded")
	}
	if !errors.Is(err, event.ErrCorrupt) {
		t.Errorf("Open: %v, want ErrCorrupt", err)
	}
}
