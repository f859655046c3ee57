package event

import "time"

// ProjectSettings are the settings a project is created or updated with.
type ProjectSettings struct {
	// AutoCreateStreams, when set, says whether an Append to a missing
	// stream of the project creates it; nil leaves it to the server's
	// default (AppendRequest.AutoCreate).
	AutoCreateStreams *bool
	// DefaultRetentionMaxAge and DefaultRetentionMaxBytes are copied into a
	// stream created in the project without retention of its own (both of
	// its retention fields zero).
	DefaultRetentionMaxAge   time.Duration
	DefaultRetentionMaxBytes uint64
	// AllowedCORSOrigins are the browser origins allowed to call the API
	// for the project. Stored only: nothing enforces them yet.
	AllowedCORSOrigins []string
	// Quotas are the project's limits: the concurrency ones are enforced
	// (pkg/api), the append rates stored only.
	Quotas ProjectQuotas
}

// ProjectQuotas bound a project's use of the server; 0 means no limit.
type ProjectQuotas struct {
	AppendEventsPerSecond      uint64
	AppendBytesPerSecond       uint64
	MaxConcurrentSubscriptions uint32
	MaxConcurrentQueries       uint32
}

// ApplyDefaults returns stream settings s with the project's default
// retention when s has no retention of its own.
func (p ProjectSettings) ApplyDefaults(s StreamSettings) StreamSettings {
	if s.RetentionMaxAge == 0 && s.RetentionMaxBytes == 0 {
		s.RetentionMaxAge = p.DefaultRetentionMaxAge
		s.RetentionMaxBytes = p.DefaultRetentionMaxBytes
	}
	return s
}

// ProjectInfo describes a project.
type ProjectInfo struct {
	Name        string
	Settings    ProjectSettings
	StreamCount uint64
	CreateTime  time.Time
	UpdateTime  time.Time
}

// ListProjectsRequest pages through the projects in name order.
type ListProjectsRequest struct {
	// After is the last name of the previous page ("" for the first page).
	After string
	// Prefix keeps only names that start with it.
	Prefix string
	Limit  int
}
