package api

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/api/internal/jsontext"
	"github.com/silt-io/silt/pkg/api/internal/rules"
	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// MaxEventBytes caps one encoded event of an Append.
const MaxEventBytes = rules.MaxEventBytes

// MaxRequestBytes is the default cap of one encoded request message
// (Options.MaxRequestBytes).
const MaxRequestBytes = 4 << 20

// packAppend converts an Append decoded into the generated message and
// packs its events (record.Pack), as the fast path packs them from the
// wire. An event that cannot be converted is a field violation.
func packAppend(m *siltv1.AppendRequest) (event.AppendRequest, error) {
	events := make([]event.Event, len(m.GetEvents()))
	for i, in := range m.GetEvents() {
		e, err := eventFromInput(in)
		if err != nil {
			return event.AppendRequest{}, fieldViolation(indexPath("events", i), "event.valid", err.Error())
		}
		events[i] = e
	}
	ar := event.AppendRequest{
		Project:         m.GetProject(),
		Stream:          m.GetStream(),
		Events:          record.Pack(events...),
		ExpectedLastSeq: m.ExpectedLastSeq,
	}
	if p := m.GetProducer(); p != nil {
		ar.Producer = &event.Producer{ID: p.GetId(), Epoch: p.GetEpoch(), Seq: p.GetSeq()}
	}
	return ar, nil
}

// eventFromInput converts one appended event. A JSON payload (data, or
// binary_data with content type application/json) is stored as compact JSON
// text; anything else as raw bytes. An unset source or subject, and a
// missing payload, stay absent (see event.Parts).
func eventFromInput(in *siltv1.EventInput) (event.Event, error) {
	if size := in.SizeVT(); size > MaxEventBytes {
		return event.Event{}, fmt.Errorf("event is %d bytes encoded, more than the %d allowed", size, MaxEventBytes)
	}
	e := event.Event{
		ID:         in.GetId(),
		Type:       in.GetType(),
		Source:     in.GetSource(),
		Subject:    in.GetSubject(),
		Attributes: in.GetAttributes(),
		Metrics:    in.GetMetrics(),
	}
	if t := in.GetTime(); t != nil {
		e.Time = t.AsTime()
	}
	switch p := in.GetPayload().(type) {
	case *siltv1.EventInput_Data:
		data, err := appendJSON(make([]byte, 0, 256), p.Data)
		if err != nil {
			return event.Event{}, err
		}
		if len(data) > MaxEventBytes {
			return event.Event{}, fmt.Errorf("data is %d bytes as JSON, more than the %d allowed", len(data), MaxEventBytes)
		}
		e.ContentType, e.Data = event.ContentTypeJSON, data
	case *siltv1.EventInput_BinaryData:
		e.ContentType, e.Data = in.GetContentType(), p.BinaryData
		if e.ContentType == event.ContentTypeJSON && !jsontext.Valid(e.Data) {
			return event.Event{}, fmt.Errorf("binary_data has content type %s but is not valid JSON", event.ContentTypeJSON)
		}
	}
	e.SetPresent(in.Source != nil, in.Subject != nil, in.GetPayload() != nil)
	return e, nil
}

// eventToProto converts a stored event for the wire. With rawJSON, a JSON
// payload goes out as its stored text in binary_data.
func eventToProto(e *event.Event, rawJSON bool) (*siltv1.Event, error) {
	out := &siltv1.Event{
		Project:     e.Project,
		Stream:      e.Stream,
		Seq:         e.Seq,
		Id:          e.ID,
		Type:        e.Type,
		Source:      optional(e.Source, e.HasSource()),
		Subject:     optional(e.Subject, e.HasSubject()),
		IngestTime:  timestamppb.New(e.IngestTime),
		Attributes:  e.Attributes,
		Metrics:     e.Metrics,
		ContentType: e.ContentType,
	}
	if !e.Time.IsZero() {
		out.Time = timestamppb.New(e.Time)
	}
	switch {
	case !e.HasPayload():
		out.ContentType = ""
	case e.IsJSON() && !rawJSON && jsonData(e, out):
	default:
		data := e.Data
		if data == nil {
			data = []byte{} // present, of zero bytes: the field goes on the wire
		}
		out.Payload = &siltv1.Event_BinaryData{BinaryData: data}
	}
	return out, nil
}

// jsonData sets out's payload to e's JSON data as a Value and reports
// whether it could. Binary data appended without a content type to a
// stream whose content type is JSON is stored as JSON unchecked (only an
// explicit content type is checked), so e's bytes may not parse: they go
// out as binary_data, as stored, rather than fail the whole page.
func jsonData(e *event.Event, out *siltv1.Event) bool {
	v, err := jsontext.Parse(e.Data)
	if err != nil {
		return false
	}
	out.Payload = &siltv1.Event_Data{Data: v}
	return true
}

// optional is s as a proto3 optional string: nil unless present.
func optional(s string, present bool) *string {
	if !present {
		return nil
	}
	return &s
}

// eventsToProto converts a page of events.
func eventsToProto(events []event.Event, rawJSON bool) ([]*siltv1.Event, error) {
	out := make([]*siltv1.Event, len(events))
	for i := range events {
		var err error
		if out[i], err = eventToProto(&events[i], rawJSON); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// settingsFromProto converts stream settings; nil means the defaults.
func settingsFromProto(s *siltv1.StreamSettings) event.StreamSettings {
	return event.StreamSettings{
		ContentType:       s.GetContentType(),
		RetentionMaxAge:   s.GetRetention().GetMaxAge().AsDuration(),
		RetentionMaxBytes: s.GetRetention().GetMaxBytes(),
	}
}

// settingsToProto converts stream settings for the wire.
func settingsToProto(s event.StreamSettings) *siltv1.StreamSettings {
	return &siltv1.StreamSettings{ContentType: s.ContentType, Retention: retentionToProto(s.RetentionMaxAge, s.RetentionMaxBytes)}
}

// retentionToProto is a retention policy for the wire: nil when it keeps
// everything (both limits 0), and no max_age when only bytes bound it.
func retentionToProto(maxAge time.Duration, maxBytes uint64) *siltv1.RetentionPolicy {
	if maxAge <= 0 && maxBytes == 0 {
		return nil
	}
	out := &siltv1.RetentionPolicy{MaxBytes: maxBytes}
	if maxAge > 0 {
		out.MaxAge = durationpb.New(maxAge)
	}
	return out
}

// streamToProto converts a stream description for the wire.
func streamToProto(s event.StreamInfo) *siltv1.Stream {
	return &siltv1.Stream{
		Project:    s.Project,
		Name:       s.Name,
		Settings:   settingsToProto(s.Settings),
		FirstSeq:   s.FirstSeq,
		LastSeq:    s.LastSeq,
		EventCount: s.EventCount,
		Bytes:      s.Bytes,
		CreateTime: timestamppb.New(s.CreateTime),
		UpdateTime: timestamppb.New(s.UpdateTime),
	}
}
