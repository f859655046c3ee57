package tiered

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/hot"
	"github.com/silt-io/silt/pkg/manifest"
	"github.com/silt-io/silt/pkg/segment"
)

// maxUnitsPerRotation bounds one rotation, so a rotation under a steady
// stream of appends ends; the next one carries on.
const maxUnitsPerRotation = 1000

// rotation is what one rotation seals.
type rotation struct {
	// force seals everything ingested before the rotation started.
	force   bool
	project string
}

// Rotate seals every event ingested before the call (of project, or of
// every project when it is "") into segments, one or more per project and
// ingest day, and returns the segments it added to the manifest. A project
// whose rotation fails does not stop the others: Rotate goes on with them
// and returns every project's error at the end, joined. Rotations never run
// concurrently: Rotate waits for a background rotation in progress.
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

// rotate runs one rotation: one bounded unit (a segment) after another,
// taking the projects with events due in turn, until nothing is due. Each
// unit commits on its own (segment, manifest, seal), so a crash loses at
// most the unit in progress. A unit that fails takes its project out of
// this rotation; the others go on. The caller holds workMu.
func (s *Store) rotate(ctx context.Context, r rotation) ([]manifest.Segment, error) {
	// A seal that failed after its segment reached the manifest (a full
	// disk, a Badger error) is finished first, as Open does.
	if s.unsealed {
		if err := s.finishSeals(ctx); err != nil {
			s.logFailure("rotation", err)
			return nil, err
		}
		s.unsealed = false
	}
	start := s.opts.Now()
	var out []manifest.Segment
	failed := newProjectErrors(s.log, "rotation")
	after := "" // the project of the last unit
	for range maxUnitsPerRotation {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		u, err := s.rotateUnit(ctx, r, start, failed, after)
		if u.project == "" && err != nil {
			if ctx.Err() == nil {
				s.logFailure("rotation", err)
			}
			return out, errors.Join(failed.err(), err)
		}
		if u.project == "" {
			break
		}
		after = u.project
		if err != nil && ctx.Err() != nil {
			return out, errors.Join(failed.err(), ctx.Err())
		}
		if err != nil {
			failed.fail(u.project, err)
			continue
		}
		out = append(out, *u.seg)
	}
	return out, failed.err()
}

// unit is one rotation unit: a published segment of one project, not yet
// in the manifest, and the seals that follow its manifest edit.
type unit struct {
	project string
	seg     *manifest.Segment
	seals   []hot.Seal
}

// rotateUnit writes and commits the next unit due. It returns a zero unit
// when nothing is due, and the unit's project with any error that belongs
// to it.
func (s *Store) rotateUnit(ctx context.Context, r rotation, start time.Time, failed *projectErrors, after string) (unit, error) {
	u, err := s.writeUnit(ctx, r, start, failed, after)
	if err != nil || u.seg == nil {
		return u, err
	}
	return u, s.commitUnit(ctx, u)
}

// writeUnit plans the next unit due and publishes its segment file, in one
// hot snapshot.
func (s *Store) writeUnit(ctx context.Context, r rotation, start time.Time, failed *projectErrors, after string) (unit, error) {
	var u unit
	err := s.hot.View(ctx, func(sn *hot.Snapshot) error {
		p, err := s.plan(ctx, sn, r, start, failed, after)
		if err != nil || p == nil {
			return err
		}
		u.project = p.project
		u.seg, err = s.write(ctx, sn, p)
		if err != nil {
			return err
		}
		for _, sr := range p.streams {
			u.seals = append(u.seals, hot.Seal{Project: sr.x.Project, Stream: sr.x.Stream, ID: sr.x.ID, UpTo: sr.upTo})
		}
		return nil
	})
	return u, err
}

