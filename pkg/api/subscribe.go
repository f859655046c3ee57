package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/event"
)

// Subscribe implements silt.v1.EventService.
//
// The loop takes the notifier's channel before each read, so a commit that
// lands between the read and the wait wakes it (see package notify). Each
// subscriber reads the store at its own pace: a slow one falls behind and
// catches up by reading, it never holds up a writer.
//
// With AutoCreate, a stream that does not exist yet is an empty one: the
// subscriber is caught up at seq 0 and gets the events of the first Append
// that creates it. A stream that disappears after the subscriber has seen
// it (a delete) ends the subscription with NotFound, as without AutoCreate,
// and so does one deleted and created again under its name before the
// subscriber read again (its stream ID changed). A delete wakes the
// stream's subscribers (the server's Streams notifies), so neither waits
// for a next append.
func (s *Service) Subscribe(ctx context.Context, req *connect.Request[siltv1.SubscribeRequest], stream *connect.ServerStream[siltv1.SubscribeResponse]) error {
	m := req.Msg
	project, name := m.GetProject(), m.GetStream()
	interval := DefaultHeartbeat
	if d := m.GetHeartbeatInterval(); d != nil {
		interval = d.AsDuration()
	}

	settings := s.projectSettings(ctx, project)
	leave, err := s.subscriptions.enter(project, settings.Quotas.MaxConcurrentSubscriptions)
	if err != nil {
		return s.code(err)
	}
	defer leave()
	// notYet: the stream is missing and an Append may still create it:
	// the project says so, or the server when the project does not.
	autoCreates := s.opts.AutoCreate
	if settings.AutoCreateStreams != nil {
		autoCreates = *settings.AutoCreateStreams
	}
	notYet := func(err error) bool { return autoCreates && errors.Is(err, event.ErrStreamNotFound) }
	rr := event.ReadRequest{Project: project, Stream: name, FromSeq: m.GetFromSeq(), Limit: s.opts.SubscribeBatch, MaxBytes: s.opts.SubscribeBatchBytes}
	switch {
	case m.GetFromTail():
		info, err := s.streams.GetStream(ctx, project, name)
		switch {
		case notYet(err):
			rr.FromSeq = 1
		case err != nil:
			return s.code(err)
		default:
			rr.FromSeq = info.LastSeq + 1
		}
	case m.GetFromTime() != nil:
		rr.FromTime = m.GetFromTime().AsTime()
	}

	heartbeat := time.NewTimer(interval)
	defer heartbeat.Stop()
	caughtUp, seen := false, false
	var lastSeq, streamID uint64
	release := func() {}
	defer func() { release() }()
	for {
		// A subscriber still reading its backlog stops with the server, or
		// when its client goes, too.
		select {
		case <-ctx.Done():
			return nil
		case <-s.done:
			return s.code(errStopping{})
		default:
		}
		release()
		var wake <-chan struct{}
		wake, release = s.waiter.Wait(project, name)
		res, err := s.log.Read(ctx, rr)
		switch {
		case !seen && notYet(err):
			res = event.ReadResult{NextSeq: max(rr.FromSeq, 1)} // empty: up to date
		case err != nil:
			return s.code(err)
		case seen && res.StreamID != streamID:
			// Deleted and created again under its name: the seqs start
			// over, so reading on from ours would skip the new ones.
			return s.code(fmt.Errorf("%s/%s was deleted (a new stream has its name now; subscribe again): %w", project, name, event.ErrStreamNotFound))
		default:
			seen, streamID = true, res.StreamID
		}
		if len(res.Events) == 0 && !res.UpToDate() {
			// Reading again would answer the same: never spin on it.
			return s.code(&event.RangeError{Project: project, Stream: name, FirstSeq: res.NextSeq, LastSeq: res.LastSeq, Where: "store",
				Err: fmt.Errorf("%w: a read returned none of them", event.ErrCorrupt)})
		}
		rr.FromTime = time.Time{}
		rr.FromSeq = res.NextSeq
		lastSeq = res.LastSeq
		if err := s.sendBatch(stream, res.Events, m.GetTypes(), m.GetRawJson()); err != nil {
			return err
		}
		if !res.UpToDate() {
			continue
		}
		if !caughtUp {
			caughtUp = true
			if err := stream.Send(&siltv1.SubscribeResponse{Message: &siltv1.SubscribeResponse_CaughtUp{
				CaughtUp: &siltv1.CaughtUp{LastSeq: res.LastSeq, NextSeq: res.NextSeq},
			}}); err != nil {
				return err
			}
		}
		heartbeat.Reset(interval)
		for waiting := true; waiting; {
			select {
			case <-ctx.Done():
				return nil
			case <-s.done:
				return s.code(errStopping{})
			case <-wake:
				waiting = false
			case <-heartbeat.C:
				if err := stream.Send(&siltv1.SubscribeResponse{Message: &siltv1.SubscribeResponse_Heartbeat{
					Heartbeat: &siltv1.Heartbeat{Time: timestamppb.Now(), LastSeq: lastSeq, NextSeq: rr.FromSeq},
				}}); err != nil {
					return err
				}
				heartbeat.Reset(interval)
			}
		}
	}
}

// errStopping ends subscriptions when the server stops; clients resume from
// the last next_seq they saw. It wraps event.ErrClosed.
type errStopping struct{}

// Error implements error.
func (errStopping) Error() string { return "server is stopping" }

// Unwrap returns event.ErrClosed.
func (errStopping) Unwrap() error { return event.ErrClosed }

// sendBatch sends events (those of the wanted types) as one message.
func (s *Service) sendBatch(stream *connect.ServerStream[siltv1.SubscribeResponse], events []event.Event, types []string, rawJSON bool) error {
	if len(types) > 0 {
		events = slices.DeleteFunc(slices.Clone(events), func(e event.Event) bool { return !slices.Contains(types, e.Type) })
	}
	if len(events) == 0 {
		return nil
	}
	out, err := eventsToProto(events, rawJSON)
	if err != nil {
		return s.code(err)
	}
	return stream.Send(&siltv1.SubscribeResponse{Message: &siltv1.SubscribeResponse_Batch{Batch: &siltv1.EventBatch{Events: out}}})
}
