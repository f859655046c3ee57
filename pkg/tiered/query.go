package tiered

import (
	"context"
	"fmt"

	"github.com/silt-io/silt/pkg/hot"
	"github.com/silt-io/silt/pkg/manifest"
	"github.com/silt-io/silt/pkg/query"
	"github.com/silt-io/silt/pkg/record"
	"github.com/silt-io/silt/pkg/segment"
)

// View runs fn with a consistent view of both tiers for a query: a hot
// snapshot first, then the manifest version, as Read takes them.
func (s *Store) View(ctx context.Context, fn func(query.View) error) error {
	return s.hot.View(ctx, func(sn *hot.Snapshot) error {
		v := s.man.Acquire()
		defer v.Release()
		return fn(&queryView{s: s, sn: sn, v: v})
	})
}

// queryView is query.View over a snapshot and a manifest version.
type queryView struct {
	s  *Store
	sn *hot.Snapshot
	v  *manifest.Version
}

func (q *queryView) Streams(ctx context.Context, project string, want func(string) bool, fn func(query.Stream) error) error {
	return q.sn.Streams(ctx, func(x hot.Extent) error {
		if x.Project != project || !want(x.Stream) {
			return nil
		}
		if x.ColdSeq >= x.FirstSeq {
			if _, err := sealedIn(q.v, x); err != nil {
				return err
			}
		}
		return fn(query.Stream{Project: x.Project, Name: x.Stream, ID: x.ID,
			FirstSeq: x.FirstSeq, ColdSeq: x.ColdSeq, LastSeq: x.LastSeq, LastIngest: x.LastIngest})
	})
}

func (q *queryView) Segments(project string) []query.Segment {
	var out []query.Segment
	for _, seg := range q.v.Segments() {
		if seg.Info.Project == project {
			out = append(out, query.Segment{ID: seg.ID, Info: &seg.Info, StreamIDs: seg.StreamIDs})
		}
	}
	return out
}

func (q *queryView) Open(seg query.Segment) (*segment.Reader, error) {
	m := q.v.Segment(seg.ID)
	if m == nil {
		return nil, fmt.Errorf("segment %s is not in the view", seg.ID)
	}
	return q.s.readers.get(m)
}

func (q *queryView) ScanHot(ctx context.Context, s query.Stream, from, upTo uint64, fn func(r *record.Stored) error) error {
	x := hot.Extent{Project: s.Project, Stream: s.Name, ID: s.ID, FirstSeq: s.FirstSeq, LastSeq: s.LastSeq, ColdSeq: max(s.ColdSeq, from-1)}
	return q.sn.ScanRecords(ctx, x, upTo, fn)
}

var _ query.Source = (*Store)(nil)
