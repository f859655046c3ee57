package api

import (
	"math"
	"unicode/utf8"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// The protovalidate rules on silt.v1.AppendRequest and EventInput are the
// contract, but evaluating them through CEL costs ~12 µs per event, more than
// everything else an Append does. The functions here decide the same question
// in plain Go; FuzzEventInputRules and FuzzAppendRequestRules check that they
// agree with protovalidate on every input. When they say no, the interceptor
// runs protovalidate on the whole request, so clients get exactly the
// violations the rules describe.

// Limits of AppendRequest's rules (proto/silt/v1), shared by the checks
// here and by the Append fast path (appendwire.go).
const (
	maxAppendEvents  = 10000
	maxMapEntries    = 64
	maxAttributeLen  = 4096 // runes
	maxSourceLen     = 1024 // runes, also subject
	maxContentType   = 256  // runes
	maxIDLen         = 256  // event id, producer id, event type
	maxBinaryDataLen = 1 << 20
)

// projectName is the silt.v1.project_name rule:
// ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$
func projectName[S text](s S) bool {
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

// streamName is the silt.v1.stream_name rule: at most 256 characters,
// ^[A-Za-z0-9_][A-Za-z0-9_.:-]*(/[A-Za-z0-9_][A-Za-z0-9_.:-]*)*$
func streamName[S text](s S) bool {
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

// eventInputValid reports whether e satisfies EventInput's rules.
func eventInputValid(e *siltv1.EventInput) bool {
	if !printableASCII(e.GetId(), 0, maxIDLen) || !eventType(e.GetType()) {
		return false
	}
	if utf8.RuneCountInString(e.GetSource()) > maxSourceLen || utf8.RuneCountInString(e.GetSubject()) > maxSourceLen ||
		utf8.RuneCountInString(e.GetContentType()) > maxContentType {
		return false
	}
	if len(e.GetAttributes()) > maxMapEntries || len(e.GetMetrics()) > maxMapEntries {
		return false
	}
	if t := e.GetTime(); t != nil && (t.GetSeconds() < minTimeSeconds || t.GetSeconds() >= maxTimeSeconds) {
		return false
	}
	for k, v := range e.GetAttributes() {
		if !mapKey(k) || utf8.RuneCountInString(v) > maxAttributeLen {
			return false
		}
	}
	for k, v := range e.GetMetrics() {
		if !mapKey(k) || math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	switch p := e.GetPayload().(type) {
	case *siltv1.EventInput_Data:
		return true
	case *siltv1.EventInput_BinaryData:
		return len(p.BinaryData) <= maxBinaryDataLen
	}
	return true // no payload
}

// printableASCII: ^[\x21-\x7e]*$ with a length in [minLen, maxLen].
func printableASCII[S text](s S, minLen, maxLen int) bool {
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

// eventType: ^[A-Za-z0-9][A-Za-z0-9._:/-]*$, 1 to 256 characters.
func eventType[S text](s S) bool {
	if len(s) == 0 || len(s) > maxIDLen || !alnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !alnum(c) && c != '.' && c != '_' && c != ':' && c != '/' && c != '-' {
			return false
		}
	}
	return true
}

// mapKey: ^[A-Za-z_][A-Za-z0-9_.-]*$, 1 to 128 characters.
func mapKey[S text](s S) bool {
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

// text is what the rules take: a string, or wire bytes of one.
type text interface{ ~string | ~[]byte }

func letter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func alnum(c byte) bool { return letter(c) || (c >= '0' && c <= '9') }
