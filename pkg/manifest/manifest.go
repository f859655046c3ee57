package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"time"

	"github.com/silt-io/silt/pkg/durable"
	"github.com/silt-io/silt/pkg/segment"
	"github.com/silt-io/silt/pkg/vfs"
)

// ErrRejected wraps an Apply error that came before the manifest file was
// touched (an edit that does not fit the current Version): the file does
// not list the edit's segments, so their files may go. It is internal to
// the server (not in the event catalogue): a client that meets it sees
// Internal.
var ErrRejected = errors.New("manifest edit rejected")

// FileName is the manifest's name in the segments root.
const FileName = "MANIFEST.json"

// Segment is one segment file as the manifest knows it.
type Segment struct {
	// ID is unique among all segments ever made (a ULID).
	ID string
	// Path is the file's path relative to the root, Hive style:
	// project=<p>/date=<yyyy-mm-dd>/<id>.parquet (see Path).
	Path string
	// Created is when the segment was added.
	Created time.Time
	// Info is what the file holds (from segment.Writer.Close).
	Info segment.Info
	// StreamIDs maps each stream of the segment to the incarnation its
	// events belong to (the hot tier's stream ID): a stream deleted and
	// created again under its name is another incarnation, and its reads
	// never see the old one's segments. Missing entries mean ID 0.
	StreamIDs map[string]uint64 `json:",omitempty"`
	// Quarantined lists events the segment holds changed, because it could
	// not hold them as they were (at most 1,000 per segment).
	Quarantined []Quarantined `json:",omitempty"`
}

// Quarantined is an event that a segment holds changed: the rotator could
// not write it as it was (an event time outside what Parquet stores, from
// a data dir older than the API's rule) and wrote it without the part it
// could not hold, rather than stop rotating its project.
type Quarantined struct {
	Stream string
	Seq    uint64
	// Reason says what was changed and why, with the original value.
	Reason string
}

// Path is the Hive-style path of a segment relative to the root.
func Path(project string, day time.Time, id string) string {
	return filepath.Join("project="+project, "date="+day.UTC().Format(time.DateOnly), id+".parquet")
}

// Edit changes the set of segments atomically.
type Edit struct {
	// Add lists new segments; their files must already be durable.
	Add []Segment
	// Remove lists the IDs of segments to drop.
	Remove []string
}

// Options configure a Manifest.
type Options struct {
	// Obsolete is called with the root-relative path of each removed segment
	// once no acquired Version refers to it. Nil deletes the file.
	Obsolete func(path string)
	// FS is the filesystem of the manifest file (nil: vfs.OS).
	FS vfs.FS
}

// Manifest is the persistent set of segments under one root.
type Manifest struct {
	root string
	opts Options
	// mu protects version, refs, and every Version's readers, current and
	// released fields.
	mu      sync.Mutex
	version *Version
	// refs counts, per segment, the unreleased versions that hold it.
	refs map[*Segment]int
	// applyMu serializes Apply (held across the file write, without mu).
	applyMu sync.Mutex
}

// file is the manifest's JSON form.
type file struct {
	Version  uint64     `json:"version"`
	Segments []*Segment `json:"segments"`
}

// Open loads the manifest under root, or starts an empty one.
func Open(root string, opts Options) (*Manifest, error) {
	m := &Manifest{root: root, opts: opts, refs: make(map[*Segment]int)}
	m.opts.FS = vfs.Or(m.opts.FS)
	if m.opts.Obsolete == nil {
		m.opts.Obsolete = func(path string) { _ = m.opts.FS.Remove(filepath.Join(root, path)) }
	}
	var f file
	b, err := vfs.ReadFile(m.opts.FS, filepath.Join(root, FileName))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read manifest: %w", err)
	default:
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("decode manifest %s: %w", filepath.Join(root, FileName), err)
		}
	}
	v, err := newVersion(m, f.Version, f.Segments)
	if err != nil {
		return nil, fmt.Errorf("load manifest: %w", err)
	}
	v.current = true
	m.retainLocked(v)
	m.version = v
	return m, nil
}

// Root is the directory the manifest and its segments live in.
func (m *Manifest) Root() string { return m.root }

// Acquire returns the current Version; the caller must Release it.
func (m *Manifest) Acquire() *Version {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.version
	v.readers++
	return v
}

// Apply makes e durable and then current. On error the current Version
// is as it was; the file may hold the edit (when only the directory sync
// after its rename failed) or not, so a caller must keep the files the
// edit adds, which recovery removes if the manifest does not list them —
// unless the error wraps ErrRejected.
func (m *Manifest) Apply(e Edit) error {
	m.applyMu.Lock()
	defer m.applyMu.Unlock()

	m.mu.Lock()
	old := m.version
	m.mu.Unlock()

	removed := make(map[string]bool, len(e.Remove))
	for _, id := range e.Remove {
		if old.byID[id] == nil {
			return fmt.Errorf("apply manifest edit: remove %s: %w: no such segment", id, ErrRejected)
		}
		removed[id] = true
	}
	var segs []*Segment
	for _, s := range old.segments {
		if !removed[s.ID] {
			segs = append(segs, s)
		}
	}
	for i := range e.Add {
		s := e.Add[i]
		if old.byID[s.ID] != nil {
			return fmt.Errorf("apply manifest edit: add %s: %w: segment exists", s.ID, ErrRejected)
		}
		segs = append(segs, &s)
	}
	next, err := newVersion(m, old.number+1, segs)
	if err != nil {
		return fmt.Errorf("apply manifest edit: %w: %w", ErrRejected, err)
	}
	b, err := json.Marshal(file{Version: next.number, Segments: next.segments})
	if err != nil {
		return fmt.Errorf("encode manifest: %w: %w", ErrRejected, err)
	}
	if err := durable.WriteFile(m.opts.FS, filepath.Join(m.root, FileName), b); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}

	m.mu.Lock()
	// Segments carried over keep their identity, so reference counts follow
	// them from one version to the next.
	next.current = true
	m.retainLocked(next)
	old.current = false
	obsolete := m.releaseLocked(old)
	m.version = next
	m.mu.Unlock()
	m.drop(obsolete)
	return nil
}

// releaseLocked drops old's hold on its segments if nobody reads it and
// returns the segments no version refers to any more.
func (m *Manifest) releaseLocked(v *Version) []*Segment {
	if v.current || v.readers > 0 || v.released {
		return nil
	}
	v.released = true
	var out []*Segment
	for _, s := range v.segments {
		m.refs[s]--
		if m.refs[s] == 0 {
			delete(m.refs, s)
			out = append(out, s)
		}
	}
	return out
}

// retainLocked makes v hold its segments.
func (m *Manifest) retainLocked(v *Version) {
	for _, s := range v.segments {
		m.refs[s]++
	}
}

// drop hands obsolete segments to Options.Obsolete.
func (m *Manifest) drop(segs []*Segment) {
	for _, s := range segs {
		m.opts.Obsolete(s.Path)
	}
}
