// Package errorfs wraps a vfs.FS to fail chosen calls, for tests that
// sweep a fault over every call of a step (a rotation, a compaction):
// ENOSPC, EIO, short writes, failed renames and syncs.
package errorfs

import (
	"io/fs"
	"sync"
	"syscall"

	"github.com/silt-io/silt/pkg/vfs"
)

// Op is a kind of filesystem call.
type Op int

// The calls an FS counts.
const (
	OpCreate Op = iota
	OpOpen
	OpRead
	OpWrite
	OpSync
	OpClose
	OpStat
	OpRename
	OpRemove
	OpMkdirAll
	OpReadDir
)

var opNames = [...]string{"create", "open", "read", "write", "sync", "close", "stat", "rename", "remove", "mkdir", "readdir"}

// String names the call.
func (o Op) String() string { return opNames[o] }

// Writes reports whether o changes the filesystem or makes a change
// durable: the calls a fault sweep of a write path is about.
func (o Op) Writes() bool {
	switch o {
	case OpCreate, OpWrite, OpSync, OpClose, OpRename, OpRemove, OpMkdirAll:
		return true
	}
	return false
}

// Call is one counted call.
type Call struct {
	// N is the call's index among the calls Inject saw, from 0.
	N    int
	Op   Op
	Path string
}

// FS is a vfs.FS whose Inject decides, call by call, whether it fails.
type FS struct {
	vfs.FS
	// Inject returns the error for a call, or nil to let it through. A
	// write that fails writes half its bytes first (a short write). Nil
	// fails nothing.
	Inject func(Call) error

	mu sync.Mutex
	n  int
}

// New wraps fsys; inject may be nil and set later (before use).
func New(fsys vfs.FS, inject func(Call) error) *FS { return &FS{FS: fsys, Inject: inject} }

// Calls is how many calls the FS has seen.
func (f *FS) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// fault counts a call and returns its injected error.
func (f *FS) fault(op Op, path string) error {
	f.mu.Lock()
	c := Call{N: f.n, Op: op, Path: path}
	f.n++
	inject := f.Inject
	f.mu.Unlock()
	if inject == nil {
		return nil
	}
	if err := inject(c); err != nil {
		return &fs.PathError{Op: op.String(), Path: path, Err: err}
	}
	return nil
}

// ErrFor is the error a sweep injects into a call of op: ENOSPC where
// space runs out, EIO where a device fails.
func ErrFor(op Op) error {
	switch op {
	case OpCreate, OpWrite, OpMkdirAll, OpClose:
		return syscall.ENOSPC
	}
	return syscall.EIO
}

// Create implements vfs.FS.
func (f *FS) Create(name string) (vfs.File, error) {
	if err := f.fault(OpCreate, name); err != nil {
		return nil, err
	}
	file, err := f.FS.Create(name)
	if err != nil {
		return nil, err
	}
	return &File{File: file, fs: f}, nil
}

// Open implements vfs.FS.
func (f *FS) Open(name string) (vfs.File, error) {
	if err := f.fault(OpOpen, name); err != nil {
		return nil, err
	}
	file, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	return &File{File: file, fs: f}, nil
}

// Rename implements vfs.FS.
func (f *FS) Rename(oldname, newname string) error {
	if err := f.fault(OpRename, newname); err != nil {
		return err
	}
	return f.FS.Rename(oldname, newname)
}

// Remove implements vfs.FS.
func (f *FS) Remove(name string) error {
	if err := f.fault(OpRemove, name); err != nil {
		return err
	}
	return f.FS.Remove(name)
}

// MkdirAll implements vfs.FS.
func (f *FS) MkdirAll(dir string) error {
	if err := f.fault(OpMkdirAll, dir); err != nil {
		return err
	}
	return f.FS.MkdirAll(dir)
}

// ReadDir implements vfs.FS.
func (f *FS) ReadDir(dir string) ([]fs.DirEntry, error) {
	if err := f.fault(OpReadDir, dir); err != nil {
		return nil, err
	}
	return f.FS.ReadDir(dir)
}

// File is a file of an errorfs FS.
type File struct {
	vfs.File
	fs *FS
}

// Read implements io.Reader.
func (f *File) Read(p []byte) (int, error) {
	if err := f.fs.fault(OpRead, f.Name()); err != nil {
		return 0, err
	}
	return f.File.Read(p)
}

// ReadAt implements io.ReaderAt.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.fault(OpRead, f.Name()); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

// Write implements io.Writer; a failed write is a short one.
func (f *File) Write(p []byte) (int, error) {
	if err := f.fs.fault(OpWrite, f.Name()); err != nil {
		n, _ := f.File.Write(p[:len(p)/2])
		return n, err
	}
	return f.File.Write(p)
}

// Sync implements vfs.File.
func (f *File) Sync() error {
	if err := f.fs.fault(OpSync, f.Name()); err != nil {
		return err
	}
	return f.File.Sync()
}

// Close implements io.Closer; a failed close still closes.
func (f *File) Close() error {
	if err := f.fs.fault(OpClose, f.Name()); err != nil {
		_ = f.File.Close()
		return err
	}
	return f.File.Close()
}

// Stat implements vfs.File.
func (f *File) Stat() (fs.FileInfo, error) {
	if err := f.fs.fault(OpStat, f.Name()); err != nil {
		return nil, err
	}
	return f.File.Stat()
}
