package query

import (
	"context"
	"time"

	"github.com/silt-io/silt/pkg/record"
	"github.com/silt-io/silt/pkg/segment"
)

// Source is both tiers as a query reads them (the tier store provides it).
type Source interface {
	// View runs fn with a consistent view of both tiers.
	View(ctx context.Context, fn func(View) error) error
}

// View is a consistent view of both tiers: every seq a Stream says is
// sealed (up to its ColdSeq) is in a segment of the view, and every seq
// after it is in the hot tier. Segments may hold more (rotations that
// finished after the view's hot snapshot): a query takes only the seqs the
// Stream assigns to them.
type View interface {
	// Streams calls fn with each stream of project that want accepts, by
	// name. It fails, with event.ErrMissingHistory, when the segments do
	// not hold an accepted stream's sealed seqs.
	Streams(ctx context.Context, project string, want func(name string) bool, fn func(Stream) error) error
	// Segments lists the project's segments.
	Segments(project string) []Segment
	// Open returns the reader of one of those segments; the View owns it.
	Open(seg Segment) (*segment.Reader, error)
	// ScanHot calls fn with the stream's hot records with seq in
	// [from, upTo], in seq order; from is above s.ColdSeq. fn must not
	// keep r.
	ScanHot(ctx context.Context, s Stream, from, upTo uint64, fn func(r *record.Stored) error) error
}

// Stream is one stream of a View and the split of its seqs between the
// tiers: segments hold FirstSeq..ColdSeq, the hot tier the rest up to
// LastSeq. ColdSeq below FirstSeq means the hot tier holds them all.
type Stream struct {
	Project, Name string
	// ID is the stream's incarnation: a segment's rows of a stream deleted
	// and created again under the name belong to another ID.
	ID                         uint64
	FirstSeq, ColdSeq, LastSeq uint64
	// LastIngest is the ingest time of its last append (zero if none).
	LastIngest time.Time
}

// Segment is one Parquet segment of a View.
type Segment struct {
	ID   string
	Info *segment.Info
	// StreamIDs maps each stream of the segment to the incarnation its rows
	// belong to (missing: 0).
	StreamIDs map[string]uint64
}
