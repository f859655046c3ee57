package cli

import (
	"fmt"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
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
		Long: `Read a page of a stream's events: a table for people, or with --json one
event per line in the shape silt append reads, so

  silt read -p acme orders --json --limit 10000 | silt append -p acme orders-copy

copies a page. For people, where the page ended goes to stderr.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &siltv1.ReadRequest{Project: c.project, Stream: args[0], Limit: limit, RawJson: true}
			if since != "" {
				t, err := parseWhen(since, time.Now())
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
			p := eventPrinter{w: cmd.OutOrStdout(), json: c.json}
			for _, e := range res.Msg.GetEvents() {
				if err := p.print(e); err != nil {
					return err
				}
			}
			if c.json {
				return nil // event lines only: the next seq is the last one's + 1
			}
			_, err = fmt.Fprintf(cmd.ErrOrStderr(), "next seq %d, last seq %d, up to date %v\n",
				res.Msg.GetNextSeq(), res.Msg.GetLastSeq(), res.Msg.GetUpToDate())
			return err
		},
	}
	c.register(cmd)
	cmd.Flags().Uint64Var(&from, "from", 0, "first seq to read (0: the beginning)")
	cmd.Flags().StringVar(&since, "since", "", "start at the first event ingested at or after this: RFC 3339, or a duration before now such as 1h")
	cmd.Flags().Uint32Var(&limit, "limit", 100, "events per page (at most 10000)")
	return cmd
}
