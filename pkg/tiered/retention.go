package tiered

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/hot"
	"github.com/silt-io/silt/pkg/manifest"
)

// Retention bounds what a project keeps: events older than MaxAge, and the
// oldest events past MaxBytes in total, expire. Zero fields do not bound.
type Retention struct {
	MaxAge   time.Duration
	MaxBytes uint64
}

// rewriteExpiredShare is the share of a segment's rows that must have
// expired before retention rewrites it without them; below it the expired
// rows stay in the file (reads never return them) until a merge or a
// later rewrite.
const rewriteExpiredShare = 0.5

// EnforceRetention applies every stream's retention settings and the
// projects' Retention (Options.ProjectRetention): it moves each stream's
// first seq past its expired events (at once for readers: a read below it
// is out of range), then drops segments whose events all expired and
// rewrites those mostly expired. The background loop runs it after each
// compaction.
func (s *Store) EnforceRetention(ctx context.Context) error {
	s.workMu.Lock()
	defer s.workMu.Unlock()
	return s.enforceRetention(ctx)
}

// A project whose streams or segments cannot be read is left out of the
// round (logged, and in the error returned); the others go on.
func (s *Store) enforceRetention(ctx context.Context) error {
	failed := newProjectErrors(s.log, "retention")
	var retains []hot.Retain
	err := s.hot.View(ctx, func(sn *hot.Snapshot) error {
		v := s.man.Acquire()
		defer v.Release()
		var err error
		retains, err = s.planRetention(ctx, sn, v, failed)
		return err
	})
	if err != nil {
		return s.logged(ctx, errors.Join(failed.err(), fmt.Errorf("plan retention: %w", err)))
	}
	if len(retains) > 0 {
		if err := s.hot.Retain(ctx, retains); err != nil {
			return s.logged(ctx, errors.Join(failed.err(), err))
		}
		s.log.Debug("history: retention moved first seqs", "streams", len(retains))
	}
	return errors.Join(s.logged(ctx, s.dropExpired(ctx, failed)), failed.err())
}

// logged logs a retention error that no project owns, unless ctx ended,
// and returns it.
func (s *Store) logged(ctx context.Context, err error) error {
	if err != nil && ctx.Err() == nil {
		s.logFailure("retention", err)
	}
	return err
}

