package hot

// Projects. A project's record lives under projectKey and is written by the
// committer, in the same transactions as stream metadata, so it is as
// durable as a stream's. A project exists once CreateProject made it, or
// once a stream was created in it: creating a stream in a project without a
// record writes an implicit record with default settings in the stream's
// transaction. Data directories from before project records get the
// records of their projects at Open (adoptProjects).
//
// Deleting a project is three steps, driven by the history tier (package
// tiered), each durable before the next: MarkProjectDeleting sets the
// record's deleting flag (from then on the project answers
// event.ErrProjectNotFound and no stream can be created in it), the
// project's streams and segments are deleted, and RemoveProject removes the
// record. A crash between them leaves a record with the flag, which
// DeletingProjects lists so that the deletion can be finished.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// projectVersion is the encoding version of a project record.
const projectVersion byte = 1

// Flags of a project record.
const (
	projectDeleting byte = 1 << iota
	projectAutoCreateSet
	projectAutoCreate
)

// maxProjectValueLen bounds an encoded project record: 32 CORS origins (the
// API's rule) of up to 256 characters of up to 4 bytes, and the rest.
const maxProjectValueLen = 128 + 32*(4*256+2)

// implicitProjectValueLen bounds the record of a project with default
// settings (an implicit project's).
const implicitProjectValueLen = 64

// projectState is one project as the committer knows it and as its record
// stores it (the name lives in the key).
type projectState struct {
	name       string
	settings   event.ProjectSettings
	createTime time.Time
	updateTime time.Time
	// deleting is set once a DeleteProject began: the project is gone for
	// the API and takes no new stream until RemoveProject removed it.
	deleting bool
}

// info returns the project as the domain sees it.
func (p *projectState) info(streams uint64) event.ProjectInfo {
	return event.ProjectInfo{
		Name: p.name, Settings: p.settings, StreamCount: streams,
		CreateTime: p.createTime, UpdateTime: p.updateTime,
	}
}

// encodeProject encodes p's record.
func encodeProject(p *projectState) []byte {
	set := p.settings
	var flags byte
	if p.deleting {
		flags |= projectDeleting
	}
	if set.AutoCreateStreams != nil {
		flags |= projectAutoCreateSet
		if *set.AutoCreateStreams {
			flags |= projectAutoCreate
		}
	}
	b := make([]byte, 0, implicitProjectValueLen)
	b = append(b, projectVersion, flags)
	b = binary.AppendVarint(b, int64(set.DefaultRetentionMaxAge))
	b = binary.AppendUvarint(b, set.DefaultRetentionMaxBytes)
	b = binary.AppendUvarint(b, uint64(len(set.AllowedCORSOrigins)))
	for _, o := range set.AllowedCORSOrigins {
		b = record.AppendString(b, o)
	}
	q := set.Quotas
	b = binary.AppendUvarint(b, q.AppendEventsPerSecond)
	b = binary.AppendUvarint(b, q.AppendBytesPerSecond)
	b = binary.AppendUvarint(b, uint64(q.MaxConcurrentSubscriptions))
	b = binary.AppendUvarint(b, uint64(q.MaxConcurrentQueries))
	b = record.AppendTime(b, p.createTime)
	return record.AppendTime(b, p.updateTime)
}

// decodeProject decodes a project record.
func decodeProject(name string, b []byte) (*projectState, error) {
	d := record.NewDecoder(b)
	if v := d.Byte(); d.Err() == nil && v != projectVersion {
		return nil, fmt.Errorf("decode project %s: %w: version %d", name, errCorrupt, v)
	}
	flags := d.Byte()
	p := &projectState{name: name, deleting: flags&projectDeleting != 0}
	if flags&projectAutoCreateSet != 0 {
		on := flags&projectAutoCreate != 0
		p.settings.AutoCreateStreams = &on
	}
	p.settings.DefaultRetentionMaxAge = time.Duration(d.Varint())
	p.settings.DefaultRetentionMaxBytes = d.Uvarint()
	if n := d.Count(1); n > 0 {
		p.settings.AllowedCORSOrigins = make([]string, n)
		for i := range n {
			p.settings.AllowedCORSOrigins[i] = d.Str()
		}
	}
	q := &p.settings.Quotas
	q.AppendEventsPerSecond = d.Uvarint()
	q.AppendBytesPerSecond = d.Uvarint()
	q.MaxConcurrentSubscriptions = uint32(min(d.Uvarint(), 1<<32-1))
	q.MaxConcurrentQueries = uint32(min(d.Uvarint(), 1<<32-1))
	p.createTime = d.Time()
	p.updateTime = d.Time()
	if d.Err() != nil {
		return nil, fmt.Errorf("decode project %s: %w", name, d.Err())
	}
	return p, nil
}

// CreateProject creates a project with settings set. It fails with
// event.ErrProjectExists if the project exists (explicitly or implicitly
// created), also while a deletion of it has not finished.
func (s *Store) CreateProject(ctx context.Context, project string, set event.ProjectSettings) (event.ProjectInfo, error) {
	r := newRequest(opCreateProject, project, "")
	r.project = set
	if err := s.submit(ctx, r); err != nil {
		return event.ProjectInfo{}, fmt.Errorf("create project %s: %w", project, err)
	}
	return r.projectInfo, nil
}

