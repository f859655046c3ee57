// Package vfs is the filesystem seam for Silt's own files: segments, the
// manifest, their temporary files and the directory syncs that make
// renames durable. Production code uses [OS]; tests wrap it (package
// errorfs) to inject ENOSPC, EIO, short writes and failed renames or
// syncs at any call, and check that a failed step is never acknowledged
// and leaves nothing behind after recovery.
//
// Badger (the hot tier) keeps its own files and is not behind this seam.
package vfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// FS is the set of filesystem calls Silt's own files go through.
type FS interface {
	// Create creates name, which must not exist, for reading and writing.
	Create(name string) (File, error)
	// Open opens a file or a directory for reading (a directory only to
	// Sync it).
	Open(name string) (File, error)
	// Rename renames oldname to newname, replacing newname.
	Rename(oldname, newname string) error
	// Remove removes a file or an empty directory.
	Remove(name string) error
	// MkdirAll creates dir and any missing parents.
	MkdirAll(dir string) error
	// ReadDir lists dir, sorted by name.
	ReadDir(dir string) ([]fs.DirEntry, error)
}

// File is an open file of an [FS].
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.Seeker
	io.Closer
	// Sync flushes the file (or directory) to stable storage.
	Sync() error
	// Stat describes the file.
	Stat() (fs.FileInfo, error)
	// Name is the name it was opened with.
	Name() string
}

// OS is the operating system's filesystem.
var OS FS = osFS{}

type osFS struct{}

func (osFS) Create(name string) (File, error) {
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
}
func (osFS) Open(name string) (File, error)            { return os.Open(name) }
func (osFS) Rename(oldname, newname string) error      { return os.Rename(oldname, newname) }
func (osFS) Remove(name string) error                  { return os.Remove(name) }
func (osFS) MkdirAll(dir string) error                 { return os.MkdirAll(dir, 0o755) }
func (osFS) ReadDir(dir string) ([]fs.DirEntry, error) { return os.ReadDir(dir) }

// Or is fsys, or OS when fsys is nil: options leave their FS unset.
func Or(fsys FS) FS {
	if fsys == nil {
		return OS
	}
	return fsys
}

// ReadFile reads the whole file name.
func ReadFile(fsys FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(f)
	_ = f.Close() // opened read-only: Close has nothing left to report
	return b, err
}

// WalkFiles calls fn with the path of every regular file under root,
// recursively, in lexical order. A missing root is not an error.
func WalkFiles(fsys FS, root string, fn func(path string) error) error {
	entries, err := fsys.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", root, err)
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int {
		switch {
		case a.Name() < b.Name():
			return -1
		case a.Name() > b.Name():
			return 1
		}
		return 0
	})
	for _, e := range entries {
		path := filepath.Join(root, e.Name())
		if e.IsDir() {
			if err := WalkFiles(fsys, path, fn); err != nil {
				return err
			}
			continue
		}
		if err := fn(path); err != nil {
			return err
		}
	}
	return nil
}
