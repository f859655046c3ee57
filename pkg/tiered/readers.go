package tiered

import (
	"path/filepath"
	"sync"

	"github.com/silt-io/silt/pkg/manifest"
	"github.com/silt-io/silt/pkg/segment"
	"github.com/silt-io/silt/pkg/vfs"
)

// readers keeps one open segment.Reader per segment file, so a read does
// not parse a footer again. A Reader is closed when the manifest says no
// Version lists its segment any more, which also means no read uses it.
type readers struct {
	root string
	fs   vfs.FS
	mu   sync.Mutex
	open map[string]*segment.Reader // by root-relative path
}

func newReaders(root string, fsys vfs.FS) *readers {
	return &readers{root: root, fs: fsys, open: make(map[string]*segment.Reader)}
}

// get returns the Reader of seg, opening it on first use. The caller must
// hold a Version that lists seg.
func (c *readers) get(seg *manifest.Segment) (*segment.Reader, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.open[seg.Path]; r != nil {
		return r, nil
	}
	// Named by its path under the root: errors reach clients.
	r, err := segment.Open(filepath.Join(c.root, seg.Path), segment.WithProject(seg.Info.Project), segment.WithName(seg.Path), segment.WithFS(c.fs))
	if err != nil {
		return nil, err
	}
	c.open[seg.Path] = r
	return r, nil
}

// obsolete closes the Reader of a segment that left the manifest and
// deletes its file (manifest.Options.Obsolete).
func (c *readers) obsolete(path string) {
	c.mu.Lock()
	r := c.open[path]
	delete(c.open, path)
	c.mu.Unlock()
	if r != nil {
		_ = r.Close()
	}
	_ = c.fs.Remove(filepath.Join(c.root, path))
}

// closeAll closes every Reader.
func (c *readers) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p, r := range c.open {
		_ = r.Close()
		delete(c.open, p)
	}
}
