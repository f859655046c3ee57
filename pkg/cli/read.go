package cli

import (
	"fmt"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// newReadCommand is `silt read`.
func newReadCommand() *cobra.Command {
	var c clientFlags
	var from uint64
	var since string
	var limit uint32
	cmd := &cobra.Command{
		Use:   "read STREAM",
		Short: "Read a page of a stream's events",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &siltv1.ReadRequest{Project: c.project, Stream: args[0], Limit: limit}
			if since != "" {
				t, err := time.Parse(time.RFC3339Nano, since)
				if err != nil {
					return fmt.Errorf("--since: %w", err)
				}
				req.Start = &siltv1.ReadRequest_FromTime{FromTime: timestamppb.New(t)}
			} else {
				req.Start = &siltv1.ReadRequest_FromSeq{FromSeq: from}
			}
			res, err := c.events().Read(cmd.Context(), connect.NewRequest(req))
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if c.json {
				return printJSON(out, res.Msg)
			}
			for _, e := range res.Msg.GetEvents() {
				if err := printEvent(out, e); err != nil {
					return err
				}
			}
			_, err = fmt.Fprintf(cmd.ErrOrStderr(), "next seq %d, last seq %d, up to date %v\n",
				res.Msg.GetNextSeq(), res.Msg.GetLastSeq(), res.Msg.GetUpToDate())
			return err
		},
	}
	c.register(cmd)
	cmd.Flags().Uint64Var(&from, "from", 0, "first seq to read (0: the beginning)")
	cmd.Flags().StringVar(&since, "since", "", "start at the first event ingested at or after this RFC 3339 time")
	cmd.Flags().Uint32Var(&limit, "limit", 100, "events per page (at most 10000)")
	return cmd
}

// newTailCommand is `silt tail`.
func newTailCommand() *cobra.Command {
	var c clientFlags
	var from int64
	var types []string
	var heartbeat time.Duration
	cmd := &cobra.Command{
		Use:   "tail STREAM",
		Short: "Follow a stream live (from the tail, or --from a seq)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &siltv1.SubscribeRequest{Project: c.project, Stream: args[0], Types: types}
			if from < 0 {
				req.Start = &siltv1.SubscribeRequest_FromTail{FromTail: true}
			} else {
				req.Start = &siltv1.SubscribeRequest_FromSeq{FromSeq: uint64(from)}
			}
			if heartbeat > 0 {
				req.HeartbeatInterval = durationpb.New(heartbeat)
			}
			stream, err := c.events().Subscribe(cmd.Context(), connect.NewRequest(req))
			if err != nil {
				return err
			}
			defer func() { _ = stream.Close() }() // stream.Err, below, reports what went wrong
			out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
			for stream.Receive() {
				msg := stream.Msg()
				if c.json {
					if err := printJSON(out, msg); err != nil {
						return err
					}
					continue
				}
				switch m := msg.GetMessage().(type) {
				case *siltv1.SubscribeResponse_Batch:
					for _, e := range m.Batch.GetEvents() {
						if err := printEvent(out, e); err != nil {
							return err
						}
					}
				case *siltv1.SubscribeResponse_CaughtUp:
					fmt.Fprintf(errw, "-- caught up at seq %d, following live --\n", m.CaughtUp.GetLastSeq())
				}
			}
			if cmd.Context().Err() != nil {
				return nil
			}
			return stream.Err()
		},
	}
	c.register(cmd)
	cmd.Flags().Int64Var(&from, "from", -1, "first seq to send (default: only new events)")
	cmd.Flags().StringSliceVar(&types, "type", nil, "only events of these types")
	cmd.Flags().DurationVar(&heartbeat, "heartbeat", 0, "heartbeat interval (default 15s)")
	return cmd
}
