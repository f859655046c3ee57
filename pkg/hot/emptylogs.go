package hot

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// removeEmptyLogs deletes the empty memtable logs (*.mem) and value logs
// (*.vlog) in Badger's directory dir. Badger creates such a file and then
// sizes it and writes its header; a process killed in between leaves it
// empty, and Badger's Open refuses an empty log with "Create a new file"
// (sizing it on the way, so the next Open gets one file further). An empty
// log holds no entry, not even its header, so deleting it loses nothing.
func removeEmptyLogs(dir string, log *slog.Logger) error {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".mem") || strings.HasSuffix(name, ".vlog")) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return fmt.Errorf("stat %s: %w", name, err)
		}
		if info.Size() != 0 {
			continue
		}
		log.Info("hot: deleting an empty log an interrupted start or rotation left", "file", name)
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("remove empty log %s: %w", name, err)
		}
	}
	return nil
}
