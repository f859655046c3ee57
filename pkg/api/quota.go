package api

import (
	"context"
	"fmt"
	"sync"

	"github.com/silt-io/silt/pkg/event"
)

// projectSettings are the settings of project, or the zero settings when
// the server keeps no projects or the project has no record (yet).
func (s *Service) projectSettings(ctx context.Context, project string) event.ProjectSettings {
	if s.opts.Projects == nil {
		return event.ProjectSettings{}
	}
	settings, err := s.opts.Projects.ProjectSettings(ctx, project)
	if err != nil {
		return event.ProjectSettings{}
	}
	return settings
}

// inFlight counts each project's calls of one kind that are running
// (subscriptions, queries), to hold them to the project's quota.
type inFlight struct {
	what string // the quota's name, for the error
	mu   sync.Mutex
	n    map[string]uint32
}

func newInFlight(what string) *inFlight { return &inFlight{what: what, n: map[string]uint32{}} }

// enter counts one more call of project, or fails with
// event.ErrQuotaExceeded when limit of them run already (0: no limit).
// The caller calls leave once the call ended.
func (f *inFlight) enter(project string, limit uint32) (leave func(), err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if limit > 0 && f.n[project] >= limit {
		return nil, fmt.Errorf("%w: project %s runs %d of its %s %d; retry when one ends", event.ErrQuotaExceeded, project, f.n[project], f.what, limit)
	}
	f.n[project]++
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.n[project]--; f.n[project] == 0 {
				delete(f.n, project)
			}
		})
	}, nil
}
