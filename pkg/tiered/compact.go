package tiered

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"path/filepath"
	"slices"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/hot"
	"github.com/silt-io/silt/pkg/manifest"
	"github.com/silt-io/silt/pkg/segment"
)

// compactPage is how many events compaction copies per segment read.
const compactPage = 8192

// maxMergeParts bounds a merge's fan-in, so each merge is a bounded unit of
// work that commits on its own.
const maxMergeParts = 16

// Compact merges runs of neighbouring small segments of one size tier (per
// project and day) into larger ones, as the background compactor does once
// CompactMinSegments of them have piled up, but for every run of two or more
// (of project, or of every project when it is ""). It returns the segments
// written.
func (s *Store) Compact(ctx context.Context, project string) ([]manifest.Segment, error) {
	s.workMu.Lock()
	defer s.workMu.Unlock()
	return s.compact(ctx, project, 2)
}

// compact merges every group of at least minParts small segments. A
// merge that fails takes its project out of this round; the other
// projects' groups go on.
func (s *Store) compact(ctx context.Context, project string, minParts int) ([]manifest.Segment, error) {
	var out []manifest.Segment
	failed := newProjectErrors(s.log, "compaction")
	for _, parts := range s.compactionGroups(project, minParts) {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		p := parts[0].Info.Project
		if failed.has(p) {
			continue
		}
		seg, err := s.merge(ctx, parts)
		if err != nil && ctx.Err() != nil {
			return out, errors.Join(failed.err(), ctx.Err())
		}
		if err != nil {
			failed.fail(p, err)
			continue
		}
		if seg != nil {
			out = append(out, *seg)
		}
	}
	return out, failed.err()
}

// compactionGroups lists groups of segments to merge. Per project and
// ingest day, segments are ordered by ingest time, which is seq order for
// every stream (each rotation seals all of a project's streams up to one
// cutoff). A group is a run of neighbours in that order that are all small
// and of one size tier (sizes within a factor of four), at least minParts
// long, at most maxMergeParts segments and about CompactTargetBytes. Only
// neighbours merge, so a merged segment's seq ranges never straddle another
// segment's; only like sizes merge, so each event is rewritten a
// logarithmic number of times.
func (s *Store) compactionGroups(project string, minParts int) [][]*manifest.Segment {
	v := s.man.Acquire()
	defer v.Release()
	type key struct {
		project string
		day     time.Time
	}
	byDay := map[key][]*manifest.Segment{}
	var keys []key
	for _, seg := range v.Segments() {
		if project != "" && seg.Info.Project != project {
			continue
		}
		k := key{seg.Info.Project, segmentDay(seg)}
		if byDay[k] == nil {
			keys = append(keys, k)
		}
		byDay[k] = append(byDay[k], seg)
	}
	var groups [][]*manifest.Segment
	for _, k := range keys {
		segs := byDay[k]
		slices.SortFunc(segs, func(a, b *manifest.Segment) int {
			return cmp.Or(a.Info.MinIngestTime.Compare(b.Info.MinIngestTime), cmp.Compare(a.ID, b.ID))
		})
		var run []*manifest.Segment
		var size int64
		flush := func() {
			if len(run) >= minParts {
				groups = append(groups, run)
			}
			run, size = nil, 0
		}
		for _, seg := range segs {
			small := seg.Info.Bytes < s.opts.CompactTargetBytes
			if len(run) > 0 && (!small || sizeTier(seg.Info.Bytes) != sizeTier(run[0].Info.Bytes) ||
				len(run) == maxMergeParts || (len(run) >= 2 && size >= s.opts.CompactTargetBytes)) {
				flush()
			}
			if small {
				run = append(run, seg)
				size += seg.Info.Bytes
			}
		}
		flush()
	}
	return groups
}

// sizeTier buckets segment sizes by powers of four from 64 KiB.
func sizeTier(bytes int64) int { return bits.Len64(uint64(bytes>>16)) / 2 }

// segmentDay is the ingest day a segment belongs to (rotation never lets
// one span two days).
func segmentDay(seg *manifest.Segment) time.Time {
	return seg.Info.MinIngestTime.UTC().Truncate(24 * time.Hour)
}

