package hot

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/silt-io/silt/pkg/event"
)

// CreateStream creates a stream with settings s (an empty ContentType means
// event.ContentTypeJSON). It fails with event.ErrStreamExists if the stream exists.
func (s *Store) CreateStream(ctx context.Context, project, stream string, set event.StreamSettings) (event.StreamInfo, error) {
	r := newRequest(opCreate, project, stream)
	r.settings = set
	if err := s.submit(ctx, r); err != nil {
		return event.StreamInfo{}, fmt.Errorf("create stream %s/%s: %w", project, stream, err)
	}
	return r.info, nil
}

// UpdateStream replaces a stream's settings (an empty ContentType means
// event.ContentTypeJSON) and bumps its UpdateTime. Events already stored keep
// the content type they were stored with.
func (s *Store) UpdateStream(ctx context.Context, project, stream string, set event.StreamSettings) (event.StreamInfo, error) {
	r := newRequest(opUpdate, project, stream)
	r.settings = set
	if err := s.submit(ctx, r); err != nil {
		return event.StreamInfo{}, fmt.Errorf("update stream %s/%s: %w", project, stream, err)
	}
	return r.info, nil
}

// DeleteStream deletes a stream with its events, indexes and producer state.
// The stream disappears atomically; its data is purged from Badger in the
// background. A stream created later under the same name starts at seq 1.
func (s *Store) DeleteStream(ctx context.Context, project, stream string) error {
	r := newRequest(opDelete, project, stream)
	if err := s.submit(ctx, r); err != nil {
		return fmt.Errorf("delete stream %s/%s: %w", project, stream, err)
	}
	return nil
}

// GetStream describes a stream as of the latest commit.
func (s *Store) GetStream(ctx context.Context, project, stream string) (event.StreamInfo, error) {
	if err := s.beginRead(); err != nil {
		return event.StreamInfo{}, fmt.Errorf("get stream %s/%s: %w", project, stream, err)
	}
	defer s.endRead()
	var st *streamState
	err := s.db.View(func(txn *badger.Txn) (err error) {
		st, err = getMeta(txn, project, stream)
		return err
	})
	if err != nil {
		return event.StreamInfo{}, fmt.Errorf("get stream %s/%s: %w", project, stream, err)
	}
	return st.info(), nil
}

// ListStreams returns a page of req.Project's streams in name order: names
// after req.After that start with req.Prefix, at most req.Limit of them
// (DefaultListLimit if Limit is not positive).
func (s *Store) ListStreams(ctx context.Context, req event.ListStreamsRequest) ([]event.StreamInfo, error) {
	if err := s.beginRead(); err != nil {
		return nil, fmt.Errorf("list streams of %s: %w", req.Project, err)
	}
	defer s.endRead()
	limit := req.Limit
	if limit <= 0 {
		limit = DefaultListLimit
	}
	prefix := streamPrefix(req.Project, req.Prefix)
	start := prefix
	if req.After != "" {
		if after := append(streamKey(req.Project, req.After), 0); bytes.Compare(after, start) > 0 {
			start = after
		}
	}
	var out []event.StreamInfo
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: min(limit, 100), Prefix: prefix})
		defer it.Close()
		for it.Seek(start); it.Valid() && len(out) < limit; it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			item := it.Item()
			project, name, ok := parseStreamKey(item.Key())
			if !ok || project != req.Project {
				continue
			}
			var st *streamState
			if err := item.Value(func(v []byte) (err error) {
				st, err = decodeMeta(project, name, v)
				return err
			}); err != nil {
				return fmt.Errorf("read stream %s: %w", name, err)
			}
			out = append(out, st.info())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list streams of %s: %w", req.Project, err)
	}
	return out, nil
}

// getMeta reads a stream's metadata in txn.
func getMeta(txn *badger.Txn, project, stream string) (*streamState, error) {
	item, err := txn.Get(streamKey(project, stream))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, event.ErrStreamNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read stream meta: %w", err)
	}
	var st *streamState
	err = item.Value(func(v []byte) (err error) {
		st, err = decodeMeta(project, stream, v)
		return err
	})
	return st, err
}

// createStream stages a CreateStream.
func (g *stage) createStream(r *request) error {
	if g.lookup(r.key) != nil {
		r.err = event.ErrStreamExists
		return nil
	}
	p, deleting, err := g.streamProject(r.key.project)
	if err != nil || deleting {
		if deleting {
			r.err = event.ErrProjectNotFound
		}
		return err
	}
	r.info = g.create(r.key, p.settings.ApplyDefaults(r.settings)).info()
	return nil
}

// updateStream stages an UpdateStream.
func (g *stage) updateStream(r *request) error {
	st := g.lookup(r.key)
	if st == nil {
		r.err = event.ErrStreamNotFound
		return nil
	}
	set := r.settings
	if set.ContentType == "" {
		set.ContentType = event.ContentTypeJSON
	}
	st.settings = set
	st.updateTime = maxTime(g.now, st.updateTime)
	g.markDirty(st, "")
	r.info = st.info()
	return nil
}

// deleteStream stages a DeleteStream: the metadata goes now, the data is
// purged later under a tombstone.
func (g *stage) deleteStream(r *request) error {
	st := g.lookup(r.key)
	if st == nil {
		r.err = event.ErrStreamNotFound
		return nil
	}
	if err := g.del(streamKey(st.project, st.name)); err != nil {
		return err
	}
	if err := g.set(tombstoneKey(st.id), nil); err != nil {
		return err
	}
	g.names[r.key] = nil
	g.deleted = append(g.deleted, st.id)
	return nil
}
