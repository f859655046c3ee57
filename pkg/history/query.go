package history

import (
	"context"

	"github.com/silt-io/silt/pkg/hot"
	"github.com/silt-io/silt/pkg/manifest"
	"github.com/silt-io/silt/pkg/query"
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

func (q *queryView) Streams(ctx context.Context, project string, fn func(hot.Extent) error) error {
	return q.sn.Streams(ctx, func(x hot.Extent) error {
		if x.Project != project {
			return nil
		}
		return fn(x)
	})
}

func (q *queryView) Segments(project string) []*manifest.Segment {
	var out []*manifest.Segment
	for _, seg := range q.v.Segments() {
		if seg.Info.Project == project {
			out = append(out, seg)
		}
	}
	return out
}

func (q *queryView) Open(seg *manifest.Segment) (*segment.Reader, error) { return q.s.readers.get(seg) }

func (q *queryView) ScanHot(ctx context.Context, x hot.Extent, from, upTo uint64, fn func(r *hot.Record) error) error {
	x.ColdSeq = max(x.ColdSeq, from-1)
	return q.sn.ScanRecords(ctx, x, upTo, fn)
}

var _ query.Source = (*Store)(nil)
