package tiered

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/manifest"
)

// deleteParallelism is how many stream deletes of one project deletion
// wait for the committer at once, so that they share group commits.
const deleteParallelism = 64

// DeleteProject deletes a project with its streams from both tiers. It
// answers event.ErrProjectNotFound for a missing project. deleted, if not
// nil, is called with the name of each stream deleted (to wake its
// subscribers).
//
// The steps, each durable before the next, so that a crash anywhere leaves
// a deletion that Open (or a DeleteProject of the same name) finishes and
// never half a project that looks whole:
//
//  1. hot.Store.MarkProjectDeleting: from here on the project answers
//     NotFound, and no stream can be created in it.
//  2. Every stream of the project is deleted from the hot tier (the
//     ordinary stream delete: its data is purged in the background).
//  3. The project's segments are removed from the manifest; their files are
//     deleted once no reader holds a Version that lists them.
//  4. hot.Store.RemoveProject removes the project's record.
func (s *Store) DeleteProject(ctx context.Context, project string, deleted func(stream string)) error {
	if err := s.hot.MarkProjectDeleting(ctx, project); err != nil {
		return err
	}
	return s.finishProjectDelete(ctx, project, deleted)
}

// finishProjectDelete runs steps 2 to 4 of DeleteProject; each is
// idempotent.
func (s *Store) finishProjectDelete(ctx context.Context, project string, deleted func(stream string)) error {
	for {
		infos, err := s.hot.ListStreams(ctx, event.ListStreamsRequest{Project: project, Limit: 1000})
		if err != nil {
			return fmt.Errorf("delete project %s: %w", project, err)
		}
		if len(infos) == 0 {
			break
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(deleteParallelism)
		for _, info := range infos {
			g.Go(func() error {
				err := s.hot.DeleteStream(gctx, project, info.Name)
				if errors.Is(err, event.ErrStreamNotFound) {
					return nil // deleted meanwhile
				}
				if err == nil && deleted != nil {
					deleted(info.Name)
				}
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return fmt.Errorf("delete project %s: %w", project, err)
		}
	}
	if err := s.dropProjectSegments(project); err != nil {
		return fmt.Errorf("delete project %s: %w", project, err)
	}
	return s.hot.RemoveProject(ctx, project)
}

// dropProjectSegments removes every segment of project from the manifest.
// It waits for a rotation or compaction in progress, which may still add a
// segment of the project's (now deleted) streams.
func (s *Store) dropProjectSegments(project string) error {
	s.workMu.Lock()
	defer s.workMu.Unlock()
	v := s.man.Acquire()
	var drop []string
	for _, seg := range v.Segments() {
		if seg.Info.Project == project {
			drop = append(drop, seg.ID)
		}
	}
	v.Release()
	if len(drop) == 0 {
		return nil
	}
	if err := s.man.Apply(manifest.Edit{Remove: drop}); err != nil {
		return fmt.Errorf("drop %d segments: %w", len(drop), err)
	}
	s.log.Info("history: dropped the segments of a deleted project", "project", project, "segments", len(drop))
	return nil
}

// finishProjectDeletes finishes the project deletions that a crash or an
// error cut off.
func (s *Store) finishProjectDeletes(ctx context.Context) error {
	projects, err := s.hot.DeletingProjects(ctx)
	if err != nil {
		return err
	}
	for _, p := range projects {
		s.log.Info("history: finishing an interrupted project deletion", "project", p)
		if err := s.finishProjectDelete(ctx, p, nil); err != nil {
			return err
		}
	}
	return nil
}
