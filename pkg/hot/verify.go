package hot

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// verifyTables checks the checksum of every block of every Badger table,
// as Badger's OnTableAndBlockRead mode would at Open. That mode is not
// used: Badger v4.9.0 then dereferences a nil block when a table's block
// fails its check (table.Table.VerifyChecksum), in a goroutine of its own,
// and the process dies. DB.VerifyChecksum runs the same code in the
// caller's goroutine, so the panic is recovered here and becomes an error.
func verifyTables(db *badger.DB) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("verify badger tables: %w: a block failed its check (%v)", errCorrupt, p)
		}
	}()
	if err := db.VerifyChecksum(); err != nil {
		return fmt.Errorf("verify badger tables: %w: %v", errCorrupt, err) //nolint:errorlint // callers match errCorrupt, not Badger's error
	}
	return nil
}
