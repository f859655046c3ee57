package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// printJSON writes msg as one line of compact JSON. protojson varies its
// whitespace on purpose; compacting makes the output stable for scripts.
func printJSON(w io.Writer, msg proto.Message) error {
	b, err := protojson.Marshal(msg)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// printEvent writes one event as a line for people:
// seq, ingest time, type, id, attributes, data.
func printEvent(w io.Writer, e *siltv1.Event) error {
	var data string
	switch p := e.GetPayload().(type) {
	case *siltv1.Event_Data:
		b, _ := protojson.Marshal(p.Data)
		data = string(b)
	case *siltv1.Event_BinaryData:
		data = fmt.Sprintf("<%d bytes %s>", len(p.BinaryData), e.GetContentType())
	}
	var attrs []string
	for k, v := range e.GetAttributes() {
		attrs = append(attrs, k+"="+v)
	}
	for k, v := range e.GetMetrics() {
		attrs = append(attrs, fmt.Sprintf("%s=%g", k, v))
	}
	slices.Sort(attrs)
	ingest := fmt.Sprintf("%-*s", len(timeLayout)-2, "-") // a query's projection may leave it out
	if e.GetIngestTime() != nil {
		ingest = e.GetIngestTime().AsTime().Local().Format(timeLayout)
	}
	line := fmt.Sprintf("%-6d %s  %-20s %s", e.GetSeq(), ingest, e.GetType(), data)
	if len(attrs) > 0 {
		line += "  [" + strings.Join(attrs, " ") + "]"
	}
	_, err := fmt.Fprintln(w, line)
	return err
}

// timeLayout is RFC 3339 with a fixed-width fraction, so columns line up.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// printStream writes a stream's description for people.
func printStream(w io.Writer, s *siltv1.Stream) error {
	extent := "empty"
	if s.GetEventCount() > 0 {
		extent = fmt.Sprintf("seq %d..%d", s.GetFirstSeq(), s.GetLastSeq())
	}
	_, err := fmt.Fprintf(w, "%s/%s  %s  %d events  %d bytes  content-type %s  created %s\n",
		s.GetProject(), s.GetName(), extent, s.GetEventCount(), s.GetBytes(),
		s.GetSettings().GetContentType(), s.GetCreateTime().AsTime().Local().Format(time.RFC3339))
	return err
}
