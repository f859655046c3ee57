package api

import (
	"context"
	"fmt"
	"slices"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/event"
)

// CreateProject implements silt.v1.ProjectService.
func (s *Service) CreateProject(ctx context.Context, req *connect.Request[siltv1.CreateProjectRequest]) (*connect.Response[siltv1.CreateProjectResponse], error) {
	m := req.Msg
	info, err := s.opts.Projects.CreateProject(ctx, m.GetProject(), projectSettingsFromProto(m.GetSettings()))
	if err != nil {
		return nil, s.code(err)
	}
	return connect.NewResponse(&siltv1.CreateProjectResponse{Project: projectToProto(info)}), nil
}

// GetProject implements silt.v1.ProjectService.
func (s *Service) GetProject(ctx context.Context, req *connect.Request[siltv1.GetProjectRequest]) (*connect.Response[siltv1.GetProjectResponse], error) {
	info, err := s.opts.Projects.GetProject(ctx, req.Msg.GetProject())
	if err != nil {
		return nil, s.code(err)
	}
	return connect.NewResponse(&siltv1.GetProjectResponse{Project: projectToProto(info)}), nil
}

// ListProjects implements silt.v1.ProjectService, paged by name (namePage).
func (s *Service) ListProjects(ctx context.Context, req *connect.Request[siltv1.ListProjectsRequest]) (*connect.Response[siltv1.ListProjectsResponse], error) {
	m := req.Msg
	page, err := pageOf(m.GetPageToken(), m.GetPageSize())
	if err != nil {
		return nil, s.code(err)
	}
	infos, err := s.opts.Projects.ListProjects(ctx, event.ListProjectsRequest{After: page.after, Prefix: m.GetPrefix(), Limit: page.limit()})
	if err != nil {
		return nil, s.code(err)
	}
	out := &siltv1.ListProjectsResponse{}
	infos, out.NextPageToken = cut(page, infos, func(i event.ProjectInfo) string { return i.Name })
	for _, info := range infos {
		out.Projects = append(out.Projects, projectToProto(info))
	}
	return connect.NewResponse(out), nil
}

// UpdateProject implements silt.v1.ProjectService.
func (s *Service) UpdateProject(ctx context.Context, req *connect.Request[siltv1.UpdateProjectRequest]) (*connect.Response[siltv1.UpdateProjectResponse], error) {
	m := req.Msg
	next := projectSettingsFromProto(m.GetSettings())
	if paths := m.GetUpdateMask().GetPaths(); len(paths) > 0 {
		cur, err := s.opts.Projects.GetProject(ctx, m.GetProject())
		if err != nil {
			return nil, s.code(err)
		}
		merged := cur.Settings
		for _, p := range paths {
			if !mergeProjectSetting(&merged, next, p) {
				return nil, s.code(fieldViolation(fieldPath("update_mask"), "update_mask.paths", fmt.Sprintf("unknown path %q", p)))
			}
		}
		next = merged
	}
	info, err := s.opts.Projects.UpdateProject(ctx, m.GetProject(), next)
	if err != nil {
		return nil, s.code(err)
	}
	return connect.NewResponse(&siltv1.UpdateProjectResponse{Project: projectToProto(info)}), nil
}

