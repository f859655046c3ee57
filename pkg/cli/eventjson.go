package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// The event line is the one JSON shape of an event on the command line:
// `silt read --json`, `silt tail --json` and `silt query --json` print one
// per line, and `silt append` reads them from stdin, so a listing piped
// into append copies the events. Its fields are those of EventInput in
// their JSON names (snake_case names are accepted too), plus stream, seq
// and ingestTime, which a listing prints and append ignores because the
// server assigns them:
//
//	{"stream":"clicks","seq":7,"id":"01J…","type":"page.view","time":"2026-11-01T10:00:00Z",
//	 "ingestTime":"2026-11-01T10:00:00.123Z","attributes":{"country":"de"},"metrics":{"ms":840},
//	 "data":{"path":"/"}}
//
// A payload that is not JSON is "binaryData" (base64) with its "contentType".
// A source or subject the event lacks is left out and an empty one printed
// as "", so the two stay apart through a pipe; so does an event without a
// payload (no data, no binaryData) and one whose binaryData is "".

// eventLine is an event as one JSON line, in the field order printed.
type eventLine struct {
	Stream      string             `json:"stream,omitempty"`
	Seq         uint64             `json:"seq,omitempty"`
	ID          string             `json:"id,omitempty"`
	Type        string             `json:"type,omitempty"`
	Source      *string            `json:"source,omitempty"` // nil: none; "" is printed
	Subject     *string            `json:"subject,omitempty"`
	Time        string             `json:"time,omitempty"`
	IngestTime  string             `json:"ingestTime,omitempty"`
	Attributes  map[string]string  `json:"attributes,omitempty"`
	Metrics     map[string]float64 `json:"metrics,omitempty"`
	Data        json.RawMessage    `json:"data,omitempty"`
	BinaryData  *[]byte            `json:"binaryData,omitempty"` // nil: none; empty is printed ""
	ContentType string             `json:"contentType,omitempty"`
}

// jsonContentType is the content type of JSON payloads.
const jsonContentType = "application/json"

