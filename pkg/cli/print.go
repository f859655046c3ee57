package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
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

// eventPrinter prints events one by one: event lines with --json, else a
// table for people whose header comes before the first event. Columns have
// fixed widths so that `silt tail` can print each event as it comes.
type eventPrinter struct {
	w    io.Writer
	json bool
	// stream adds a STREAM column (a query lists many streams).
	stream  bool
	started bool
}

// timeLayout is RFC 3339 to the millisecond, in local time.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// timeWidth is the width of a local time in timeLayout: "Z" in UTC, else
// an offset such as "+01:00".
var timeWidth = len(time.Unix(0, 0).Local().Format(timeLayout))

func (p *eventPrinter) print(e *siltv1.Event) error {
	if p.json {
		return writeEventLine(p.w, e)
	}
	var line strings.Builder
	if !p.started {
		p.started = true
		if p.stream {
			fmt.Fprintf(&line, "%-16s ", "STREAM")
		}
		fmt.Fprintf(&line, "%-6s %-*s  %-20s %s\n", "SEQ", timeWidth, "INGESTED", "TYPE", "DATA  [ATTRIBUTES METRICS]")
	}
	if p.stream {
		fmt.Fprintf(&line, "%-16s ", e.GetStream())
	}
	ingest := "-" // a query's projection may leave it out
	if e.GetIngestTime() != nil {
		ingest = e.GetIngestTime().AsTime().Local().Format(timeLayout)
	}
	fmt.Fprintf(&line, "%-6d %-*s  %-20s %s", e.GetSeq(), timeWidth, ingest, e.GetType(), eventData(e))
	if kv := eventAttributes(e); kv != "" {
		line.WriteString("  [" + kv + "]")
	}
	line.WriteByte('\n')
	_, err := io.WriteString(p.w, line.String())
	return err
}

// eventData is an event's payload for people: JSON as text, other bytes
// as their size and content type.
func eventData(e *siltv1.Event) string {
	switch p := e.GetPayload().(type) {
	case *siltv1.Event_Data:
		b, _ := protojson.Marshal(p.Data)
		var out bytes.Buffer
		if json.Compact(&out, b) == nil {
			return out.String()
		}
		return string(b)
	case *siltv1.Event_BinaryData:
		if isJSONContentType(e.GetContentType()) && json.Valid(p.BinaryData) {
			return string(p.BinaryData)
		}
		return fmt.Sprintf("<%d bytes %s>", len(p.BinaryData), e.GetContentType())
	}
	return ""
}

// eventAttributes is attributes and metrics as sorted key=value pairs.
func eventAttributes(e *siltv1.Event) string {
	var kv []string
	for k, v := range e.GetAttributes() {
		kv = append(kv, k+"="+v)
	}
	for k, v := range e.GetMetrics() {
		kv = append(kv, k+"="+formatNumber(v))
	}
	slices.Sort(kv)
	return strings.Join(kv, " ")
}

// formatNumber prints a number as people write it: integers in full,
// fractions to six significant digits but never fewer than the integer
// part has, and no exponent unless the number is tiny or astronomical
// (20000100000, 50.3333, 0.000123457; 1e-09 and 1e+21 keep theirs).
func formatNumber(f float64) string {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return strconv.FormatFloat(f, 'g', -1, 64)
	case f == math.Trunc(f) && math.Abs(f) < 1e21:
		return strconv.FormatFloat(f, 'f', 0, 64)
	case math.Abs(f) < 1e-6 || math.Abs(f) >= 1e21:
		return strconv.FormatFloat(f, 'g', 6, 64)
	}
	digits := 6
	if intDigits := int(math.Floor(math.Log10(math.Abs(f)))) + 1; intDigits > digits {
		digits = intDigits
	}
	rounded, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', digits, 64), 64)
	return strconv.FormatFloat(rounded, 'f', -1, 64)
}

// formatDuration prints a duration in days when it is whole days, else
// without trailing zero units (90m → 1h30m, not 1h30m0s).
func formatDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// humanBytes formats n bytes with a binary unit.
func humanBytes[N int64 | uint64](n N) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := N(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
