package query

import (
	"context"

	"github.com/silt-io/silt/pkg/hot"
	"github.com/silt-io/silt/pkg/manifest"
	"github.com/silt-io/silt/pkg/segment"
)

// Source is both tiers as a query reads them (package history provides it).
type Source interface {
	// View runs fn with a consistent view of both tiers.
	View(ctx context.Context, fn func(View) error) error
}

// View is a consistent view of both tiers: a hot-tier snapshot, and a
// manifest version taken after it, so that every seq a stream's extent
// says was sealed (up to its ColdSeq) is in a segment of the version, and
// every seq after it is in the snapshot. Segments of the version may hold
// more (rotations that finished after the snapshot): a query takes only
// the seqs the extent assigns to the history tier from them.
type View interface {
	// Streams calls fn with the extent of each stream of project, by name.
	Streams(ctx context.Context, project string, fn func(hot.Extent) error) error
	// Segments lists the project's segments.
	Segments(project string) []*manifest.Segment
	// Open returns the reader of one of those segments; the View owns it.
	Open(seg *manifest.Segment) (*segment.Reader, error)
	// ScanHot calls fn with the stream's hot records with seq in
	// [from, upTo], in seq order; from is above x.ColdSeq. fn must not keep r.
	ScanHot(ctx context.Context, x hot.Extent, from, upTo uint64, fn func(r *hot.Record) error) error
}
