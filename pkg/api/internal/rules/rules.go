// Package rules is silt.v1.AppendRequest's protovalidate rules on names and
// text (proto/silt/v1), in plain Go: what the API's check of a decoded
// request (package api, eventrules.go) and its Append fast path (package
// appendwire) both apply. They take a string or the wire bytes of one.
package rules

import (
	"unicode/utf8"

	"github.com/silt-io/silt/pkg/event"
)

// Limits of AppendRequest's rules (proto/silt/v1).
const (
	MaxAppendEvents  = 10000
	MaxMapEntries    = 64
	MaxAttributeLen  = 4096 // runes
	MaxSourceLen     = 1024 // runes, also subject
	MaxContentType   = 256  // runes
	MaxIDLen         = 256  // event id, producer id, event type
	MaxBinaryDataLen = 1 << 20
	// MaxEventBytes caps one encoded event of an Append.
	MaxEventBytes = 1 << 20
)

// ProjectName reports whether s passes the silt.v1.project_name rule:
// ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$
func ProjectName[S Text](s S) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '-' {
			return false
		}
	}
	return true
}

// StreamName reports whether s passes the silt.v1.stream_name rule: at
// most 256 characters,
// ^[A-Za-z0-9_][A-Za-z0-9_.:-]*(/[A-Za-z0-9_][A-Za-z0-9_.:-]*)*$
func StreamName[S Text](s S) bool {
	if len(s) == 0 || len(s) > 256 {
		return false
	}
	segmentStart := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '/':
			if segmentStart {
				return false
			}
			segmentStart = true
		case segmentStart:
			if !alnum(c) && c != '_' {
				return false
			}
			segmentStart = false
		case !alnum(c) && c != '_' && c != '.' && c != ':' && c != '-':
			return false
		}
	}
	return !segmentStart
}

// MinTimeSeconds and MaxTimeSeconds are event.MinTime and event.MaxTime
// in Unix seconds: EventInput.time's rule takes [min, max).
var (
	MinTimeSeconds = event.MinTime.Unix()
	MaxTimeSeconds = event.MaxTime.Unix()
)

// PrintableASCII reports whether s matches ^[\x21-\x7e]*$ with a length in
// [minLen, maxLen] (event and producer ids).
func PrintableASCII[S Text](s S, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// EventType reports whether s is an event type:
// ^[A-Za-z0-9][A-Za-z0-9._:/-]*$, 1 to 256 characters.
func EventType[S Text](s S) bool {
	if len(s) == 0 || len(s) > MaxIDLen || !alnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !alnum(c) && c != '.' && c != '_' && c != ':' && c != '/' && c != '-' {
			return false
		}
	}
	return true
}

// MapKey reports whether s is an attribute or metric key:
// ^[A-Za-z_][A-Za-z0-9_.-]*$, 1 to 128 characters.
func MapKey[S Text](s S) bool {
	if len(s) == 0 || len(s) > 128 || (!letter(s[0]) && s[0] != '_') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !alnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// RunesAtMost reports whether b is valid UTF-8 of at most n code points.
func RunesAtMost(b []byte, n int) bool {
	return utf8.Valid(b) && (len(b) <= n || utf8.RuneCount(b) <= n)
}

// Text is what the rules take: a string, or wire bytes of one.
type Text interface{ ~string | ~[]byte }

func letter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func alnum(c byte) bool { return letter(c) || (c >= '0' && c <= '9') }
