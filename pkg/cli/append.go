package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
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
and sent in batches of --batch; progress goes to stderr.

With --producer, every request carries producer {id, epoch, seq}, seq counting
up from --producer-seq, so a rerun of the same input after a failure writes
nothing twice.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a := appender{c: &c, stream: args[0], typ: typ, batch: batch, out: cmd.OutOrStdout(), errw: cmd.ErrOrStderr()}
			if producer.Id != "" {
				a.producer = &producer
			}
			if len(args) > 1 {
				for i, arg := range args[1:] {
					e, err := a.parse([]byte(arg))
					if err != nil {
						return fmt.Errorf("argument %d: %w", i+1, err)
					}
					a.pending = append(a.pending, e)
				}
				return a.flush(cmd)
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
	c       *clientFlags
	stream  string
	typ     string
	batch   int
	out     io.Writer
	errw    io.Writer
	pending []*siltv1.EventInput
	sent    int
	// producer, when set, is sent with each request; its Seq advances.
	producer *siltv1.Producer
}

// parse reads one event (or, with --type, one data value).
func (a *appender) parse(b []byte) (*siltv1.EventInput, error) {
	if a.typ != "" {
		v := new(structpb.Value)
		if err := protojson.Unmarshal(b, v); err != nil {
			return nil, fmt.Errorf("parse data: %w", err)
		}
		return &siltv1.EventInput{Type: a.typ, Payload: &siltv1.EventInput_Data{Data: v}}, nil
	}
	e := new(siltv1.EventInput)
	if err := protojson.Unmarshal(b, e); err != nil {
		return nil, fmt.Errorf("parse event: %w", err)
	}
	return e, nil
}

func (a *appender) fromReader(cmd *cobra.Command, r io.Reader) error {
	if a.batch < 1 || a.batch > 10000 {
		return fmt.Errorf("--batch %d: must be 1 to 10000", a.batch)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 2<<20)
	progress := newProgress(a.errw, "appended")
	defer progress.done(&a.sent)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		e, err := a.parse(b)
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		a.pending = append(a.pending, e)
		if len(a.pending) >= a.batch {
			if err := a.flush(cmd); err != nil {
				return err
			}
			progress.tick(a.sent)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	return a.flush(cmd)
}

// flush sends the pending events as one Append.
func (a *appender) flush(cmd *cobra.Command) error {
	if len(a.pending) == 0 {
		return nil
	}
	req := &siltv1.AppendRequest{Project: a.c.project, Stream: a.stream, Events: a.pending}
	if a.producer != nil {
		req.Producer = &siltv1.Producer{Id: a.producer.Id, Epoch: a.producer.Epoch, Seq: a.producer.Seq}
	}
	res, err := a.c.events().Append(cmd.Context(), connect.NewRequest(req))
	if err != nil {
		return err
	}
	if a.producer != nil {
		a.producer.Seq++
	}
	a.sent += len(a.pending)
	a.pending = a.pending[:0]
	if a.c.json {
		return printJSON(a.out, res.Msg)
	}
	dup := ""
	if res.Msg.GetDuplicate() {
		dup = " (duplicate: already appended, nothing written)"
	}
	_, err = fmt.Fprintf(a.out, "appended %s/%s seq %d..%d%s\n", a.c.project, a.stream, res.Msg.GetFirstSeq(), res.Msg.GetLastSeq(), dup)
	return err
}

// progress prints a rate line to a terminal's stderr about once a second.
type progress struct {
	w     io.Writer
	verb  string
	start time.Time
	last  time.Time
	tty   bool
}

func newProgress(w io.Writer, verb string) *progress {
	now := time.Now()
	return &progress{w: w, verb: verb, start: now, last: now, tty: isTerminal(w)}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) tick(n int) {
	if !p.tty || time.Since(p.last) < time.Second {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\r%s %d events (%.0f/s)", p.verb, n, float64(n)/time.Since(p.start).Seconds())
}

func (p *progress) done(n *int) {
	if p.tty && time.Since(p.start) >= time.Second {
		fmt.Fprintf(p.w, "\r%s %d events (%.0f/s)\n", p.verb, *n, float64(*n)/time.Since(p.start).Seconds())
	}
}
