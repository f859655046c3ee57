package query

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/segment"
)

// part is one stream's share of a query: the seqs each tier serves.
// A range whose lo is above its hi is empty.
type part struct {
	x              Stream
	coldLo, coldHi uint64
	hotLo, hotHi   uint64
}

// segmentPlan is one segment to read.
type segmentPlan struct {
	seg       Segment
	r         *segment.Reader
	rowGroups []int
	// ranges are the seqs to take of each stream (by name); rows of other
	// streams, or outside them, are skipped.
	ranges map[string]seqRange
	// seek reads the ranges' events through the segment reader's cursors
	// instead of scanning the row groups' columns; seekRows, when the query
	// needs no map column and the streams have no holes, reads just the
	// ranges' rows of the needed columns instead.
	seek, seekRows bool
	// whole is set when the ranges take every row of the segment, so a
	// scan needs no per-row check (nor the stream and seq columns for it).
	whole bool
}

type seqRange struct{ lo, hi uint64 }

// plan is what a query reads.
type plan struct {
	// truncated is set when narrow left out seqs past the page: the
	// listing has more pages even if holes made this one short.
	truncated bool
	parts     []part // in scope, by stream name
	segments  []segmentPlan
	hot       []part // parts with hot events to read
	stats     Stats
	// lines explain each decision, for Request.Explain.
	lines []string
}

// planner makes plans from a View.
type planner struct {
	c *compiled
	v View
}

