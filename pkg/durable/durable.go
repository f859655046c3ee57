// Package durable writes files so that a crash leaves either the old
// content or the new one, never a mix: write a temporary file beside the
// target, fsync it, rename it over the target, fsync the directory.
package durable

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// TempMarker separates a file's final name from the random suffix of its
// temporary file: "<path>.tmp-<random>". Anything with it in its name is a
// leftover of an interrupted write.
const TempMarker = ".tmp-"

// CreateTemp creates the temporary file that will become path (see
// Publish), creating path's parent directories.
func CreateTemp(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create directory of %s: %w", path, err)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("make temporary name: %w", err)
	}
	tmp := path + TempMarker + hex.EncodeToString(b[:])
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", tmp, err)
	}
	return f, nil
}

// Publish makes f, written from CreateTemp(path), the file at path: fsync
// it, close it, rename it over path, fsync the directory. On error the
// temporary file is removed and path is as it was.
func Publish(f *os.File, path string) (err error) {
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s into place: %w", path, err)
	}
	return SyncDir(filepath.Dir(path))
}

// WriteFile atomically replaces path with data.
func WriteFile(path string, data []byte) error {
	f, err := CreateTemp(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	return Publish(f, path)
}

// SyncDir fsyncs a directory so renames and removals in it survive a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
