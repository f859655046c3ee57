package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/api"
)

// newAppendCommand is `silt append`.
func newAppendCommand() *cobra.Command {
	var c clientFlags
	var typ string
	var batch int
	var producer siltv1.Producer
	cmd := &cobra.Command{
		Use:   "append STREAM [EVENT_JSON ...]",
		Short: "Append events to a stream (JSON arguments, or NDJSON on stdin)",
		Long: `Append events to a stream.

Each argument is one event as JSON, e.g. '{"type":"order.created","data":{"n":1}}'.
With --type, each argument is only the event's data, e.g. --type order.created '{"n":1}'.
Without arguments, events are read from stdin, one JSON object per line (NDJSON),
and sent in batches of --batch. A listing's lines (silt read --json, silt tail
--json, silt query --json) are such events: their stream, seq and ingestTime
are ignored, as the server assigns them. On a terminal, stderr shows a progress
bar with the rate; at the end one summary line goes to stderr (with --json, a
JSON summary to stdout as well). Nothing is printed per batch.

With --producer, every request carries producer {id, epoch, seq}, seq counting
up from --producer-seq, so a rerun of the same input after a failure writes
nothing twice.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a := appender{c: &c, stream: args[0], typ: typ, batch: batch}
			if producer.Id != "" {
				a.producer = &producer
			}
			if len(args) > 1 {
				return a.fromArgs(cmd, args[1:])
			}
			return a.fromReader(cmd, cmd.InOrStdin())
		},
	}
	c.register(cmd)
	cmd.Flags().StringVar(&typ, "type", "", "event type; makes each argument or line the event's data")
	cmd.Flags().IntVar(&batch, "batch", 1000, "events per request when reading stdin (1 to 10000)")
	cmd.Flags().StringVar(&producer.Id, "producer", "", "idempotent producer id")
	cmd.Flags().Uint64Var(&producer.Epoch, "epoch", 0, "producer epoch")
	cmd.Flags().Uint64Var(&producer.Seq, "producer-seq", 0, "producer seq of the first request")
	return cmd
}

// appender turns lines into events and sends them in batches.
type appender struct {
	c      *clientFlags
	stream string
	typ    string
	batch  int
	// pending are the events of the next request; labels name each as the
	// person gave it ("line 12"), pendingBytes is the input they took and
	// pendingWire their encoded size.
	pending      []*siltv1.EventInput
	labels       []string
	pendingBytes int64
	pendingWire  int
	// producer, when set, is sent with each request; its Seq advances.
	producer *siltv1.Producer
	// What was appended so far.
	sent, requests, duplicates int
	firstSeq, lastSeq          uint64
}

// parse reads one event (or, with --type, one data value).
func (a *appender) parse(b []byte) (*siltv1.EventInput, error) {
	if a.typ != "" {
		v, err := parseDataLine(b)
		if err != nil {
			return nil, err
		}
		return &siltv1.EventInput{Type: a.typ, Payload: &siltv1.EventInput_Data{Data: v}}, nil
	}
	return parseEventLine(b)
}

// fromArgs appends the events given as arguments in one request and
// prints its seqs.
func (a *appender) fromArgs(cmd *cobra.Command, args []string) error {
	for i, arg := range args {
		e, err := a.parse([]byte(arg))
		if err != nil {
			return fmt.Errorf("argument %d: %w", i+1, err)
		}
		a.pending = append(a.pending, e)
		a.labels = append(a.labels, fmt.Sprintf("argument %d", i+1))
	}
	res, err := a.flush(cmd.Context())
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if a.c.json {
		return printJSON(out, res)
	}
	dup := ""
	if res.GetDuplicate() {
		dup = " (duplicate: already appended, nothing written)"
	}
	_, err = fmt.Fprintf(out, "appended %s/%s seq %d..%d%s\n", a.c.project, a.stream, res.GetFirstSeq(), res.GetLastSeq(), dup)
	return err
}

// fromReader appends NDJSON from r in batches, with progress on a
// terminal's stderr and a summary at the end, also after an error.
func (a *appender) fromReader(cmd *cobra.Command, r io.Reader) (err error) {
	if a.batch < 1 || a.batch > 10000 {
		return fmt.Errorf("--batch %d: must be 1 to 10000", a.batch)
	}
	start := time.Now()
	progress := newProgress(cmd.ErrOrStderr(), inputSize(r))
	defer func() {
		progress.finish()
		s := a.summary(time.Since(start))
		fmt.Fprintln(cmd.ErrOrStderr(), s.String(a.c.project, a.stream, err != nil))
		if err == nil && a.c.json {
			err = s.print(cmd.OutOrStdout())
		}
	}()
	send := func() error {
		n, size := len(a.pending), a.pendingBytes
		if _, err := a.flush(cmd.Context()); err != nil {
			return err
		}
		progress.add(n, size)
		return nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 2<<20)
	line := 0
	for sc.Scan() {
		line++
		input := int64(len(sc.Bytes())) + 1
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			a.pendingBytes += input
			continue
		}
		e, err := a.parse(b)
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		// Requests stay under the server's cap however large the events.
		size := proto.Size(e) + eventOverhead
		if len(a.pending) > 0 && a.pendingWire+size > maxAppendBytes {
			if err := send(); err != nil {
				return err
			}
		}
		a.pending = append(a.pending, e)
		a.labels = append(a.labels, fmt.Sprintf("line %d", line))
		a.pendingBytes += input
		a.pendingWire += size
		if len(a.pending) >= a.batch {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("line %d: longer than 2 MiB (an event is at most 1 MiB)", line+1)
		}
		return fmt.Errorf("read stdin: %w", err)
	}
	_, err = a.flush(cmd.Context())
	return err
}

// maxAppendBytes is how large append lets one request's events grow: the
// server's cap on a request, less room for the rest of the request.
const maxAppendBytes = api.MaxRequestBytes - 64<<10

// eventOverhead is an event's tag and length in the request, at most.
const eventOverhead = 6

// flush sends the pending events as one Append.
func (a *appender) flush(ctx context.Context) (*siltv1.AppendResponse, error) {
	if len(a.pending) == 0 {
		return nil, nil
	}
	req := &siltv1.AppendRequest{Project: a.c.project, Stream: a.stream, Events: a.pending}
	if a.producer != nil {
		req.Producer = &siltv1.Producer{Id: a.producer.Id, Epoch: a.producer.Epoch, Seq: a.producer.Seq}
	}
	res, err := a.c.events().Append(ctx, connect.NewRequest(req))
	if err != nil {
		return nil, &inputError{err: err, labels: a.labels, span: span(a.labels)}
	}
	if a.producer != nil {
		a.producer.Seq++
	}
	a.requests++
	if res.Msg.GetDuplicate() {
		a.duplicates++
	} else {
		a.sent += len(a.pending)
	}
	if first := res.Msg.GetFirstSeq(); first > 0 && (a.firstSeq == 0 || first < a.firstSeq) {
		a.firstSeq = first
	}
	a.lastSeq = max(a.lastSeq, res.Msg.GetLastSeq())
	a.pending, a.labels, a.pendingBytes, a.pendingWire = a.pending[:0], a.labels[:0], 0, 0
	return res.Msg, nil
}

// span names the inputs of one request: "line 3", "lines 1001-2000".
func span(labels []string) string {
	if len(labels) == 0 {
		return ""
	}
	first, last := labels[0], labels[len(labels)-1]
	if first == last {
		return first
	}
	word, from, _ := strings.Cut(first, " ")
	_, to, _ := strings.Cut(last, " ")
	return word + "s " + from + "-" + to
}

// appendSummary is what `silt append` did with its stdin.
type appendSummary struct {
	Events     int     `json:"events"`
	Requests   int     `json:"requests"`
	Duplicates int     `json:"duplicates,omitempty"`
	FirstSeq   uint64  `json:"firstSeq,omitempty"`
	LastSeq    uint64  `json:"lastSeq,omitempty"`
	Seconds    float64 `json:"seconds"`
}

func (a *appender) summary(d time.Duration) appendSummary {
	return appendSummary{Events: a.sent, Requests: a.requests, Duplicates: a.duplicates,
		FirstSeq: a.firstSeq, LastSeq: a.lastSeq, Seconds: d.Seconds()}
}

// String is the summary line: "appended 3 events to acme/orders (seq
// 5..7) in 2 requests, 0.1s, 30 events/s".
func (s appendSummary) String(project, stream string, failed bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "appended %s to %s/%s", plural(s.Events, "event"), project, stream)
	if s.LastSeq > 0 {
		fmt.Fprintf(&b, " (seq %d..%d)", s.FirstSeq, s.LastSeq)
	}
	if s.Requests > 0 {
		fmt.Fprintf(&b, " in %s", plural(s.Requests, "request"))
	}
	fmt.Fprintf(&b, ", %s", formatSeconds(s.Seconds))
	if s.Seconds > 0 && s.Events > 0 {
		fmt.Fprintf(&b, ", %s events/s", formatNumber(math.Round(float64(s.Events)/s.Seconds)))
	}
	if s.Duplicates > 0 {
		fmt.Fprintf(&b, "; %s already appended before (duplicates), so wrote nothing", plural(s.Duplicates, "request was", "requests were"))
	}
	if failed {
		b.WriteString("; then an error stopped it")
	}
	return b.String()
}

func (s appendSummary) print(w io.Writer) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// plural is "1 event" or "2 events", or with two forms given the one n takes.
func plural(n int, forms ...string) string {
	if len(forms) == 2 {
		return fmt.Sprintf("%d %s", n, forms[min(n, 2)/2])
	}
	if n == 1 {
		return "1 " + forms[0]
	}
	return fmt.Sprintf("%d %ss", n, forms[0])
}

// formatSeconds prints a duration in seconds to a sensible precision.
func formatSeconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
