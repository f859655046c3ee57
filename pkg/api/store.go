package api

import (
	"context"

	"github.com/silt-io/silt/pkg/event"
)

// Streams manages stream metadata.
type Streams interface {
	CreateStream(ctx context.Context, project, stream string, s event.StreamSettings) (event.StreamInfo, error)
	GetStream(ctx context.Context, project, stream string) (event.StreamInfo, error)
	ListStreams(ctx context.Context, req event.ListStreamsRequest) ([]event.StreamInfo, error)
	UpdateStream(ctx context.Context, project, stream string, s event.StreamSettings) (event.StreamInfo, error)
	DeleteStream(ctx context.Context, project, stream string) error
}

// Log appends events and reads them back in seq order.
type Log interface {
	Append(ctx context.Context, req event.AppendRequest) (event.AppendResult, error)
	Read(ctx context.Context, req event.ReadRequest) (event.ReadResult, error)
}

// Waiter says when a stream may have more events (see package notify).
type Waiter interface {
	Wait(project, stream string) (wake <-chan struct{}, release func())
}
