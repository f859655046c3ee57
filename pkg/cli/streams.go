package cli

import (
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// newStreamsCommand is `silt streams list|create|get|delete`.
func newStreamsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "streams", Short: "Manage a project's streams"}
	cmd.AddCommand(newStreamsListCommand(), newStreamsCreateCommand(), newStreamsGetCommand(), newStreamsDeleteCommand())
	return cmd
}

func newStreamsListCommand() *cobra.Command {
	var c clientFlags
	var prefix string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the project's streams",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			token := ""
			for {
				res, err := c.streams().ListStreams(cmd.Context(), connect.NewRequest(&siltv1.ListStreamsRequest{
					Project: c.project, Prefix: prefix, PageToken: token,
				}))
				if err != nil {
					return err
				}
				for _, s := range res.Msg.GetStreams() {
					if err := c.printStream(cmd, s); err != nil {
						return err
					}
				}
				if token = res.Msg.GetNextPageToken(); token == "" {
					return nil
				}
			}
		},
	}
	c.register(cmd)
	cmd.Flags().StringVar(&prefix, "prefix", "", "only streams whose name starts with this")
	return cmd
}

func newStreamsCreateCommand() *cobra.Command {
	var c clientFlags
	settings := &siltv1.StreamSettings{}
	var maxAge time.Duration
	var maxBytes uint64
	cmd := &cobra.Command{
		Use:   "create STREAM",
		Short: "Create a stream",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if maxAge > 0 || maxBytes > 0 {
				settings.Retention = &siltv1.RetentionPolicy{MaxBytes: maxBytes}
				if maxAge > 0 {
					settings.Retention.MaxAge = durationpb.New(maxAge)
				}
			}
			res, err := c.streams().CreateStream(cmd.Context(), connect.NewRequest(&siltv1.CreateStreamRequest{
				Project: c.project, Stream: args[0], Settings: settings,
			}))
			if err != nil {
				return err
			}
			return c.printStream(cmd, res.Msg.GetStream())
		},
	}
	c.register(cmd)
	cmd.Flags().StringVar(&settings.ContentType, "content-type", "", "default content type of events (default application/json)")
	cmd.Flags().DurationVar(&maxAge, "retention-age", 0, "drop events older than this (e.g. 720h)")
	cmd.Flags().Uint64Var(&maxBytes, "retention-bytes", 0, "drop the oldest events past this many bytes")
	return cmd
}

func newStreamsGetCommand() *cobra.Command {
	var c clientFlags
	cmd := &cobra.Command{
		Use:   "get STREAM",
		Short: "Describe a stream",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := c.streams().GetStream(cmd.Context(), connect.NewRequest(&siltv1.GetStreamRequest{
				Project: c.project, Stream: args[0],
			}))
			if err != nil {
				return err
			}
			return c.printStream(cmd, res.Msg.GetStream())
		},
	}
	c.register(cmd)
	return cmd
}

func newStreamsDeleteCommand() *cobra.Command {
	var c clientFlags
	cmd := &cobra.Command{
		Use:   "delete STREAM",
		Short: "Delete a stream and all its events",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := c.streams().DeleteStream(cmd.Context(), connect.NewRequest(&siltv1.DeleteStreamRequest{
				Project: c.project, Stream: args[0],
			})); err != nil {
				return err
			}
			if c.json {
				_, err := cmd.OutOrStdout().Write([]byte("{}\n"))
				return err
			}
			_, err := cmd.OutOrStdout().Write([]byte("deleted " + c.project + "/" + args[0] + "\n"))
			return err
		},
	}
	c.register(cmd)
	return cmd
}

// printStream prints a stream as JSON or for people.
func (c *clientFlags) printStream(cmd *cobra.Command, s *siltv1.Stream) error {
	if c.json {
		return printJSON(cmd.OutOrStdout(), s)
	}
	return printStream(cmd.OutOrStdout(), s)
}
