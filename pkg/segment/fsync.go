package segment

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/silt-io/silt/pkg/durable"
	"github.com/silt-io/silt/pkg/vfs"
)

// tempMarker separates a segment's final name from the random suffix of its
// temporary file: "<path>.tmp-<random>", as for every file package durable
// writes.
const tempMarker = durable.TempMarker

// IsTemp reports whether name is the temporary file of a segment being
// written (or left over by a crash). Such files are never segments.
func IsTemp(name string) bool { return strings.Contains(filepath.Base(name), tempMarker) }

// CleanTemp removes the temporary files that writers interrupted by a crash
// left under dir (recursively) and returns how many it removed. Call it at
// start-up, before any [Writer] runs under dir: it would remove the
// temporary file of a writer in progress too. A missing dir is not an error.
func CleanTemp(fsys vfs.FS, dir string) (int, error) {
	n := 0
	err := vfs.WalkFiles(fsys, dir, func(path string) error {
		if !IsTemp(path) {
			return nil
		}
		if err := fsys.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("clean temporary segments under %s: %w", dir, err)
	}
	return n, nil
}