// writeEventLine writes e as one line of JSON. A JSON payload, whether it
// came as a data Value or (raw_json) as its stored text, is printed as
// data; other payloads as binaryData with their contentType.
func writeEventLine(w io.Writer, e *siltv1.Event) error {
	l := eventLine{
		Stream: e.GetStream(), Seq: e.GetSeq(), ID: e.GetId(), Type: e.GetType(),
		Source: e.Source, Subject: e.Subject,
		Attributes: e.GetAttributes(), Metrics: e.GetMetrics(),
	}
	if e.GetTime() != nil {
		l.Time = formatTime(e.GetTime().AsTime())
	}
	if e.GetIngestTime() != nil {
		l.IngestTime = formatTime(e.GetIngestTime().AsTime())
	}
	switch p := e.GetPayload().(type) {
	case *siltv1.Event_Data:
		b, err := protojson.Marshal(p.Data)
		if err != nil {
			return fmt.Errorf("print data of seq %d: %w", e.GetSeq(), err)
		}
		l.Data = b
	case *siltv1.Event_BinaryData:
		switch {
		case !isJSONContentType(e.GetContentType()):
			l.BinaryData, l.ContentType = &p.BinaryData, e.GetContentType()
		case json.Valid(p.BinaryData):
			l.Data = p.BinaryData
		default:
			// Bytes that are not JSON under a JSON content type: appended as
			// binaryData without one to a JSON stream. Printed so, they
			// append again the same way (with the content type, Append
			// would refuse them as invalid JSON).
			l.BinaryData = &p.BinaryData
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(l); err != nil { // Encode compacts data and ends the line
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// formatTime prints a time as RFC 3339 in UTC with as many fraction digits
// as it has.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// isJSONContentType reports whether ct names JSON ("application/json",
// with or without parameters).
func isJSONContentType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), jsonContentType)
}

// eventFields are the names an event line may use, each mapped to its
// canonical (printed) name; the listing-only ones are skipped on input.
var eventFields = map[string]string{
	"id": "id", "type": "type", "source": "source", "subject": "subject", "time": "time",
	"attributes": "attributes", "metrics": "metrics", "data": "data",
	"binaryData": "binaryData", "binary_data": "binaryData",
	"contentType": "contentType", "content_type": "contentType",
	// Printed by listings, assigned by the server: ignored.
	"stream": "", "project": "", "seq": "", "ingestTime": "", "ingest_time": "",
}

// parseEventLine reads one event line into an EventInput. Its errors name
// the field and what it must be, in words.
func parseEventLine(b []byte) (*siltv1.EventInput, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, jsonSyntaxError(b, err, "an event: a JSON object such as {\"type\":\"page.view\",\"data\":{}}")
	}
	e := &siltv1.EventInput{}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names) // the same input always gives the same first error
	for _, k := range names {
		raw := fields[k]
		name, known := eventFields[k]
		if !known {
			return nil, fmt.Errorf("unknown field %q (an event has id, type, source, subject, time, attributes, metrics, data, binaryData, contentType)", k)
		}
		if name == "" || (string(raw) == "null" && name != "data") {
			continue // null is an unset field, but JSON null data
		}
		var err error
		switch name {
		case "id":
			err = stringField(raw, &e.Id)
		case "type":
			err = stringField(raw, &e.Type)
		case "source":
			e.Source = new(string)
			err = stringField(raw, e.Source)
		case "subject":
			e.Subject = new(string)
			err = stringField(raw, e.Subject)
		case "contentType":
			err = stringField(raw, &e.ContentType)
		case "time":
			var s string
			if err = stringField(raw, &s); err == nil {
				var t time.Time
				if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
					err = fmt.Errorf("%q is not an RFC 3339 time such as 2026-11-01T10:00:00Z", s)
				} else {
					e.Time = timestamppb.New(t)
				}
			}
		case "attributes":
			e.Attributes, err = stringMap(raw)
		case "metrics":
			e.Metrics, err = numberMap(raw)
		case "data":
			v := new(structpb.Value)
			if err = protojson.Unmarshal(raw, v); err == nil {
				if e.Payload != nil {
					err = errors.New("an event has data or binaryData, not both")
				}
				e.Payload = &siltv1.EventInput_Data{Data: v}
			}
		case "binaryData":
			var s string
			if err = stringField(raw, &s); err == nil {
				var bin []byte
				if bin, err = decodeBase64(s); err != nil {
					err = errors.New("want base64 text")
				} else if e.Payload != nil {
					err = errors.New("an event has data or binaryData, not both")
				}
				e.Payload = &siltv1.EventInput_BinaryData{BinaryData: bin}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return e, nil
}

// parseDataLine reads one JSON value as an event's data (append --type).
func parseDataLine(b []byte) (*structpb.Value, error) {
	if !json.Valid(b) {
		var v any
		return nil, jsonSyntaxError(b, json.Unmarshal(b, &v), "the event's data as JSON")
	}
	v := new(structpb.Value)
	if err := protojson.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	return v, nil
}

// jsonSyntaxError says why b is not what was wanted, with the column of a
// syntax error.
func jsonSyntaxError(b []byte, err error, want string) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("not JSON (column %d: %s); want %s", syn.Offset, strings.TrimPrefix(syn.Error(), "invalid character "), want)
	case len(bytes.TrimSpace(b)) > 0 && !json.Valid(b):
		return fmt.Errorf("not JSON; want %s", want)
	}
	return fmt.Errorf("want %s", want)
}

// stringField decodes a JSON string.
func stringField(raw json.RawMessage, dst *string) error {
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("want a string, got %s", jsonKind(raw))
	}
	return nil
}

// stringMap decodes an object of strings.
func stringMap(raw json.RawMessage) (map[string]string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("want an object of strings, got %s", jsonKind(raw))
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("%q: want a string, got %s (write it in quotes)", k, jsonKind(v))
		}
		out[k] = s
	}
	return out, nil
}

// numberMap decodes an object of numbers.
func numberMap(raw json.RawMessage) (map[string]float64, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("want an object of numbers, got %s", jsonKind(raw))
	}
	out := make(map[string]float64, len(m))
	for k, v := range m {
		var f float64
		if err := json.Unmarshal(v, &f); err != nil || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%q: want a number, got %s", k, jsonKind(v))
		}
		out[k] = f
	}
	return out, nil
}

// jsonKind names the kind of a JSON value for an error message.
func jsonKind(raw json.RawMessage) string {
	s := bytes.TrimSpace(raw)
	if len(s) == 0 {
		return "nothing"
	}
	switch s[0] {
	case '"':
		return "a string " + truncate(string(s), 40)
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	if _, err := strconv.ParseFloat(string(s), 64); err == nil {
		return "a number " + truncate(string(s), 40)
	}
	return truncate(string(s), 40)
}

// truncate shortens s to at most n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// decodeBase64 reads standard or URL-safe base64, padded or not, as
// protojson does for bytes.
func decodeBase64(s string) ([]byte, error) {
	enc := base64.StdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.URLEncoding
	}
	if len(s)%4 != 0 {
		enc = enc.WithPadding(base64.NoPadding)
	}
	return enc.DecodeString(s)
}
