package history

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/silt-io/silt/pkg/hot"
	"github.com/silt-io/silt/pkg/manifest"
	"github.com/silt-io/silt/pkg/segment"
)

// maxSegmentsPerRotation bounds one rotation, so a rotation under a steady
// stream of appends ends; the next one carries on.
const maxSegmentsPerRotation = 1000

// rotation is what one rotation seals.
type rotation struct {
	// force seals everything ingested before the rotation started.
	force   bool
	project string
}

// Rotate seals every event ingested before the call (of project, or of
// every project when it is "") into segments, one per project and ingest day, and returns
// the segments it added to the manifest. Rotations never run concurrently:
// Rotate waits for a background rotation in progress.
func (s *Store) Rotate(ctx context.Context, project string) ([]manifest.Segment, error) {
	s.workMu.Lock()
	defer s.workMu.Unlock()
	return s.rotate(ctx, rotation{force: true, project: project})
}

// Segments lists the segments of project (every project's when it is ""),
// by ID.
func (s *Store) Segments(project string) []manifest.Segment {
	v := s.man.Acquire()
	defer v.Release()
	var out []manifest.Segment
	for _, seg := range v.Segments() {
		if project == "" || seg.Info.Project == project {
			out = append(out, *seg)
		}
	}
	return out
}

// rotate runs one rotation: one segment after another until nothing is
// due. The caller holds workMu.
func (s *Store) rotate(ctx context.Context, r rotation) ([]manifest.Segment, error) {
	start := s.opts.Now()
	var out []manifest.Segment
	for range maxSegmentsPerRotation {
		seg, seals, err := s.rotateOne(ctx, r, start)
		if err != nil || seg == nil {
			return out, err
		}
		if err := s.man.Apply(manifest.Edit{Add: []manifest.Segment{*seg}}); err != nil {
			_ = os.Remove(filepath.Join(s.opts.Root, seg.Path))
			return out, fmt.Errorf("add segment %s to the manifest: %w", seg.ID, err)
		}
		out = append(out, *seg)
		if err := s.hot.Seal(ctx, seals); err != nil {
			// The manifest already holds the events; the next Open seals them.
			return out, fmt.Errorf("seal the hot tier after segment %s: %w", seg.ID, err)
		}
		s.log.Debug("history: rotated", "segment", seg.Path, "rows", seg.Info.Rows, "bytes", seg.Info.Bytes)
	}
	return out, nil
}

// sealRange is one stream's part of a planned segment.
type sealRange struct {
	x    hot.Extent
	upTo uint64
}

// plan is one segment to write: streams of one project, ingested on one day.
type plan struct {
	project string
	day     time.Time
	streams []sealRange
}

// rotateOne plans and writes the next segment due, in one hot snapshot.
// It returns a nil segment when nothing is due.
func (s *Store) rotateOne(ctx context.Context, r rotation, start time.Time) (*manifest.Segment, []hot.Seal, error) {
	var seg *manifest.Segment
	var seals []hot.Seal
	err := s.hot.View(ctx, func(sn *hot.Snapshot) error {
		p, err := s.plan(ctx, sn, r, start)
		if err != nil || p == nil {
			return err
		}
		seg, err = s.write(ctx, sn, p)
		if err != nil {
			return err
		}
		for _, sr := range p.streams {
			seals = append(seals, hot.Seal{Project: sr.x.Project, Stream: sr.x.Stream, ID: sr.x.ID, UpTo: sr.upTo})
		}
		return nil
	})
	return seg, seals, err
}

// hotStream is a stream with events in the hot tier.
type hotStream struct {
	x        hot.Extent
	firstHot time.Time
}

// plan picks the first project with events due and the streams and seqs to
// seal from its oldest hot day, or returns nil.
func (s *Store) plan(ctx context.Context, sn *hot.Snapshot, r rotation, start time.Time) (*plan, error) {
	var streams []hotStream
	var hotBytes uint64
	err := sn.Streams(ctx, func(x hot.Extent) error {
		if x.HotCount() == 0 || (r.project != "" && x.Project != r.project) {
			return nil
		}
		t, ok, err := sn.FirstHotIngest(x)
		if err != nil || !ok {
			return err
		}
		streams = append(streams, hotStream{x: x, firstHot: t})
		hotBytes += x.HotBytes()
		return nil
	})
	if err != nil || len(streams) == 0 {
		return nil, err
	}
	// Everything ingested before the cutoff is due.
	var cutoff time.Time
	switch {
	case r.force || (s.opts.HotMaxBytes > 0 && hotBytes > s.opts.HotMaxBytes):
		cutoff = start.Add(time.Nanosecond)
	case s.opts.RotateAfter > 0:
		cutoff = start.Add(-s.opts.RotateAfter)
	default:
		return nil, nil
	}
	for i := 0; i < len(streams); {
		j := i
		oldest := streams[i].firstHot
		for j < len(streams) && streams[j].x.Project == streams[i].x.Project {
			if streams[j].firstHot.Before(oldest) {
				oldest = streams[j].firstHot
			}
			j++
		}
		day := oldest.UTC().Truncate(24 * time.Hour)
		cut := cutoff
		if end := day.Add(24 * time.Hour); end.Before(cut) {
			cut = end
		}
		p := &plan{project: streams[i].x.Project, day: day}
		for _, h := range streams[i:j] {
			upTo, err := sn.SealPoint(h.x, cut)
			if err != nil {
				return nil, err
			}
			if upTo > h.x.ColdSeq {
				p.streams = append(p.streams, sealRange{x: h.x, upTo: upTo})
			}
		}
		if len(p.streams) > 0 {
			return p, nil
		}
		i = j
	}
	return nil, nil
}

// write streams a plan's events from the snapshot into a new segment and
// publishes its file; it is not in the manifest yet.
func (s *Store) write(ctx context.Context, sn *hot.Snapshot, p *plan) (*manifest.Segment, error) {
	release, err := s.reserve("a segment of "+p.project, planBytes(p))
	if err != nil {
		return nil, err
	}
	defer release()
	id := ulid.Make().String()
	rel := manifest.Path(p.project, p.day, id)
	opts := s.opts.Writer
	opts.Project = p.project
	w, err := segment.NewWriter(filepath.Join(s.opts.Root, rel), opts)
	if err != nil {
		return nil, fmt.Errorf("start segment: %w", err)
	}
	ids := make(map[string]uint64, len(p.streams))
	for _, sr := range p.streams {
		ids[sr.x.Stream] = sr.x.ID
		if err := sn.Scan(ctx, sr.x, sr.upTo, w.Append); err != nil {
			return nil, errors.Join(fmt.Errorf("write segment %s: %w", rel, err), w.Abort())
		}
	}
	info, err := w.Close(ctx)
	if err != nil {
		return nil, fmt.Errorf("publish segment %s: %w", rel, err)
	}
	return &manifest.Segment{ID: id, Path: rel, Created: s.opts.Now().UTC(), Info: info, StreamIDs: ids}, nil
}
