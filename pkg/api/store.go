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

// Projects manages projects (silt.v1.ProjectService).
type Projects interface {
	CreateProject(ctx context.Context, project string, s event.ProjectSettings) (event.ProjectInfo, error)
	GetProject(ctx context.Context, project string) (event.ProjectInfo, error)
	// ProjectSettings is GetProject's settings alone, cheap enough to ask
	// at the start of every Subscribe and Query.
	ProjectSettings(ctx context.Context, project string) (event.ProjectSettings, error)
	ListProjects(ctx context.Context, req event.ListProjectsRequest) ([]event.ProjectInfo, error)
	UpdateProject(ctx context.Context, project string, s event.ProjectSettings) (event.ProjectInfo, error)
	// DeleteProject deletes a project with its streams, from every tier.
	DeleteProject(ctx context.Context, project string) error
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
