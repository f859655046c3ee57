package api

import (
	"math"
	"unicode/utf8"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/api/internal/rules"
)

// The protovalidate rules on silt.v1.AppendRequest and EventInput are the
// contract, but evaluating them through CEL costs ~12 µs per event, more than
// everything else an Append does. The functions here decide the same question
// in plain Go; FuzzEventInputRules and FuzzAppendRequestRules check that they
// agree with protovalidate on every input. When they say no, the interceptor
// runs protovalidate on the whole request, so clients get exactly the
// violations the rules describe. The rules on names and text, shared with
// the Append fast path, are in package rules.

// eventInputValid reports whether e satisfies EventInput's rules.
func eventInputValid(e *siltv1.EventInput) bool {
	if !rules.PrintableASCII(e.GetId(), 0, rules.MaxIDLen) || !rules.EventType(e.GetType()) {
		return false
	}
	if utf8.RuneCountInString(e.GetSource()) > rules.MaxSourceLen || utf8.RuneCountInString(e.GetSubject()) > rules.MaxSourceLen ||
		utf8.RuneCountInString(e.GetContentType()) > rules.MaxContentType {
		return false
	}
	if len(e.GetAttributes()) > rules.MaxMapEntries || len(e.GetMetrics()) > rules.MaxMapEntries {
		return false
	}
	if t := e.GetTime(); t != nil && (t.GetSeconds() < rules.MinTimeSeconds || t.GetSeconds() >= rules.MaxTimeSeconds) {
		return false
	}
	for k, v := range e.GetAttributes() {
		if !rules.MapKey(k) || utf8.RuneCountInString(v) > rules.MaxAttributeLen {
			return false
		}
	}
	for k, v := range e.GetMetrics() {
		if !rules.MapKey(k) || math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	switch p := e.GetPayload().(type) {
	case *siltv1.EventInput_Data:
		return true
	case *siltv1.EventInput_BinaryData:
		return len(p.BinaryData) <= rules.MaxBinaryDataLen
	}
	return true // no payload
}