// mergeProjectSetting copies the setting named by an update-mask path from
// next into cur; false for an unknown path.
func mergeProjectSetting(cur *event.ProjectSettings, next event.ProjectSettings, path string) bool {
	switch path {
	case "auto_create_streams":
		cur.AutoCreateStreams = next.AutoCreateStreams
	case "default_retention":
		cur.DefaultRetentionMaxAge, cur.DefaultRetentionMaxBytes = next.DefaultRetentionMaxAge, next.DefaultRetentionMaxBytes
	case "default_retention.max_age":
		cur.DefaultRetentionMaxAge = next.DefaultRetentionMaxAge
	case "default_retention.max_bytes":
		cur.DefaultRetentionMaxBytes = next.DefaultRetentionMaxBytes
	case "allowed_cors_origins":
		cur.AllowedCORSOrigins = next.AllowedCORSOrigins
	case "quotas":
		cur.Quotas = next.Quotas
	case "quotas.append_events_per_second":
		cur.Quotas.AppendEventsPerSecond = next.Quotas.AppendEventsPerSecond
	case "quotas.append_bytes_per_second":
		cur.Quotas.AppendBytesPerSecond = next.Quotas.AppendBytesPerSecond
	case "quotas.max_concurrent_subscriptions":
		cur.Quotas.MaxConcurrentSubscriptions = next.Quotas.MaxConcurrentSubscriptions
	case "quotas.max_concurrent_queries":
		cur.Quotas.MaxConcurrentQueries = next.Quotas.MaxConcurrentQueries
	default:
		return false
	}
	return true
}

// DeleteProject implements silt.v1.ProjectService.
func (s *Service) DeleteProject(ctx context.Context, req *connect.Request[siltv1.DeleteProjectRequest]) (*connect.Response[siltv1.DeleteProjectResponse], error) {
	if err := s.opts.Projects.DeleteProject(ctx, req.Msg.GetProject()); err != nil {
		return nil, s.code(err)
	}
	return connect.NewResponse(&siltv1.DeleteProjectResponse{}), nil
}

// projectSettingsFromProto converts project settings; nil means the defaults.
func projectSettingsFromProto(s *siltv1.ProjectSettings) event.ProjectSettings {
	out := event.ProjectSettings{
		DefaultRetentionMaxAge:   s.GetDefaultRetention().GetMaxAge().AsDuration(),
		DefaultRetentionMaxBytes: s.GetDefaultRetention().GetMaxBytes(),
		AllowedCORSOrigins:       slices.Clone(s.GetAllowedCorsOrigins()),
		Quotas: event.ProjectQuotas{
			AppendEventsPerSecond:      s.GetQuotas().GetAppendEventsPerSecond(),
			AppendBytesPerSecond:       s.GetQuotas().GetAppendBytesPerSecond(),
			MaxConcurrentSubscriptions: s.GetQuotas().GetMaxConcurrentSubscriptions(),
			MaxConcurrentQueries:       s.GetQuotas().GetMaxConcurrentQueries(),
		},
	}
	if s != nil && s.AutoCreateStreams != nil {
		on := s.GetAutoCreateStreams()
		out.AutoCreateStreams = &on
	}
	return out
}

// projectSettingsToProto converts project settings for the wire.
func projectSettingsToProto(s event.ProjectSettings) *siltv1.ProjectSettings {
	out := &siltv1.ProjectSettings{
		AllowedCorsOrigins: slices.Clone(s.AllowedCORSOrigins),
		Quotas: &siltv1.ProjectQuotas{
			AppendEventsPerSecond:      s.Quotas.AppendEventsPerSecond,
			AppendBytesPerSecond:       s.Quotas.AppendBytesPerSecond,
			MaxConcurrentSubscriptions: s.Quotas.MaxConcurrentSubscriptions,
			MaxConcurrentQueries:       s.Quotas.MaxConcurrentQueries,
		},
	}
	if s.AutoCreateStreams != nil {
		on := *s.AutoCreateStreams
		out.AutoCreateStreams = &on
	}
	out.DefaultRetention = retentionToProto(s.DefaultRetentionMaxAge, s.DefaultRetentionMaxBytes)
	return out
}

// projectToProto converts a project description for the wire.
func projectToProto(p event.ProjectInfo) *siltv1.Project {
	return &siltv1.Project{
		Name:        p.Name,
		Settings:    projectSettingsToProto(p.Settings),
		StreamCount: p.StreamCount,
		CreateTime:  timestamppb.New(p.CreateTime),
		UpdateTime:  timestamppb.New(p.UpdateTime),
	}
}
