package api

import (
	"context"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/api/internal/appendwire"
	"github.com/silt-io/silt/pkg/event"
)

// defaultReadLimit is Read's page size when the request names none.
const defaultReadLimit = 100

// serveAppend is the Append handler: Handlers routes Append here
// (routeAppend) rather than to the generated handler, so that a binary body
// can take the fast path (package appendwire), which packs its events
// straight from the wire; any other body is decoded into the generated
// message and packed by packAppend. The store gets packed events either way.
func (s *Service) serveAppend(ctx context.Context, req *connect.Request[appendwire.Message]) (*connect.Response[siltv1.AppendResponse], error) {
	return s.append(ctx, req.Msg)
}

// Append implements silt.v1.EventService for the generated handler, which
// Handlers does not route to (see serveAppend).
func (s *Service) Append(ctx context.Context, req *connect.Request[siltv1.AppendRequest]) (*connect.Response[siltv1.AppendResponse], error) {
	return s.append(ctx, &appendwire.Message{AppendRequest: req.Msg})
}

// append appends m's events to the log and reports where they landed.
func (s *Service) append(ctx context.Context, m *appendwire.Message) (*connect.Response[siltv1.AppendResponse], error) {
	defer m.Release()
	ar, err := packedRequest(m)
	if err != nil {
		return nil, s.code(err)
	}
	ar.AutoCreate = s.opts.AutoCreate
	res, err := s.log.Append(ctx, ar)
	if err != nil {
		return nil, s.code(err)
	}
	return connect.NewResponse(&siltv1.AppendResponse{
		FirstSeq:   res.FirstSeq,
		LastSeq:    res.LastSeq,
		IngestTime: timestamppb.New(res.IngestTime),
		Duplicate:  res.Duplicate,
	}), nil
}

// packedRequest is m as the store takes it: packed by the fast path, or
// packed here from the generated message.
func packedRequest(m *appendwire.Message) (event.AppendRequest, error) {
	if p := m.Packed(); p != nil {
		return *p, nil
	}
	return packAppend(m.AppendRequest)
}

// Read implements silt.v1.EventService.
func (s *Service) Read(ctx context.Context, req *connect.Request[siltv1.ReadRequest]) (*connect.Response[siltv1.ReadResponse], error) {
	m := req.Msg
	limit := int(m.GetLimit())
	if limit == 0 {
		limit = defaultReadLimit
	}
	rr := event.ReadRequest{
		Project:  m.GetProject(),
		Stream:   m.GetStream(),
		FromSeq:  m.GetFromSeq(),
		Limit:    limit,
		MaxBytes: int(m.GetMaxBytes()),
	}
	if rr.MaxBytes == 0 {
		rr.MaxBytes = s.opts.ReadMaxBytes
	}
	if t := m.GetFromTime(); t != nil {
		rr.FromTime = t.AsTime()
	}
	res, err := s.log.Read(ctx, rr)
	if err != nil {
		return nil, s.code(err)
	}
	events, err := eventsToProto(res.Events, m.GetRawJson())
	if err != nil {
		return nil, s.code(err)
	}
	return connect.NewResponse(&siltv1.ReadResponse{
		Events:   events,
		NextSeq:  res.NextSeq,
		LastSeq:  res.LastSeq,
		FirstSeq: res.FirstSeq,
		UpToDate: res.UpToDate(),
	}), nil
}