// commitUnit adds a written unit's segment to the manifest (the commit
// point) and seals its events in the hot tier.
func (s *Store) commitUnit(ctx context.Context, u unit) error {
	seg := u.seg
	if err := s.man.Apply(manifest.Edit{Add: []manifest.Segment{*seg}}); err != nil {
		// Unless the edit was refused before the manifest file was
		// touched, the file stays: the manifest file may list it even so
		// (see manifest.Apply); the next Open removes it if it does not.
		if errors.Is(err, manifest.ErrRejected) {
			_ = s.opts.FS.Remove(filepath.Join(s.opts.Root, seg.Path))
		}
		return fmt.Errorf("add segment %s to the manifest: %w", seg.ID, err)
	}
	// The segment is committed: the seal must follow even if the caller
	// has gone (a cancelled Rotate RPC), or every rotation until a restart
	// would plan the same seqs again.
	if err := s.hot.Seal(context.WithoutCancel(ctx), u.seals); err != nil {
		// The manifest already holds the events; the next rotation (or
		// the next Open) seals them.
		s.unsealed = true
		return fmt.Errorf("seal the hot tier after segment %s: %w", seg.ID, err)
	}
	s.log.Debug("history: rotated", "segment", seg.Path, "rows", seg.Info.Rows, "bytes", seg.Info.Bytes)
	return nil
}

// sealRange is one stream's part of a planned segment.
type sealRange struct {
	x    hot.Extent
	upTo uint64
}

// bytes estimates the range's events from the stream's average event size.
func (sr sealRange) bytes() float64 {
	return sr.x.BytesFrom(max(sr.x.ColdSeq+1, sr.x.FirstSeq)) - sr.x.BytesFrom(sr.upTo+1)
}

// plan is one segment to write: streams of one project, ingested on one day.
type plan struct {
	project string
	day     time.Time
	streams []sealRange
}

// hotStream is a stream with events in the hot tier.
type hotStream struct {
	x        hot.Extent
	firstHot time.Time
}

