package hot

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// TestStore_Open_AfterKillBetweenCreateAndSizeOfALog reopens a store whose
// process was killed right after Badger created a memtable log and a value
// log, before it sized them: empty files that Badger's Open refused with
// "Create a new file", once for each (the crash run found it after 450
// kills).
func TestStore_Open_AfterKillBetweenCreateAndSizeOfALog(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openStoreIn(t, dir)
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "a", Events: record.Pack(jsonEvents(5, "x")...), AutoCreate: true})
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"99999.mem", "999999.vlog"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(testOptions(dir))
	if err != nil {
		t.Fatalf("open after a kill left empty logs: %v", err)
	}
	defer s.Close(t.Context())
	res, err := s.Read(t.Context(), event.ReadRequest{Project: "p", Stream: "a", Limit: 10})
	if err != nil || len(res.Events) != 5 {
		t.Fatalf("read after reopen: %d events, %v", len(res.Events), err)
	}
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "a", Events: record.Pack(jsonEvents(1, "x")...)})
}
