//go:build unix

package diskspace

import (
	"fmt"
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"
)

// Statfs reads the filesystem holding dir: Free is what an unprivileged
// writer may use (f_bavail).
func Statfs(dir string) (Space, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return Space{}, fmt.Errorf("statfs %s: %w", dir, err)
	}
	bs := int64(st.Bsize) //nolint:unconvert // int64 on linux/amd64, int32 or uint32 elsewhere
	return Space{Free: int64(st.Bavail) * bs, Total: int64(st.Blocks) * bs}, nil
}

// Allocated is how many bytes fi's file occupies on disk: less than its
// size for a sparse file.
func Allocated(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512 // int64 on every unix
	}
	return fi.Size()
}
