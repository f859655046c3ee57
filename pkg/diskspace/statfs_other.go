//go:build !unix

package diskspace

import (
	"errors"
	"io/fs"
)

// Statfs is not supported here; a Guard then admits every write.
func Statfs(string) (Space, error) { return Space{}, errors.ErrUnsupported }

// Allocated is fi's size: sparse files are not seen here.
func Allocated(fi fs.FileInfo) int64 { return fi.Size() }
