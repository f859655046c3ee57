// Package durable writes files so that a crash leaves either the old
// content or the new one, never a mix: write a temporary file beside the
// target, fsync it, rename it over the target, fsync the directory. Every
// call goes through a vfs.FS, so tests can fail any of them.
package durable

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"

	"github.com/silt-io/silt/pkg/vfs"
)

// TempMarker separates a file's final name from the random suffix of its
// temporary file: "<path>.tmp-<random>". Anything with it in its name is a
// leftover of an interrupted write.
const TempMarker = ".tmp-"

// CreateTemp creates the temporary file that will become path (see
// Publish), creating path's parent directories.
func CreateTemp(fsys vfs.FS, path string) (vfs.File, error) {
	if err := fsys.MkdirAll(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("create directory of %s: %w", path, err)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("make temporary name: %w", err)
	}
	tmp := path + TempMarker + hex.EncodeToString(b[:])
	f, err := fsys.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", tmp, err)
	}
	return f, nil
}

// Publish makes f, written from CreateTemp(path), the file at path: fsync
// it, close it, rename it over path, fsync the directory. On an error
// before the rename the temporary file is removed and path is as it was;
// on an error syncing the directory after it, path has the new content,
// which a crash may still undo.
func Publish(fsys vfs.FS, f vfs.File, path string) (err error) {
	tmp := f.Name()
	renamed := false
	defer func() {
		if err != nil && !renamed {
			_ = fsys.Remove(tmp)
		}
	}()
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := fsys.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s into place: %w", path, err)
	}
	renamed = true
	return SyncDir(fsys, filepath.Dir(path))
}

// WriteFile atomically replaces path with data (see Publish for what an
// error leaves).
func WriteFile(fsys vfs.FS, path string, data []byte) error {
	f, err := CreateTemp(fsys, path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		_ = fsys.Remove(f.Name())
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	return Publish(fsys, f, path)
}

// SyncDir fsyncs a directory so renames and removals in it survive a crash.
func SyncDir(fsys vfs.FS, dir string) error {
	d, err := fsys.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	err = d.Sync()
	_ = d.Close() // opened read-only: Sync's result is the one that counts
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