// merge writes the events of parts that are still live (streams that
// exist as the same incarnation, seqs at or above their first seq) into one
// segment and swaps it for the parts in one manifest edit. Readers of older
// Versions keep reading the parts until they release them.
func (s *Store) merge(ctx context.Context, parts []*manifest.Segment) (*manifest.Segment, error) {
	project := parts[0].Info.Project
	v := s.man.Acquire()
	defer v.Release()
	for _, p := range parts {
		if v.Segment(p.ID) == nil {
			return nil, nil // changed since it was planned
		}
	}
	// Each stream's parts in seq order.
	type piece struct {
		seg *manifest.Segment
		r   segment.StreamRange
	}
	byStream := map[string][]piece{}
	for _, p := range parts {
		for _, r := range p.Info.Streams {
			byStream[r.Stream] = append(byStream[r.Stream], piece{p, r})
		}
	}
	names := make([]string, 0, len(byStream))
	for name := range byStream {
		names = append(names, name)
		slices.SortFunc(byStream[name], func(a, b piece) int { return cmp.Compare(a.r.FirstSeq, b.r.FirstSeq) })
	}
	slices.Sort(names)

	release, err := s.reserve("a merged segment of "+project, partsBytes(parts))
	if err != nil {
		return nil, err
	}
	defer release()
	id := ulid.Make().String()
	rel := manifest.Path(project, segmentDay(parts[0]), id)
	opts := s.opts.Writer
	opts.Project = project
	w, err := segment.NewWriter(filepath.Join(s.opts.Root, rel), opts)
	if err != nil {
		return nil, fmt.Errorf("start merged segment: %w", err)
	}
	ids := map[string]uint64{}
	var quarantined []manifest.Quarantined
	rows := 0
	err = s.hot.View(ctx, func(sn *hot.Snapshot) error {
		for _, name := range names {
			x, err := sn.Stream(project, name)
			if errors.Is(err, event.ErrStreamNotFound) {
				continue // deleted: its history goes
			}
			if err != nil {
				return err
			}
			for _, pc := range byStream[name] {
				if pc.seg.StreamIDs[name] != x.ID {
					continue // an older incarnation's
				}
				from := max(pc.r.FirstSeq, x.FirstSeq)
				n, err := s.copyStream(ctx, w, pc.seg, name, from, pc.r.LastSeq)
				if err != nil {
					return err
				}
				if n > 0 {
					ids[name] = x.ID
					rows += n
				}
				for _, q := range pc.seg.Quarantined {
					if q.Stream == name && q.Seq >= from && q.Seq <= pc.r.LastSeq && len(quarantined) < maxQuarantinedPerSegment {
						quarantined = append(quarantined, q)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("merge segments into %s: %w", rel, err), w.Abort())
	}
	edit := manifest.Edit{}
	for _, p := range parts {
		edit.Remove = append(edit.Remove, p.ID)
	}
	var seg *manifest.Segment
	if rows == 0 {
		if err := w.Abort(); err != nil {
			return nil, err
		}
	} else {
		info, err := w.Close(ctx)
		if err != nil {
			return nil, fmt.Errorf("publish merged segment %s: %w", rel, err)
		}
		seg = &manifest.Segment{ID: id, Path: rel, Created: s.opts.Now().UTC(), Info: info, StreamIDs: ids, Quarantined: quarantined}
		edit.Add = []manifest.Segment{*seg}
	}
	if err := s.man.Apply(edit); err != nil {
		// The merged file stays unless the edit was refused before the
		// manifest file was touched: the manifest file may list it even so
		// (see manifest.Apply); the next Open removes it if it does not.
		if seg != nil && errors.Is(err, manifest.ErrRejected) {
			_ = s.opts.FS.Remove(filepath.Join(s.opts.Root, rel))
		}
		return nil, fmt.Errorf("swap %d segments for %s in the manifest: %w", len(parts), id, err)
	}
	s.log.Debug("history: compacted", "parts", len(parts), "into", rel, "rows", rows)
	return seg, nil
}

// copyStream appends a stream's events from..to of one segment to w and
// returns how many it copied.
func (s *Store) copyStream(ctx context.Context, w *segment.Writer, seg *manifest.Segment, stream string, from, to uint64) (int, error) {
	r, err := s.readers.get(seg)
	if err != nil {
		return 0, err
	}
	n := 0
	for from <= to {
		evs, err := r.Read(ctx, stream, from, compactPage, 0)
		if err != nil {
			return n, fmt.Errorf("read segment %s: %w", seg.ID, err)
		}
		if len(evs) == 0 {
			break
		}
		for i := range evs {
			if evs[i].Seq > to {
				return n, nil
			}
			if err := w.Append(&evs[i]); err != nil {
				return n, err
			}
			n++
		}
		from = evs[len(evs)-1].Seq + 1
	}
	return n, nil
}
