package manifest

import (
	"cmp"
	"fmt"
	"slices"
	"sort"

	"github.com/silt-io/silt/pkg/segment"
)

// Version is an immutable set of segments. Acquire one from the Manifest
// and Release it when done.
type Version struct {
	m        *Manifest
	number   uint64
	segments []*Segment
	byID     map[string]*Segment
	// streams indexes, per (project, stream, incarnation), the segments
	// holding it, in seq order.
	streams map[streamKey][]Hit

	// Guarded by m.mu.
	readers  int
	current  bool
	released bool
}

type streamKey struct {
	project, stream string
	id              uint64
}

// Hit is one segment's part of a stream.
type Hit struct {
	Segment *Segment
	Range   segment.StreamRange
}

// newVersion indexes segs and checks that no stream's seq ranges overlap.
func newVersion(m *Manifest, number uint64, segs []*Segment) (*Version, error) {
	v := &Version{m: m, number: number, byID: make(map[string]*Segment, len(segs)), streams: make(map[streamKey][]Hit)}
	v.segments = slices.Clone(segs)
	slices.SortFunc(v.segments, func(a, b *Segment) int { return cmp.Compare(a.ID, b.ID) })
	for _, s := range v.segments {
		if v.byID[s.ID] != nil {
			return nil, fmt.Errorf("segment %s listed twice", s.ID)
		}
		v.byID[s.ID] = s
		for _, r := range s.Info.Streams {
			k := streamKey{s.Info.Project, r.Stream, s.StreamIDs[r.Stream]}
			v.streams[k] = append(v.streams[k], Hit{Segment: s, Range: r})
		}
	}
	for k, hits := range v.streams {
		slices.SortFunc(hits, func(a, b Hit) int { return cmp.Compare(a.Range.FirstSeq, b.Range.FirstSeq) })
		for i := 1; i < len(hits); i++ {
			if hits[i].Range.FirstSeq <= hits[i-1].Range.LastSeq {
				return nil, fmt.Errorf("%s/%s (id %d): seqs %d..%d of segment %s overlap %d..%d of segment %s", k.project, k.stream, k.id,
					hits[i].Range.FirstSeq, hits[i].Range.LastSeq, hits[i].Segment.ID,
					hits[i-1].Range.FirstSeq, hits[i-1].Range.LastSeq, hits[i-1].Segment.ID)
			}
		}
	}
	return v, nil
}

// Release ends the caller's use of v. Calling it twice is a bug.
func (v *Version) Release() {
	m := v.m
	m.mu.Lock()
	if v.readers <= 0 {
		m.mu.Unlock()
		panic("manifest: Version released more often than acquired")
	}
	v.readers--
	obsolete := m.releaseLocked(v)
	m.mu.Unlock()
	m.drop(obsolete)
}

// Number increases by one with every Apply.
func (v *Version) Number() uint64 { return v.number }

// Segments lists every segment, by ID.
func (v *Version) Segments() []*Segment { return v.segments }

// Segment returns the segment with the ID, or nil.
func (v *Version) Segment(id string) *Segment { return v.byID[id] }

// Find returns, in seq order, the segments holding incarnation id of the
// stream's events with seq >= fromSeq: a binary search, no file is opened.
func (v *Version) Find(project, stream string, id, fromSeq uint64) []Hit {
	hits := v.streams[streamKey{project, stream, id}]
	i := sort.Search(len(hits), func(i int) bool { return hits[i].Range.LastSeq >= fromSeq })
	return hits[i:]
}

// Extent returns the first and last seq the segments hold of incarnation id
// of a stream.
func (v *Version) Extent(project, stream string, id uint64) (first, last uint64, ok bool) {
	hits := v.streams[streamKey{project, stream, id}]
	if len(hits) == 0 {
		return 0, 0, false
	}
	return hits[0].Range.FirstSeq, hits[len(hits)-1].Range.LastSeq, true
}

// StreamExtent is what a Version holds of one stream incarnation.
type StreamExtent struct {
	Project, Stream string
	ID              uint64
	First, Last     uint64
}

// Streams lists every stream incarnation the segments hold, in no
// particular order.
func (v *Version) Streams() []StreamExtent {
	out := make([]StreamExtent, 0, len(v.streams))
	for k, hits := range v.streams {
		out = append(out, StreamExtent{Project: k.project, Stream: k.stream, ID: k.id,
			First: hits[0].Range.FirstSeq, Last: hits[len(hits)-1].Range.LastSeq})
	}
	return out
}
