package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// Reconnect backoff of `silt tail`: the first retry waits about
// tailMinWait, each failed one doubles it up to tailMaxWait, and a
// subscription that delivered anything starts again from tailMinWait.
const (
	tailMinWait = 100 * time.Millisecond
	tailMaxWait = 5 * time.Second
	// defaultHeartbeat is the server's heartbeat when the request names none.
	defaultHeartbeat = 15 * time.Second
	// silentHeartbeats is how many heartbeats may go missing before tail
	// takes the connection for dead and reconnects.
	silentHeartbeats = 3
)

// newTailCommand is `silt tail`.
func newTailCommand() *cobra.Command {
	var c clientFlags
	var from int64
	var types []string
	var heartbeat time.Duration
	var reconnect bool
	cmd := &cobra.Command{
		Use:   "tail STREAM",
		Short: "Follow a stream live (from the tail, or --from a seq)",
		Long: `Follow a stream live: new events as they commit, or, with --from, the
stream from that seq on and then new events. Runs until Ctrl-C.

When the connection drops or the server restarts, tail reconnects with
backoff (100 ms doubling to 5 s) and resumes right after the last event it
printed, so nothing is skipped or printed twice. It also reconnects when
three heartbeats in a row do not arrive. It gives up only on errors that a
retry cannot fix (the stream was deleted, a bad request), or with
--reconnect=false on the first error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if heartbeat != 0 && (heartbeat < 100*time.Millisecond || heartbeat > 10*time.Minute) {
				return fmt.Errorf("--heartbeat %v: must be from 100ms to 10m", heartbeat)
			}
			t := &tailer{
				c: &c, stream: args[0], types: types, heartbeat: heartbeat, reconnect: reconnect,
				out: eventPrinter{w: cmd.OutOrStdout(), json: c.json}, errw: cmd.ErrOrStderr(),
				fromTail: from < 0,
			}
			if from >= 0 {
				t.next = uint64(from)
			}
			return t.run(cmd.Context())
		},
	}
	c.register(cmd)
	cmd.Flags().Int64Var(&from, "from", -1, "first seq to send (default: only new events)")
	cmd.Flags().StringSliceVar(&types, "type", nil, "only events of these types")
	cmd.Flags().DurationVar(&heartbeat, "heartbeat", 0, "how often an idle server says it is alive (default 15s)")
	cmd.Flags().BoolVar(&reconnect, "reconnect", true, "reconnect and resume after a dropped connection or a server restart")
	return cmd
}

// tailer follows one stream across reconnections.
type tailer struct {
	c         *clientFlags
	stream    string
	types     []string
	heartbeat time.Duration
	reconnect bool
	out       eventPrinter
	errw      io.Writer
	// next is the seq to resume from: one past the last event printed, or
	// further when the server said that filtered events were passed.
	next uint64
	// fromTail is true until the server has said where the tail is.
	fromTail bool
	// caughtUp is set once the first caught-up marker has been announced.
	caughtUp bool
	// reconnecting is set while a lost subscription is being replaced.
	reconnecting bool
}

// errSilent ends an attempt whose connection stopped sending heartbeats.
var errSilent = errors.New("no heartbeat from the server")

// run subscribes, and subscribes again after each retryable failure, until
// ctx ends (nil) or an error cannot be retried.
func (t *tailer) run(ctx context.Context) error {
	wait := tailMinWait
	everConnected := false
	for {
		delivered, err := t.subscribe(ctx)
		if ctx.Err() != nil {
			return nil //nolint:nilerr // the user stopped tail (Ctrl-C): the subscription's error is its cancellation
		}
		everConnected = everConnected || delivered
		if err == nil {
			err = errors.New("the server ended the subscription")
		}
		// A first attempt that never got through is most likely a wrong
		// --server or stream name: say so rather than retry forever.
		if !t.reconnect || !everConnected || !retryable(err) {
			return err
		}
		if delivered {
			wait = tailMinWait
		}
		d := wait/2 + rand.N(wait/2+1) // jitter, so restarted servers are not hit all at once
		if t.reconnecting {
			fmt.Fprintf(t.errw, "-- reconnect failed: %s; next try in %v --\n", lostReason(err), d.Round(time.Millisecond))
		} else {
			fmt.Fprintf(t.errw, "-- connection lost: %s; reconnecting in %v --\n", lostReason(err), d.Round(time.Millisecond))
		}
		t.reconnecting = true
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(d):
		}
		wait = min(2*wait, tailMaxWait)
	}
}

// subscribe runs one subscription from t.next (or the tail), printing what
// it delivers, and reports whether it delivered any message.
func (t *tailer) subscribe(ctx context.Context) (delivered bool, err error) {
	req := &siltv1.SubscribeRequest{Project: t.c.project, Stream: t.stream, Types: t.types, RawJson: true}
	if t.fromTail {
		req.Start = &siltv1.SubscribeRequest_FromTail{FromTail: true}
	} else {
		req.Start = &siltv1.SubscribeRequest_FromSeq{FromSeq: t.next}
	}
	hb := defaultHeartbeat
	if t.heartbeat > 0 {
		req.HeartbeatInterval = durationpb.New(t.heartbeat)
		hb = t.heartbeat
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(silentHeartbeats*hb, func() { cancel(errSilent) })
	defer watchdog.Stop()

	stream, err := t.c.events().Subscribe(ctx, connect.NewRequest(req))
	if err != nil {
		return false, err
	}
	defer func() { _ = stream.Close() }() // stream.Err, below, reports what went wrong
	for stream.Receive() {
		watchdog.Reset(silentHeartbeats * hb)
		if t.reconnecting {
			t.reconnecting = false
			fmt.Fprintf(t.errw, "-- reconnected, resuming at seq %d --\n", req.GetFromSeq())
		}
		delivered = true
		switch m := stream.Msg().GetMessage().(type) {
		case *siltv1.SubscribeResponse_Batch:
			for _, e := range m.Batch.GetEvents() {
				if e.GetSeq() < t.next && !t.fromTail {
					continue // never print an event twice
				}
				if err := t.out.print(e); err != nil {
					return delivered, err
				}
				t.next, t.fromTail = e.GetSeq()+1, false
			}
		case *siltv1.SubscribeResponse_CaughtUp:
			t.advance(m.CaughtUp.GetNextSeq())
			if !t.caughtUp {
				t.caughtUp = true
				fmt.Fprintf(t.errw, "-- caught up at seq %d, following live --\n", m.CaughtUp.GetLastSeq())
			}
		case *siltv1.SubscribeResponse_Heartbeat:
			t.advance(m.Heartbeat.GetNextSeq())
		}
	}
	if cause := context.Cause(ctx); errors.Is(cause, errSilent) {
		return delivered, fmt.Errorf("%w for %v", errSilent, silentHeartbeats*hb)
	}
	return delivered, stream.Err()
}

// advance moves the resume position to next if that is further on.
func (t *tailer) advance(next uint64) {
	if next > 0 && (t.fromTail || next > t.next) {
		t.next, t.fromTail = next, false
	}
}

// lostReason says in a few words why a subscription ended.
func lostReason(err error) string {
	var ce *connect.Error
	if errors.As(err, &ce) && ce.Message() != "" {
		return lastClause(ce.Message())
	}
	return err.Error()
}

// retryable reports whether a subscription that failed with err may
// succeed when tried again: the server went away or stopped, the
// connection broke or went silent.
func retryable(err error) bool {
	if errors.Is(err, errSilent) {
		return true
	}
	switch connect.CodeOf(err) {
	case connect.CodeUnavailable, connect.CodeUnknown, connect.CodeInternal,
		connect.CodeDeadlineExceeded, connect.CodeAborted:
		return true
	}
	return false
}