// plan decides which segments, row groups and hot ranges can hold
// matching events.
func (pl *planner) plan(ctx context.Context) (*plan, error) {
	p := &plan{}
	c := pl.c
	err := pl.v.Streams(ctx, c.req.Project, c.inScope, func(x Stream) error {
		pt := part{x: x, coldLo: x.FirstSeq, coldHi: x.ColdSeq, hotLo: max(x.ColdSeq+1, x.FirstSeq), hotHi: x.LastSeq}
		if c.req.FromSeq > 0 {
			pt.coldLo, pt.hotLo = max(pt.coldLo, c.req.FromSeq), max(pt.hotLo, c.req.FromSeq)
		}
		if c.req.ToSeq > 0 {
			pt.coldHi, pt.hotHi = min(pt.coldHi, c.req.ToSeq), min(pt.hotHi, c.req.ToSeq)
		}
		p.parts = append(p.parts, pt)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(p.parts) < len(c.req.Streams) {
		for _, name := range c.req.Streams {
			if !slices.ContainsFunc(p.parts, func(pt part) bool { return pt.x.Name == name }) {
				return nil, fmt.Errorf("query %s/%s: %w", c.req.Project, name, event.ErrStreamNotFound)
			}
		}
	}
	p.line("scope: project %s, %d streams", c.req.Project, len(p.parts))
	if c.narrowable() && len(p.parts) == 1 {
		p.narrow(c, &p.parts[0])
	}
	byName := make(map[string]*part, len(p.parts))
	for i := range p.parts {
		byName[p.parts[i].x.Name] = &p.parts[i]
	}
	segs := pl.v.Segments(c.req.Project)
	slices.SortFunc(segs, func(a, b Segment) int { return strings.Compare(a.ID, b.ID) })
	for _, seg := range segs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sp, why, err := pl.planSegment(seg, byName)
		if err != nil {
			return nil, err
		}
		p.stats.Segments++
		if sp == nil {
			p.stats.SegmentsPruned++
			p.line("segment %s: pruned (%s)", seg.ID, why)
			continue
		}
		n := len(seg.Info.RowGroups)
		p.stats.RowGroups += n
		p.stats.RowGroupsPruned += n - len(sp.rowGroups)
		p.line("segment %s: read row groups %v of %d%s", seg.ID, sp.rowGroups, n, why)
		p.segments = append(p.segments, *sp)
	}
	for _, pt := range p.parts {
		if pt.hotLo > pt.hotHi {
			continue
		}
		if !c.req.IngestFrom.IsZero() && pt.x.LastIngest.Before(c.req.IngestFrom) {
			p.line("hot %s: pruned (ingested before the ingest_time range)", pt.x.Name)
			continue
		}
		p.hot = append(p.hot, pt)
		p.line("hot %s: seqs %d..%d", pt.x.Name, pt.hotLo, pt.hotHi)
	}
	return p, nil
}

func (p *plan) line(format string, args ...any) {
	p.lines = append(p.lines, fmt.Sprintf(format, args...))
}

// String is the plan as Request.Explain returns it.
func (p *plan) String() string { return strings.Join(p.lines, "\n") + "\n" }

// planSegment returns the row groups of seg to read, or nil and why none.
func (pl *planner) planSegment(seg Segment, parts map[string]*part) (*segmentPlan, string, error) {
	c := pl.c
	in := seg.Info
	if !overlaps(in.MinIngestTime, in.MaxIngestTime, c.req.IngestFrom, c.req.IngestTo) {
		return nil, "ingest times outside the range", nil
	}
	if lo, hi := segmentTimes(in); c.timeBounded() && !overlaps(lo, hi, c.req.From, c.req.To) {
		return nil, "event times outside the range", nil
	}
	ranges := map[string]seqRange{}
	for _, s := range in.Streams {
		pt := parts[s.Stream]
		if pt == nil || seg.StreamIDs[s.Stream] != pt.x.ID {
			continue
		}
		lo, hi := max(pt.coldLo, s.FirstSeq), min(pt.coldHi, s.LastSeq)
		if lo > hi || !overlaps(s.MinIngestTime, s.MaxIngestTime, c.req.IngestFrom, c.req.IngestTo) {
			continue
		}
		ranges[s.Stream] = seqRange{lo, hi}
	}
	if len(ranges) == 0 {
		return nil, "no stream in scope with seqs in range", nil
	}
	r, err := pl.v.Open(seg)
	if err != nil {
		return nil, "", lostSegment(seg, ranges, err)
	}
	sp := &segmentPlan{seg: seg, r: r, ranges: ranges, whole: true}
	for _, s := range in.Streams {
		if r, ok := ranges[s.Stream]; !ok || r.lo > s.FirstSeq || r.hi < s.LastSeq {
			sp.whole = false
			break
		}
	}
	var byRange, byIngest, byTime, byType int
	for _, rg := range in.RowGroups {
		if !rowGroupHolds(rg, ranges) {
			byRange++
			continue
		}
		if !overlaps(rg.MinIngestTime, rg.MaxIngestTime, c.req.IngestFrom, c.req.IngestTo) {
			byIngest++
			continue
		}
		if c.timeBounded() || c.types != nil {
			st, err := r.RowGroupStats(rg.Index)
			if err != nil {
				return nil, "", lostSegment(seg, ranges, err)
			}
			if c.timeBounded() && (!st.HasTime || !overlaps(st.MinTime, st.MaxTime, c.req.From, c.req.To)) {
				byTime++
				continue
			}
			if c.types != nil && st.HasType && !slices.ContainsFunc(c.types, func(t string) bool { return t >= st.MinType && t <= st.MaxType }) {
				byType++
				continue
			}
		}
		sp.rowGroups = append(sp.rowGroups, rg.Index)
	}
	if len(sp.rowGroups) == 0 {
		return nil, fmt.Sprintf("all %d row groups pruned: %s", len(in.RowGroups), prunedText(byRange, byIngest, byTime, byType)), nil
	}
	why := ""
	if t := prunedText(byRange, byIngest, byTime, byType); t != "" {
		why = "; pruned " + t
	}
	if want, ok := pl.seekable(sp); ok {
		sp.seek = true
		sp.seekRows = c.cols&(colAttributes|colMetrics) == 0
		for name := range sp.ranges {
			if s, _ := in.Stream(name); !s.Gapless() {
				sp.seekRows = false
			}
		}
		how := "events"
		if sp.seekRows {
			how = "columns"
		}
		why += fmt.Sprintf("; seek to %d rows of %d streams (%s)", want, len(sp.ranges), how)
	}
	return sp, why, nil
}

// lostSegment is err of segment seg, read for ranges, as the lost range
// of the first stream in scope (event.LostSegment): from the first seq
// wanted to the segment's last, as a Read of that stream would name it.
// Errors that are not a damaged or missing segment pass as they are.
func lostSegment(seg Segment, ranges map[string]seqRange, err error) error {
	name := slices.Min(slices.Collect(maps.Keys(ranges)))
	last := ranges[name].hi
	if s, ok := seg.Info.Stream(name); ok {
		last = s.LastSeq
	}
	return event.LostSegment(seg.Info.Project, name, ranges[name].lo, last, seg.ID, err)
}

// seekRatio: a segment whose rows in range are at most 1/seekRatio of the
// rows of its selected row groups is read by seeking to each stream's
// range (whole events, through the segment reader's cursors) rather than
// by decoding the row groups' columns. It applies to queries scoped to
// named streams, whose rows in a segment of many streams are few.
const seekRatio = 8

// seekable reports whether sp is better read by seeking, and how many
// rows that reads.
func (pl *planner) seekable(sp *segmentPlan) (int64, bool) {
	if len(pl.c.req.Streams) == 0 {
		return 0, false
	}
	var want, rows int64
	for name, r := range sp.ranges {
		s, ok := sp.seg.Info.Stream(name)
		if !ok {
			return 0, false
		}
		want += int64(min(r.hi, s.LastSeq) - max(r.lo, s.FirstSeq) + 1)
	}
	for _, rg := range sp.rowGroups {
		rows += sp.seg.Info.RowGroups[rg].Rows
	}
	return want, want*seekRatio <= rows
}

// prunedText says why row groups were pruned.
func prunedText(byRange, byIngest, byTime, byType int) string {
	var parts []string
	for _, p := range []struct {
		n   int
		why string
	}{{byRange, "by stream and seq"}, {byIngest, "by ingest time"}, {byTime, "by time statistics"}, {byType, "by type statistics"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.why))
		}
	}
	return strings.Join(parts, ", ")
}

