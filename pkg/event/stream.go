package event

import "time"

// StreamSettings are the settings a stream is created or updated with.
type StreamSettings struct {
	// ContentType is the default content type of the stream's events.
	ContentType string
	// RetentionMaxAge drops events older than this (0: keep forever).
	RetentionMaxAge time.Duration
	// RetentionMaxBytes drops the oldest events past this size (0: unbounded).
	RetentionMaxBytes uint64
}

// StreamInfo describes a stream and its current extent.
type StreamInfo struct {
	Project  string
	Name     string
	Settings StreamSettings
	// FirstSeq is the oldest retained seq; LastSeq+1 when the stream is empty.
	FirstSeq uint64
	// LastSeq is the newest seq; 0 when nothing was ever appended.
	LastSeq    uint64
	EventCount uint64
	// Bytes is the stored size of the stream's events (payload and envelope).
	Bytes      uint64
	CreateTime time.Time
	UpdateTime time.Time
}

// ListStreamsRequest pages through a project's streams in name order.
type ListStreamsRequest struct {
	Project string
	// After is the last name of the previous page ("" for the first page).
	After string
	// Prefix keeps only names that start with it.
	Prefix string
	Limit  int
}
