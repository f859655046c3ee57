package cli

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
)

// adminFlags are the flags of admin commands: like clientFlags, but the
// project is optional (empty: every project).
type adminFlags struct {
	server  string
	project string
	json    bool
}

func (c *adminFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.server, "server", "http://127.0.0.1:4437", "Silt server URL")
	f.StringVarP(&c.project, "project", "p", "", "project (default: every project)")
	f.BoolVar(&c.json, "json", false, "print JSON (one object per line) for scripts")
}

func (c *adminFlags) admin() siltv1connect.AdminServiceClient {
	return siltv1connect.NewAdminServiceClient(http.DefaultClient, c.server)
}

// newRotateCommand is `silt rotate`.
func newRotateCommand() *cobra.Command {
	var c adminFlags
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Seal the hot tier's events into Parquet segments now",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			stop := waiting(cmd.ErrOrStderr(), "rotating")
			res, err := c.admin().Rotate(cmd.Context(), connect.NewRequest(&siltv1.RotateRequest{Project: c.project}))
			stop()
			if err != nil {
				return err
			}
			if !c.json && len(res.Msg.GetSegments()) == 0 {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), "nothing to rotate")
				return err
			}
			return c.printSegments(cmd.OutOrStdout(), res.Msg.GetSegments())
		},
	}
	c.register(cmd)
	return cmd
}

// newCompactCommand is `silt compact`.
func newCompactCommand() *cobra.Command {
	var c adminFlags
	cmd := &cobra.Command{
		Use:   "compact",
		Short: "Merge small Parquet segments of each project and day now",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			stop := waiting(cmd.ErrOrStderr(), "compacting")
			res, err := c.admin().Compact(cmd.Context(), connect.NewRequest(&siltv1.CompactRequest{Project: c.project}))
			stop()
			if err != nil {
				return err
			}
			if !c.json && len(res.Msg.GetSegments()) == 0 {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), "nothing to compact")
				return err
			}
			return c.printSegments(cmd.OutOrStdout(), res.Msg.GetSegments())
		},
	}
	c.register(cmd)
	return cmd
}

// newSegmentsCommand is `silt segments`.
func newSegmentsCommand() *cobra.Command {
	var c adminFlags
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
	c.register(cmd)
	return cmd
}

// printSegments writes one line per segment (JSON with --json).
func (c *adminFlags) printSegments(w io.Writer, segs []*siltv1.Segment) error {
	for _, s := range segs {
		if c.json {
			if err := printJSON(w, s); err != nil {
				return err
			}
			continue
		}
		_, err := fmt.Fprintf(w, "%s  %-12s %9d events %10s  %d streams  %d row groups  %s\n",
			s.GetId(), s.GetProject(), s.GetRows(), humanBytes(s.GetBytes()), len(s.GetStreams()), s.GetRowGroups(), s.GetPath())
		if err != nil {
			return err
		}
	}
	return nil
}

// humanBytes formats n bytes with a binary unit.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
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
