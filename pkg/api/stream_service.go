package api

import (
	"context"
	"fmt"

	"connectrpc.com/connect"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/event"
)

// defaultPageSize is a listing's page size when the request names none.
const defaultPageSize = 100

// CreateStream implements silt.v1.StreamService.
func (s *Service) CreateStream(ctx context.Context, req *connect.Request[siltv1.CreateStreamRequest]) (*connect.Response[siltv1.CreateStreamResponse], error) {
	m := req.Msg
	info, err := s.streams.CreateStream(ctx, m.GetProject(), m.GetStream(), settingsFromProto(m.GetSettings()))
	if err != nil {
		return nil, s.code(err)
	}
	return connect.NewResponse(&siltv1.CreateStreamResponse{Stream: streamToProto(info)}), nil
}

// GetStream implements silt.v1.StreamService.
func (s *Service) GetStream(ctx context.Context, req *connect.Request[siltv1.GetStreamRequest]) (*connect.Response[siltv1.GetStreamResponse], error) {
	info, err := s.streams.GetStream(ctx, req.Msg.GetProject(), req.Msg.GetStream())
	if err != nil {
		return nil, s.code(err)
	}
	return connect.NewResponse(&siltv1.GetStreamResponse{Stream: streamToProto(info)}), nil
}

// ListStreams implements silt.v1.StreamService, paged by name (namePage).
func (s *Service) ListStreams(ctx context.Context, req *connect.Request[siltv1.ListStreamsRequest]) (*connect.Response[siltv1.ListStreamsResponse], error) {
	m := req.Msg
	page, err := pageOf(m.GetPageToken(), m.GetPageSize())
	if err != nil {
		return nil, s.code(err)
	}
	infos, err := s.streams.ListStreams(ctx, event.ListStreamsRequest{
		Project: m.GetProject(), After: page.after, Prefix: m.GetPrefix(), Limit: page.limit(),
	})
	if err != nil {
		return nil, s.code(err)
	}
	out := &siltv1.ListStreamsResponse{}
	infos, out.NextPageToken = cut(page, infos, func(i event.StreamInfo) string { return i.Name })
	for _, info := range infos {
		out.Streams = append(out.Streams, streamToProto(info))
	}
	return connect.NewResponse(out), nil
}

// UpdateStream implements silt.v1.StreamService.
func (s *Service) UpdateStream(ctx context.Context, req *connect.Request[siltv1.UpdateStreamRequest]) (*connect.Response[siltv1.UpdateStreamResponse], error) {
	m := req.Msg
	cur, err := s.streams.GetStream(ctx, m.GetProject(), m.GetStream())
	if err != nil {
		return nil, s.code(err)
	}
	next := settingsFromProto(m.GetSettings())
	if paths := m.GetUpdateMask().GetPaths(); len(paths) > 0 {
		merged := cur.Settings
		for _, p := range paths {
			switch p {
			case "content_type":
				merged.ContentType = next.ContentType
			case "retention":
				merged.RetentionMaxAge, merged.RetentionMaxBytes = next.RetentionMaxAge, next.RetentionMaxBytes
			case "retention.max_age":
				merged.RetentionMaxAge = next.RetentionMaxAge
			case "retention.max_bytes":
				merged.RetentionMaxBytes = next.RetentionMaxBytes
			default:
				return nil, s.code(fieldViolation(fieldPath("update_mask"), "update_mask.paths", fmt.Sprintf("unknown path %q", p)))
			}
		}
		next = merged
	}
	info, err := s.streams.UpdateStream(ctx, m.GetProject(), m.GetStream(), next)
	if err != nil {
		return nil, s.code(err)
	}
	return connect.NewResponse(&siltv1.UpdateStreamResponse{Stream: streamToProto(info)}), nil
}

// DeleteStream implements silt.v1.StreamService.
func (s *Service) DeleteStream(ctx context.Context, req *connect.Request[siltv1.DeleteStreamRequest]) (*connect.Response[siltv1.DeleteStreamResponse], error) {
	if err := s.streams.DeleteStream(ctx, req.Msg.GetProject(), req.Msg.GetStream()); err != nil {
		return nil, s.code(err)
	}
	return connect.NewResponse(&siltv1.DeleteStreamResponse{}), nil
}