// UpdateProject replaces a project's settings and bumps its UpdateTime; it
// fails with event.ErrProjectNotFound if the project does not exist.
// Streams created before keep the retention they were created with.
func (s *Store) UpdateProject(ctx context.Context, project string, set event.ProjectSettings) (event.ProjectInfo, error) {
	r := newRequest(opUpdateProject, project, "")
	r.project = set
	if err := s.submit(ctx, r); err != nil {
		return event.ProjectInfo{}, fmt.Errorf("update project %s: %w", project, err)
	}
	return s.GetProject(ctx, project)
}

// MarkProjectDeleting begins the deletion of a project: from its commit on
// the project answers event.ErrProjectNotFound (CreateStream in it too)
// and no Append creates a stream in it. It
// fails with event.ErrProjectNotFound if the project does not exist; a
// project already being deleted is not an error, so a retry can finish it.
func (s *Store) MarkProjectDeleting(ctx context.Context, project string) error {
	r := newRequest(opMarkProjectDeleting, project, "")
	if err := s.submit(ctx, r); err != nil {
		return fmt.Errorf("delete project %s: %w", project, err)
	}
	return nil
}

// RemoveProject removes the record of a project that MarkProjectDeleting
// marked; the caller has deleted its streams. Removing a missing project
// does nothing.
func (s *Store) RemoveProject(ctx context.Context, project string) error {
	r := newRequest(opRemoveProject, project, "")
	if err := s.submit(ctx, r); err != nil {
		return fmt.Errorf("remove project %s: %w", project, err)
	}
	return nil
}

// GetProject describes a project as of the latest commit.
func (s *Store) GetProject(ctx context.Context, project string) (event.ProjectInfo, error) {
	if err := s.beginRead(); err != nil {
		return event.ProjectInfo{}, fmt.Errorf("get project %s: %w", project, err)
	}
	defer s.endRead()
	var info event.ProjectInfo
	err := s.db.View(func(txn *badger.Txn) error {
		p, err := liveProject(txn, project)
		if err == nil {
			info = p.info(countStreams(txn, project))
		}
		return err
	})
	if err != nil {
		return event.ProjectInfo{}, fmt.Errorf("get project %s: %w", project, err)
	}
	return info, nil
}

// ProjectSettings returns a project's settings as of the latest commit:
// GetProject without counting its streams, for calls that check a setting
// or a quota each time they start.
func (s *Store) ProjectSettings(ctx context.Context, project string) (event.ProjectSettings, error) {
	if err := s.beginRead(); err != nil {
		return event.ProjectSettings{}, fmt.Errorf("get project %s: %w", project, err)
	}
	defer s.endRead()
	var settings event.ProjectSettings
	err := s.db.View(func(txn *badger.Txn) error {
		p, err := liveProject(txn, project)
		if err == nil {
			settings = p.settings
		}
		return err
	})
	if err != nil {
		return event.ProjectSettings{}, fmt.Errorf("get project %s: %w", project, err)
	}
	return settings, nil
}

// liveProject reads a project's record; one being deleted is not found.
func liveProject(txn *badger.Txn, project string) (*projectState, error) {
	item, err := txn.Get(projectKey(project))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, event.ErrProjectNotFound
	}
	if err != nil {
		return nil, err
	}
	p, err := itemProject(item)
	if err != nil {
		return nil, err
	}
	if p.deleting {
		return nil, event.ErrProjectNotFound
	}
	return p, nil
}

// ListProjects returns a page of projects in name order: names after
// req.After that start with req.Prefix, at most req.Limit of them
// (DefaultListLimit if Limit is not positive). Projects being deleted are
// left out.
func (s *Store) ListProjects(ctx context.Context, req event.ListProjectsRequest) ([]event.ProjectInfo, error) {
	if err := s.beginRead(); err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	defer s.endRead()
	limit := req.Limit
	if limit <= 0 {
		limit = DefaultListLimit
	}
	prefix := projectKey(req.Prefix)
	start := prefix
	if req.After != "" {
		if after := append(projectKey(req.After), 0); bytes.Compare(after, start) > 0 {
			start = after
		}
	}
	var out []event.ProjectInfo
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: min(limit, 100), Prefix: prefix})
		defer it.Close()
		for it.Seek(start); it.Valid() && len(out) < limit; it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			p, err := itemProject(it.Item())
			if err != nil {
				return err
			}
			if !p.deleting {
				out = append(out, p.info(countStreams(txn, p.name)))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return out, nil
}

// DeletingProjects lists the projects whose deletion began and did not
// finish (a crash or an error cut it off).
func (s *Store) DeletingProjects(ctx context.Context) ([]string, error) {
	if err := s.beginRead(); err != nil {
		return nil, fmt.Errorf("list projects being deleted: %w", err)
	}
	defer s.endRead()
	var out []string
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: []byte{spaceProject}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			p, err := itemProject(it.Item())
			if err != nil {
				return err
			}
			if p.deleting {
				out = append(out, p.name)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list projects being deleted: %w", err)
	}
	return out, nil
}