// plan picks the next project with events due (the first after `after`,
// in name order, wrapping around; none that failed in this rotation) and
// the streams and seqs to seal from its oldest hot day, at most about
// UnitBytes of them, or returns nil. An error reading one project's
// streams fails that project, not the plan.
func (s *Store) plan(ctx context.Context, sn *hot.Snapshot, r rotation, start time.Time, failed *projectErrors, after string) (*plan, error) {
	var streams []hotStream
	var hotBytes uint64
	err := sn.Streams(ctx, func(x hot.Extent) error {
		if x.HotCount() == 0 || (r.project != "" && x.Project != r.project) || failed.has(x.Project) {
			return nil
		}
		t, ok, err := sn.FirstHotIngest(x)
		if err != nil {
			failed.fail(x.Project, fmt.Errorf("find the first hot event of %s: %w", x.Stream, err))
			return nil
		}
		if ok {
			streams = append(streams, hotStream{x: x, firstHot: t})
			hotBytes += x.HotBytes()
		}
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
	// Projects in turn: the first after `after`, wrapping around.
	var projects [][]hotStream
	for i := 0; i < len(streams); {
		j := i + 1
		for j < len(streams) && streams[j].x.Project == streams[i].x.Project {
			j++
		}
		projects = append(projects, streams[i:j])
		i = j
	}
	first := sort.Search(len(projects), func(i int) bool { return projects[i][0].x.Project > after })
	for k := range projects {
		ps := projects[(first+k)%len(projects)]
		if failed.has(ps[0].x.Project) {
			continue
		}
		p, err := s.planProject(sn, ps, cutoff)
		if err != nil {
			failed.fail(ps[0].x.Project, err)
			continue
		}
		if p != nil {
			return p, nil
		}
	}
	return nil, nil
}

// planProject plans one project's next unit: its oldest hot day, up to the
// cutoff, cut earlier when that would seal more than UnitBytes. The unit
// seals every stream up to one time, so a project's segments of a day
// never overlap in ingest time and compaction's order (by ingest time) is
// seq order for every stream.
func (s *Store) planProject(sn *hot.Snapshot, streams []hotStream, cutoff time.Time) (*plan, error) {
	oldest := streams[0].firstHot
	for _, h := range streams[1:] {
		if h.firstHot.Before(oldest) {
			oldest = h.firstHot
		}
	}
	day := oldest.UTC().Truncate(24 * time.Hour)
	cut := cutoff
	if end := day.Add(24 * time.Hour); end.Before(cut) {
		cut = end
	}
	if !oldest.Before(cut) {
		return nil, nil
	}
	sealAt := func(t time.Time) (*plan, float64, error) {
		p := &plan{project: streams[0].x.Project, day: day}
		var bytes float64
		for _, h := range streams {
			upTo, err := sn.SealPoint(h.x, t)
			if err != nil {
				return nil, 0, fmt.Errorf("find the seal point of %s: %w", h.x.Stream, err)
			}
			if upTo > h.x.ColdSeq {
				p.streams = append(p.streams, sealRange{x: h.x, upTo: upTo})
				bytes += p.streams[len(p.streams)-1].bytes()
			}
		}
		return p, bytes, nil
	}
	p, bytes, err := sealAt(cut)
	if err != nil || s.opts.UnitBytes <= 0 || bytes <= float64(s.opts.UnitBytes) {
		return nonEmpty(p), err
	}
	// Too much for one unit: the latest time (in microseconds, the ingest
	// times' unit) whose unit fits, but at least the oldest instant's events.
	lo, hi := oldest.Add(time.Microsecond), cut
	best, _, err := sealAt(lo)
	if err != nil {
		return nil, err
	}
	for hi.Sub(lo) > time.Microsecond {
		mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Microsecond)
		if !mid.After(lo) {
			// hi is within 2 µs of lo and has nanoseconds (a cutoff is
			// start+1ns or start-RotateAfter): mid would stay lo forever.
			mid = lo.Add(time.Microsecond)
		}
		p, bytes, err := sealAt(mid)
		if err != nil {
			return nil, err
		}
		if bytes > float64(s.opts.UnitBytes) {
			hi = mid
			continue
		}
		lo, best = mid, p
		if bytes >= float64(s.opts.UnitBytes)/2 {
			break
		}
	}
	return nonEmpty(best), nil
}

// nonEmpty is p, or nil when it seals nothing.
func nonEmpty(p *plan) *plan {
	if p == nil || len(p.streams) == 0 {
		return nil
	}
	return p
}

// write streams a plan's events from the snapshot into a new segment and
// publishes its file; it is not in the manifest yet. An event whose time
// is outside what every tier stores (event.TimeInRange: the API refuses
// such times, but older data dirs may hold them) is quarantined instead of
// failing the unit: it goes into the segment without its time, and the
// segment's manifest entry records it (stream, seq, the time it had).
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
	var quarantined []manifest.Quarantined
	add := func(e *event.Event) error {
		if e.Time.IsZero() || event.TimeInRange(e.Time) {
			return w.Append(e)
		}
		q := manifest.Quarantined{Stream: e.Stream, Seq: e.Seq,
			Reason: "time " + e.Time.UTC().Format(time.RFC3339Nano) + " is outside " + timeRange + ": written without its time"}
		s.log.Warn("history: quarantined an event the segment cannot hold as it is",
			"project", p.project, "stream", q.Stream, "seq", q.Seq, "segment", id, "reason", q.Reason)
		if len(quarantined) < maxQuarantinedPerSegment {
			quarantined = append(quarantined, q)
		}
		e.Time = time.Time{}
		return w.Append(e)
	}
	ids := make(map[string]uint64, len(p.streams))
	for _, sr := range p.streams {
		ids[sr.x.Stream] = sr.x.ID
		if err := sn.Scan(ctx, sr.x, sr.upTo, add); err != nil {
			return nil, errors.Join(fmt.Errorf("write segment %s: %w", rel, err), w.Abort())
		}
	}
	info, err := w.Close(ctx)
	if err != nil {
		return nil, fmt.Errorf("publish segment %s: %w", rel, err)
	}
	return &manifest.Segment{ID: id, Path: rel, Created: s.opts.Now().UTC(), Info: info, StreamIDs: ids, Quarantined: quarantined}, nil
}

// maxQuarantinedPerSegment bounds the quarantine records one segment keeps
// in the manifest; the log names every quarantined event (when a unit is
// retried after a failure, again).
const maxQuarantinedPerSegment = 1000

// timeRange is event.TimeInRange's range, for messages.
var timeRange = "[" + event.MinTime.Format(time.RFC3339) + ", " + event.MaxTime.Format(time.RFC3339) + ")"
