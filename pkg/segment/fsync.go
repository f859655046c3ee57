package segment

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/silt-io/silt/pkg/durable"
)

// tempMarker separates a segment's final name from the random suffix of its
// temporary file: "<path>.tmp-<random>", as for every file package durable
// writes.
const tempMarker = durable.TempMarker

// createTemp creates the temporary file a segment at path is written to,
// creating path's parent directories.
func createTemp(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create segment directory: %w", err)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("make temporary name: %w", err)
	}
	f, err := os.OpenFile(path+tempMarker+hex.EncodeToString(b[:]), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create temporary segment: %w", err)
	}
	return f, nil
}

// publish makes a written temporary file the segment at path: fsync the
// file, close it, rename it over path, and fsync the directory so the rename
// survives a crash. On error the temporary file is removed.
func publish(f *os.File, path string) (err error) {
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync segment: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close segment: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename segment into place: %w", err)
	}
	if err := durable.SyncDir(filepath.Dir(path)); err != nil {
		return err
	}
	return nil
}

// IsTemp reports whether name is the temporary file of a segment being
// written (or left over by a crash). Such files are never segments.
func IsTemp(name string) bool { return strings.Contains(filepath.Base(name), tempMarker) }

// CleanTemp removes the temporary files that writers interrupted by a crash
// left under dir (recursively) and returns how many it removed. Call it at
// start-up, before any [Writer] runs under dir: it would remove the
// temporary file of a writer in progress too. A missing dir is not an error.
func CleanTemp(dir string) (int, error) {
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || !IsTemp(d.Name()) {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
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
