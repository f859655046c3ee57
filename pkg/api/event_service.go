package api

import (
	"context"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// defaultReadLimit is Read's page size when the request names none.
const defaultReadLimit = 100

// Append implements silt.v1.EventService. The server routes Append to
// appendAny instead (Handlers), which takes the fast path's packed events
// too; this is the same for a message decoded the general way.
func (s *Service) Append(ctx context.Context, req *connect.Request[siltv1.AppendRequest]) (*connect.Response[siltv1.AppendResponse], error) {
	return s.appendDecoded(ctx, req.Msg)
}

// appendAny serves Append with either form of request.
func (s *Service) appendAny(ctx context.Context, req *connect.Request[appendMessage]) (*connect.Response[siltv1.AppendResponse], error) {
	if p := req.Msg.packed; p != nil {
		ar := *p
		ar.AutoCreate = s.opts.AutoCreate
		defer req.Msg.release()
		return s.commitAppend(ctx, ar)
	}
	return s.appendDecoded(ctx, req.Msg.AppendRequest)
}

// appendDecoded serves an Append decoded into the generated message.
func (s *Service) appendDecoded(ctx context.Context, m *siltv1.AppendRequest) (*connect.Response[siltv1.AppendResponse], error) {
	events := make([]event.Event, len(m.GetEvents()))
	for i, in := range m.GetEvents() {
		e, err := eventFromInput(in)
		if err != nil {
			return nil, s.code(fieldViolation(indexPath("events", i), "event.valid", err.Error()))
		}
		events[i] = e
	}
	ar := event.AppendRequest{
		Project:         m.GetProject(),
		Stream:          m.GetStream(),
		Events:          record.Pack(events...),
		ExpectedLastSeq: m.ExpectedLastSeq,
		AutoCreate:      s.opts.AutoCreate,
	}
	if p := m.GetProducer(); p != nil {
		ar.Producer = &event.Producer{ID: p.GetId(), Epoch: p.GetEpoch(), Seq: p.GetSeq()}
	}
	return s.commitAppend(ctx, ar)
}

// commitAppend appends ar to the log and reports where it landed.
func (s *Service) commitAppend(ctx context.Context, ar event.AppendRequest) (*connect.Response[siltv1.AppendResponse], error) {
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
