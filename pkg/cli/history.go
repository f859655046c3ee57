package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// newRotateCommand is `silt rotate`.
func newRotateCommand() *cobra.Command {
	return newHistoryWorkCommand("rotate", "Seal the hot tier's events into Parquet segments now", "rotating",
		func(ctx context.Context, c *clientFlags) ([]*siltv1.Segment, error) {
			res, err := c.admin().Rotate(ctx, connect.NewRequest(&siltv1.RotateRequest{Project: c.project}))
			if err != nil {
				return nil, err
			}
			return res.Msg.GetSegments(), nil
		})
}

// newCompactCommand is `silt compact`.
func newCompactCommand() *cobra.Command {
	return newHistoryWorkCommand("compact", "Merge small Parquet segments of each project and day now", "compacting",
		func(ctx context.Context, c *clientFlags) ([]*siltv1.Segment, error) {
			res, err := c.admin().Compact(ctx, connect.NewRequest(&siltv1.CompactRequest{Project: c.project}))
			if err != nil {
				return nil, err
			}
			return res.Msg.GetSegments(), nil
		})
}

// newHistoryWorkCommand is an admin command that runs history work now and
// prints the segments it wrote ("nothing to <use>" when none).
func newHistoryWorkCommand(use, short, doing string, call func(context.Context, *clientFlags) ([]*siltv1.Segment, error)) *cobra.Command {
	var c clientFlags
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			stop := waiting(cmd.ErrOrStderr(), doing)
			segs, err := call(cmd.Context(), &c)
			stop()
			if err != nil {
				return err
			}
			if !c.json && len(segs) == 0 {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), "nothing to "+use)
				return err
			}
			return c.printSegments(cmd.OutOrStdout(), segs)
		},
	}
	c.registerWith(cmd, "", "project (default: every project)")
	return cmd
}

// newSegmentsCommand is `silt segments`.
func newSegmentsCommand() *cobra.Command {
	var c clientFlags
	cmd := &cobra.Command{
		Use:   "segments",
		Short: "List the history tier's Parquet segments",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := c.admin().ListSegments(cmd.Context(), connect.NewRequest(&siltv1.ListSegmentsRequest{Project: c.project}))
			if err != nil {
				return err
			}
			return c.printSegments(cmd.OutOrStdout(), res.Msg.GetSegments())
		},
	}
	c.registerWith(cmd, "", "project (default: every project)")
	return cmd
}

// printSegments writes a table of segments, then any quarantined events
// (one JSON object per segment with --json).
func (c *clientFlags) printSegments(w io.Writer, segs []*siltv1.Segment) error {
	if c.json {
		for _, s := range segs {
			if err := printJSON(w, s); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEGMENT\tPROJECT\tEVENTS\tSIZE\tSTREAMS\tROW GROUPS\tPATH")
	for _, s := range segs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%s\n",
			s.GetId(), s.GetProject(), s.GetRows(), humanBytes(s.GetBytes()), len(s.GetStreams()), s.GetRowGroups(), s.GetPath())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range segs {
		for _, q := range s.GetQuarantined() {
			if _, err := fmt.Fprintf(w, "segment %s: quarantined %s seq %d: %s\n", s.GetId(), q.GetStream(), q.GetSeq(), q.GetReason()); err != nil {
				return err
			}
		}
	}
	return nil
}

// waiting prints "<what>… Ns" to a terminal every second until stop is
// called, so a long call shows it is alive; quick calls print nothing.
func waiting(w io.Writer, what string) (stop func()) {
	if !isTerminal(w) {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		start := time.Now()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		printed := false
		for {
			select {
			case <-done:
				if printed {
					fmt.Fprintln(w)
				}
				return
			case <-t.C:
				fmt.Fprintf(w, "\r%s… %ds", what, int(time.Since(start).Seconds()))
				printed = true
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