// rowGroupHolds reports whether a row group's rows can include a seq of
// the ranges: its (stream, seq) span overlaps one of them.
func rowGroupHolds(rg segment.RowGroupInfo, ranges map[string]seqRange) bool {
	for s, r := range ranges {
		lo := segment.Position{Stream: s, Seq: r.lo}
		hi := segment.Position{Stream: s, Seq: r.hi}
		if lo.Compare(rg.Last) <= 0 && hi.Compare(rg.First) >= 0 {
			return true
		}
	}
	return false
}

// overlaps reports whether [lo, hi] (closed; from statistics) meets the
// half-open range [from, to) where zero bounds are open.
func overlaps(lo, hi, from, to time.Time) bool {
	if !from.IsZero() && hi.Before(from) {
		return false
	}
	if !to.IsZero() && !lo.Before(to) {
		return false
	}
	return true
}

// timeBounded reports whether the request bounds event time.
func (c *compiled) timeBounded() bool { return !c.req.From.IsZero() || !c.req.To.IsZero() }

// inScope reports whether a stream is in the request's scope.
func (c *compiled) inScope(stream string) bool {
	switch {
	case len(c.req.Streams) > 0:
		return slices.Contains(c.req.Streams, stream)
	case c.req.StreamPrefix != "":
		return strings.HasPrefix(stream, c.req.StreamPrefix)
	}
	return true
}

// narrowable reports whether a listing is one stream's seqs in order with
// nothing to skip, so its page is a seq range.
func (c *compiled) narrowable() bool {
	return !c.aggregating() && c.pred == nil && !c.timeBounded() && c.req.IngestFrom.IsZero() && c.req.IngestTo.IsZero() &&
		(c.req.Order == OrderSeqAsc || c.req.Order == OrderSeqDesc)
}

// narrow cuts a one-stream seq listing to the limit+1 seqs from the page
// token on (one more than the page, so the sink sees that more follow).
func (p *plan) narrow(c *compiled, pt *part) {
	lo, hi := pt.coldLo, pt.hotHi
	if pt.coldLo > pt.coldHi {
		lo = pt.hotLo
	}
	if pt.hotLo > pt.hotHi {
		hi = pt.coldHi
	}
	if lo > hi {
		return
	}
	n := uint64(c.limit)
	if c.req.Order == OrderSeqAsc {
		if c.after != nil && c.after.stream == pt.x.Name {
			lo = max(lo, c.after.seq+1)
		}
		if lo <= hi && hi-lo > n {
			hi, p.truncated = lo+n, true
		}
	} else {
		if c.after != nil && c.after.stream == pt.x.Name {
			if c.after.seq <= lo {
				hi, lo = 0, 1 // nothing left
			} else {
				hi = min(hi, c.after.seq-1)
			}
		}
		if lo <= hi && hi-lo > n {
			lo, p.truncated = hi-n, true
		}
	}
	pt.coldLo, pt.coldHi = max(pt.coldLo, lo), min(pt.coldHi, hi)
	pt.hotLo, pt.hotHi = max(pt.hotLo, lo), min(pt.hotHi, hi)
	if lo > hi {
		p.line("listing one stream in seq order: nothing after the page token")
		return
	}
	p.line("listing one stream in seq order: seqs %d..%d", lo, hi)
}