// planRetention computes each stream's new first seq, leaving out the
// projects it fails on.
func (s *Store) planRetention(ctx context.Context, sn *hot.Snapshot, v *manifest.Version, failed *projectErrors) ([]hot.Retain, error) {
	now := s.opts.Now()
	first := map[string]uint64{} // by stream, within one project at a time
	var out []hot.Retain
	var project []hot.Extent
	flush := func() error {
		if len(project) == 0 || failed.has(project[0].Project) {
			project = project[:0]
			clear(first)
			return nil
		}
		if err := s.projectBytes(v, project, first); err != nil {
			return err
		}
		for _, x := range project {
			if f := first[x.Stream]; f > x.FirstSeq {
				out = append(out, hot.Retain{Project: x.Project, Stream: x.Stream, ID: x.ID, FirstSeq: f})
			}
		}
		project = project[:0]
		clear(first)
		return nil
	}
	err := sn.Streams(ctx, func(x hot.Extent) error {
		if len(project) > 0 && project[0].Project != x.Project {
			if err := flush(); err != nil {
				return err
			}
		}
		project = append(project, x)
		if failed.has(x.Project) {
			return nil
		}
		pr := s.opts.ProjectRetention[x.Project]
		f := x.FirstSeq
		if age := minPositive(x.Settings.RetentionMaxAge, pr.MaxAge); age > 0 && x.Count > 0 {
			seq, err := s.firstAtOrAfter(ctx, sn, v, x, now.Add(-age))
			if err != nil {
				failed.fail(x.Project, fmt.Errorf("find the first unexpired event of %s: %w", x.Stream, err))
				return nil
			}
			f = max(f, seq)
		}
		if maxBytes := x.Settings.RetentionMaxBytes; maxBytes > 0 && x.Bytes > maxBytes && x.Count > 0 {
			avg := float64(x.Bytes) / float64(x.Count)
			f = max(f, x.FirstSeq+uint64((float64(x.Bytes-maxBytes)+avg-1)/avg))
		}
		first[x.Stream] = min(f, x.LastSeq+1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, flush()
}

// projectBytes moves first seqs further so a project over its MaxBytes
// drops its oldest segments (by ingest time) until it fits. The hot tier is
// not cut for a project's size: its events expire once rotated.
func (s *Store) projectBytes(v *manifest.Version, project []hot.Extent, first map[string]uint64) error {
	limit := s.opts.ProjectRetention[project[0].Project].MaxBytes
	if limit == 0 {
		return nil
	}
	live := map[string]hot.Extent{}
	var total float64
	for _, x := range project {
		live[x.Stream] = x
		total += x.BytesFrom(first[x.Stream])
	}
	var segs []*manifest.Segment
	for _, seg := range v.Segments() {
		if seg.Info.Project == project[0].Project {
			segs = append(segs, seg)
		}
	}
	slices.SortFunc(segs, func(a, b *manifest.Segment) int { return a.Info.MinIngestTime.Compare(b.Info.MinIngestTime) })
	for _, seg := range segs {
		if total <= float64(limit) {
			break
		}
		for _, r := range seg.Info.Streams {
			x, ok := live[r.Stream]
			if !ok || seg.StreamIDs[r.Stream] != x.ID || r.LastSeq < first[r.Stream] {
				continue
			}
			before := x.BytesFrom(first[r.Stream])
			first[r.Stream] = min(r.LastSeq+1, x.LastSeq+1)
			total -= before - x.BytesFrom(first[r.Stream])
		}
	}
	return nil
}

// firstAtOrAfter is the first seq of the stream ingested at or after t
// (LastSeq+1 if none), across both tiers.
func (s *Store) firstAtOrAfter(ctx context.Context, sn *hot.Snapshot, v *manifest.Version, x hot.Extent, t time.Time) (uint64, error) {
	req := event.ReadRequest{Project: x.Project, Stream: x.Stream, FromTime: t, Limit: 1}
	if x.ColdSeq >= x.FirstSeq {
		seq, ok, err := s.seekTime(ctx, v, x, req)
		if err != nil || ok {
			return seq, err
		}
	}
	res, err := sn.Read(ctx, req)
	if err != nil {
		return 0, err
	}
	if len(res.Events) > 0 {
		return res.Events[0].Seq, nil
	}
	return res.NextSeq, nil
}

// dropExpired removes segments whose events all expired (or belong to
// deleted streams) and rewrites those with at least rewriteExpiredShare of
// their rows expired, leaving out the projects it fails on.
func (s *Store) dropExpired(ctx context.Context, failed *projectErrors) error {
	var drop []string
	var rewrite []*manifest.Segment
	err := s.hot.View(ctx, func(sn *hot.Snapshot) error {
		v := s.man.Acquire()
		defer v.Release()
		// A stream spans many segments: look each up once.
		type lookup struct {
			x   hot.Extent
			err error
		}
		seen := map[[2]string]lookup{}
		stream := func(project, name string) (hot.Extent, error) {
			k := [2]string{project, name}
			l, ok := seen[k]
			if !ok {
				l.x, l.err = sn.Stream(project, name)
				seen[k] = l
			}
			return l.x, l.err
		}
		for _, seg := range v.Segments() {
			var expired int64
			for _, r := range seg.Info.Streams {
				if failed.has(seg.Info.Project) {
					break
				}
				x, err := stream(seg.Info.Project, r.Stream)
				switch {
				case errors.Is(err, event.ErrStreamNotFound):
					expired += r.Count
				case err != nil:
					failed.fail(seg.Info.Project, fmt.Errorf("look up stream %s: %w", r.Stream, err))
				case seg.StreamIDs[r.Stream] != x.ID || r.LastSeq < x.FirstSeq:
					expired += r.Count
				case r.FirstSeq < x.FirstSeq:
					expired += int64(x.FirstSeq - r.FirstSeq) // an upper bound when the range has holes
				}
			}
			switch {
			case failed.has(seg.Info.Project):
			case expired >= seg.Info.Rows:
				drop = append(drop, seg.ID)
			case float64(expired) >= rewriteExpiredShare*float64(seg.Info.Rows):
				rewrite = append(rewrite, seg)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("find expired segments: %w", err)
	}
	if len(drop) > 0 {
		if err := s.man.Apply(manifest.Edit{Remove: drop}); err != nil {
			return fmt.Errorf("drop %d expired segments: %w", len(drop), err)
		}
		s.log.Debug("history: dropped expired segments", "segments", len(drop))
	}
	slices.SortFunc(rewrite, func(a, b *manifest.Segment) int { return cmp.Compare(a.ID, b.ID) })
	for _, seg := range rewrite {
		if err := ctx.Err(); err != nil {
			return err
		}
		if failed.has(seg.Info.Project) {
			continue
		}
		if _, err := s.merge(ctx, []*manifest.Segment{seg}); err != nil {
			failed.fail(seg.Info.Project, fmt.Errorf("rewrite segment %s without expired events: %w", seg.ID, err))
		}
	}
	return nil
}

// minPositive is the smaller of the positive durations (0 if neither is).
func minPositive(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return max(b, 0)
	case b <= 0:
		return a
	default:
		return min(a, b)
	}
}
