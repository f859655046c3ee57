package tiered

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/hot"
	"github.com/silt-io/silt/pkg/manifest"
	"github.com/silt-io/silt/pkg/segment"
	"github.com/silt-io/silt/pkg/vfs"
)

// Store is the history tier over a hot Store: rotation and stitched reads.
// Its methods are safe for concurrent use.
type Store struct {
	opts    Options
	log     *slog.Logger
	hot     *hot.Store
	man     *manifest.Manifest
	readers *readers

	// workMu lets one rotation or compaction run at a time.
	workMu sync.Mutex
	// unsealed (under workMu) is set when a seal failed after its segment
	// reached the manifest; the next rotation finishes it.
	unsealed bool
	// stop ends the background rotator; done is closed when it has.
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// Open opens the history tier under opts.Root, recovers from a crash in the
// middle of a rotation (see the package documentation) and starts the
// background rotator.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if err := opts.FS.MkdirAll(opts.Root); err != nil {
		return nil, fmt.Errorf("create segments root: %w", err)
	}
	if n, err := segment.CleanTemp(opts.FS, opts.Root); err != nil {
		return nil, fmt.Errorf("remove temporary segment files: %w", err)
	} else if n > 0 {
		opts.Logger.Info("history: removed temporary files of an interrupted rotation", "files", n)
	}
	s := &Store{opts: opts, log: opts.Logger, hot: opts.Hot, readers: newReaders(opts.Root, opts.FS),
		stop: make(chan struct{}), done: make(chan struct{})}
	man, err := manifest.Open(opts.Root, manifest.Options{Obsolete: s.readers.obsolete, FS: opts.FS})
	if err != nil {
		return nil, fmt.Errorf("open manifest: %w", err)
	}
	s.man = man
	if err := s.recover(ctx); err != nil {
		return nil, fmt.Errorf("recover history tier: %w", err)
	}
	if opts.CheckEvery > 0 {
		go s.loop()
	} else {
		close(s.done)
	}
	return s, nil
}

// recover deletes segment files the manifest does not list, seals what
// the manifest holds but the hot tier still serves, and finishes project
// deletions.
func (s *Store) recover(ctx context.Context) error {
	v := s.man.Acquire()
	defer v.Release()
	listed := make(map[string]bool, len(v.Segments()))
	for _, seg := range v.Segments() {
		listed[filepath.Clean(seg.Path)] = true
	}
	err := vfs.WalkFiles(s.opts.FS, s.opts.Root, func(path string) error {
		if !strings.HasSuffix(path, ".parquet") {
			return nil
		}
		rel, err := filepath.Rel(s.opts.Root, path)
		if err != nil || listed[rel] {
			return err
		}
		s.log.Info("history: deleting a segment that never reached the manifest", "path", rel)
		return s.opts.FS.Remove(path)
	})
	if err != nil {
		return fmt.Errorf("remove unlisted segments: %w", err)
	}
	if err := s.finishSeals(ctx); err != nil {
		return err
	}
	return s.finishProjectDeletes(ctx)
}

// finishSeals seals what the manifest holds but the hot tier still serves:
// the seal after a manifest edit that a crash or an error cut off.
func (s *Store) finishSeals(ctx context.Context) error {
	v := s.man.Acquire()
	defer v.Release()
	var seals []hot.Seal
	err := s.hot.View(ctx, func(sn *hot.Snapshot) error {
		for _, x := range v.Streams() {
			h, err := sn.Stream(x.Project, x.Stream)
			if errors.Is(err, event.ErrStreamNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if h.ID == x.ID && h.ColdSeq < x.Last {
				seals = append(seals, hot.Seal{Project: x.Project, Stream: x.Stream, ID: x.ID, UpTo: x.Last})
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("find interrupted seals: %w", err)
	}
	if len(seals) > 0 {
		s.log.Info("history: finishing interrupted seals", "streams", len(seals))
		return s.hot.Seal(ctx, seals)
	}
	return nil
}

// Close stops the background rotator, waiting for a rotation in progress
// (ctx bounds the wait), and closes the segment files. The hot Store stays
// open.
func (s *Store) Close(ctx context.Context) error {
	s.closeOnce.Do(func() { close(s.stop) })
	select {
	case <-s.done:
	case <-ctx.Done():
		return fmt.Errorf("close history tier: %w", ctx.Err())
	}
	s.workMu.Lock()
	defer s.workMu.Unlock()
	s.readers.closeAll()
	return nil
}

// background runs one round of the background work: a rotation, a
// compaction of groups that reached CompactMinSegments, retention.
func (s *Store) background(ctx context.Context) {
	s.workMu.Lock()
	defer s.workMu.Unlock()
	// Each logs its own failures, per project, and goes on with the other
	// projects.
	_, _ = s.rotate(ctx, rotation{})
	if s.opts.CompactMinSegments > 0 {
		_, _ = s.compact(ctx, "", s.opts.CompactMinSegments)
	}
	_ = s.enforceRetention(ctx)
}

// loop is the background rotator and compactor.
func (s *Store) loop() {
	defer close(s.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.stop
		cancel()
	}()
	t := time.NewTicker(s.opts.CheckEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.background(ctx)
	}
}