// countStreams counts project's streams in txn, from their keys alone.
func countStreams(txn *badger.Txn, project string) uint64 {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: streamPrefix(project, "")})
	defer it.Close()
	var n uint64
	for it.Rewind(); it.Valid(); it.Next() {
		n++
	}
	return n
}

// loadProjects reads every project record in txn.
func loadProjects(txn *badger.Txn) (map[string]*projectState, error) {
	out := make(map[string]*projectState)
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: []byte{spaceProject}})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		name := string(it.Item().Key()[1:])
		if err := it.Item().Value(func(v []byte) error {
			p, err := decodeProject(name, v)
			out[name] = p
			return err
		}); err != nil {
			return nil, fmt.Errorf("load project %s: %w", name, err)
		}
	}
	return out, nil
}

// adoptProjects writes the records of the projects that have streams but
// no record: the implicit projects of a data directory from before project
// records. Each gets default settings and the create time of its oldest
// stream. It runs at Open, before the committer starts.
func (s *Store) adoptProjects() error {
	oldest := make(map[string]time.Time)
	for k, st := range s.streams {
		if s.projects[k.project] != nil {
			continue
		}
		if t, ok := oldest[k.project]; !ok || st.createTime.Before(t) {
			oldest[k.project] = st.createTime
		}
	}
	if len(oldest) == 0 {
		return nil
	}
	names := make([]string, 0, len(oldest))
	for name := range oldest {
		names = append(names, name)
	}
	slices.Sort(names)
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	adopted := make([]*projectState, 0, len(names))
	for _, name := range names {
		t := oldest[name]
		p := &projectState{name: name, createTime: t, updateTime: t}
		if err := wb.Set(projectKey(name), encodeProject(p)); err != nil {
			return fmt.Errorf("adopt project %s: %w", name, err)
		}
		adopted = append(adopted, p)
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("adopt %d projects: %w", len(names), err)
	}
	for _, p := range adopted {
		s.projects[p.name] = p
	}
	s.log.Info("hot: recorded the projects of existing streams", "projects", len(names))
	return nil
}

// project returns the group's view of a project (nil if missing), copying
// it from the cache on first touch.
func (g *stage) project(name string) *projectState {
	if p, ok := g.projects[name]; ok {
		return p
	}
	base := g.store.projects[name]
	if base == nil {
		return nil
	}
	p := *base
	g.putProjectState(&p)
	return &p
}

// putProjectState makes p the group's view of its project.
func (g *stage) putProjectState(p *projectState) {
	if g.projects == nil {
		g.projects = make(map[string]*projectState)
	}
	g.projects[p.name] = p
}

// writeProject writes p's record into the open transaction.
func (g *stage) writeProject(p *projectState) error {
	g.putProjectState(p)
	return g.set(projectKey(p.name), encodeProject(p))
}

// streamProject returns the project a new stream goes into, creating an
// implicit one with default settings if it has no record; nil with
// deleting true if the project is being deleted.
func (g *stage) streamProject(name string) (p *projectState, deleting bool, err error) {
	p = g.project(name)
	switch {
	case p == nil:
		p = &projectState{name: name, createTime: g.now, updateTime: g.now}
		return p, false, g.writeProject(p)
	case p.deleting:
		return nil, true, nil
	}
	return p, false, nil
}

// createProject stages a CreateProject.
func (g *stage) createProject(r *request) error {
	if g.project(r.key.project) != nil {
		r.err = event.ErrProjectExists // also while it is being deleted
		return nil
	}
	p := &projectState{name: r.key.project, settings: r.project, createTime: g.now, updateTime: g.now}
	r.projectInfo = p.info(0)
	return g.writeProject(p)
}

// updateProject stages an UpdateProject.
func (g *stage) updateProject(r *request) error {
	p := g.project(r.key.project)
	if p == nil || p.deleting {
		r.err = event.ErrProjectNotFound
		return nil
	}
	p.settings = r.project
	p.updateTime = maxTime(g.now, p.updateTime)
	return g.writeProject(p)
}

// markProjectDeleting stages a MarkProjectDeleting.
func (g *stage) markProjectDeleting(r *request) error {
	p := g.project(r.key.project)
	switch {
	case p == nil:
		r.err = event.ErrProjectNotFound
		return nil
	case p.deleting:
		return nil
	}
	p.deleting = true
	return g.writeProject(p)
}

// removeProject stages a RemoveProject.
func (g *stage) removeProject(r *request) error {
	p := g.project(r.key.project)
	if p == nil {
		return nil
	}
	if !p.deleting {
		r.err = fmt.Errorf("remove project %s: not being deleted", p.name)
		return nil
	}
	if err := g.del(projectKey(p.name)); err != nil {
		return err
	}
	g.projects[p.name] = nil
	return nil
}

// itemProject decodes the project record an iterator is at.
func itemProject(item *badger.Item) (*projectState, error) {
	name := string(item.Key()[1:])
	var p *projectState
	err := item.Value(func(v []byte) (err error) {
		p, err = decodeProject(name, v)
		return err
	})
	return p, err
}
