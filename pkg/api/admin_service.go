package api

import (
	"context"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/manifest"
)

// History is the history tier as the admin API uses it.
type History interface {
	// Rotate seals the events of project ("" for all) ingested so far into
	// segments and returns the segments written.
	Rotate(ctx context.Context, project string) ([]manifest.Segment, error)
	// Compact merges the small segments of project ("" for all) and
	// returns the segments written.
	Compact(ctx context.Context, project string) ([]manifest.Segment, error)
	// Segments lists the segments of project ("" for all).
	Segments(project string) []manifest.Segment
}

// Rotate implements silt.v1.AdminService.Rotate.
func (s *Service) Rotate(ctx context.Context, req *connect.Request[siltv1.RotateRequest]) (*connect.Response[siltv1.RotateResponse], error) {
	segs, err := s.opts.History.Rotate(ctx, req.Msg.GetProject())
	if err != nil {
		return nil, s.code(err)
	}
	return connect.NewResponse(&siltv1.RotateResponse{Segments: segmentsToProto(segs)}), nil
}

// Compact implements silt.v1.AdminService.Compact.
func (s *Service) Compact(ctx context.Context, req *connect.Request[siltv1.CompactRequest]) (*connect.Response[siltv1.CompactResponse], error) {
	segs, err := s.opts.History.Compact(ctx, req.Msg.GetProject())
	if err != nil {
		return nil, s.code(err)
	}
	return connect.NewResponse(&siltv1.CompactResponse{Segments: segmentsToProto(segs)}), nil
}

// ListSegments implements silt.v1.AdminService.ListSegments.
func (s *Service) ListSegments(_ context.Context, req *connect.Request[siltv1.ListSegmentsRequest]) (*connect.Response[siltv1.ListSegmentsResponse], error) {
	segs := s.opts.History.Segments(req.Msg.GetProject())
	return connect.NewResponse(&siltv1.ListSegmentsResponse{Segments: segmentsToProto(segs)}), nil
}

func segmentsToProto(segs []manifest.Segment) []*siltv1.Segment {
	out := make([]*siltv1.Segment, 0, len(segs))
	for i := range segs {
		in := &segs[i].Info
		p := &siltv1.Segment{
			Id:            segs[i].ID,
			Project:       in.Project,
			Path:          segs[i].Path,
			Rows:          in.Rows,
			Bytes:         in.Bytes,
			RowGroups:     int32(len(in.RowGroups)),
			MinIngestTime: timestamppb.New(in.MinIngestTime),
			MaxIngestTime: timestamppb.New(in.MaxIngestTime),
		}
		for _, r := range in.Streams {
			p.Streams = append(p.Streams, &siltv1.SegmentStream{Stream: r.Stream, FirstSeq: r.FirstSeq, LastSeq: r.LastSeq, Count: r.Count})
		}
		for _, q := range segs[i].Quarantined {
			p.Quarantined = append(p.Quarantined, &siltv1.QuarantinedEvent{Stream: q.Stream, Seq: q.Seq, Reason: q.Reason})
		}
		out = append(out, p)
	}
	return out
}
