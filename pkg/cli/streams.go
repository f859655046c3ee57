package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// newStreamsCommand is `silt streams list|create|get|update|delete`.
func newStreamsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "streams", Short: "Manage a project's streams"}
	cmd.AddCommand(newStreamsListCommand(), newStreamsCreateCommand(), newStreamsGetCommand(),
		newStreamsUpdateCommand(), newStreamsDeleteCommand())
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
			out := cmd.OutOrStdout()
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			if !c.json {
				fmt.Fprintln(tw, "STREAM\tEVENTS\tSEQ\tSIZE\tRETENTION\tCREATED")
			}
			token := ""
			for {
				res, err := c.streams().ListStreams(cmd.Context(), connect.NewRequest(&siltv1.ListStreamsRequest{
					Project: c.project, Prefix: prefix, PageToken: token,
				}))
				if err != nil {
					return err
				}
				for _, s := range res.Msg.GetStreams() {
					if c.json {
						if err := printJSON(out, s); err != nil {
							return err
						}
						continue
					}
					fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", s.GetName(), s.GetEventCount(), seqRange(s),
						humanBytes(s.GetBytes()), retention(s.GetSettings().GetRetention()), localTime(s.GetCreateTime().AsTime()))
				}
				if token = res.Msg.GetNextPageToken(); token == "" {
					return tw.Flush()
				}
			}
		},
	}
	c.register(cmd)
	cmd.Flags().StringVar(&prefix, "prefix", "", "only streams whose name starts with this")
	return cmd
}

// settingsFlags are the stream settings `streams create` and `streams
// update` take.
type settingsFlags struct {
	contentType string
	maxAge      time.Duration
	maxBytes    uint64
}

func (s *settingsFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&s.contentType, "content-type", "", "default content type of events that name none (default application/json)")
	f.DurationVar(&s.maxAge, "retention-age", 0, "drop events older than this, e.g. 720h (0: no age limit)")
	f.Uint64Var(&s.maxBytes, "retention-bytes", 0, "drop the oldest events once the stream holds more bytes than this (0: no size limit)")
}

// settings is the StreamSettings the flags give.
func (s *settingsFlags) settings() (*siltv1.StreamSettings, error) {
	if s.maxAge < 0 {
		return nil, fmt.Errorf("--retention-age %v: must not be negative", s.maxAge)
	}
	out := &siltv1.StreamSettings{ContentType: s.contentType}
	if s.maxAge > 0 || s.maxBytes > 0 {
		out.Retention = &siltv1.RetentionPolicy{MaxBytes: s.maxBytes}
		if s.maxAge > 0 {
			out.Retention.MaxAge = durationpb.New(s.maxAge)
		}
	}
	return out, nil
}

func newStreamsCreateCommand() *cobra.Command {
	var c clientFlags
	var s settingsFlags
	cmd := &cobra.Command{
		Use:   "create STREAM",
		Short: "Create a stream",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			settings, err := s.settings()
			if err != nil {
				return err
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
	s.register(cmd)
	return cmd
}

func newStreamsUpdateCommand() *cobra.Command {
	var c clientFlags
	var s settingsFlags
	cmd := &cobra.Command{
		Use:   "update STREAM",
		Short: "Change a stream's settings: only those given as flags",
		Long: `Change a stream's settings. Only the settings given as flags change;
--retention-age 0 and --retention-bytes 0 remove that limit.`,
		Example: `  silt streams update orders --retention-age 720h
  silt streams update orders --retention-bytes 10737418240 --retention-age 0`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			settings, err := s.settings()
			if err != nil {
				return err
			}
			mask := &fieldmaskpb.FieldMask{}
			for flag, path := range map[string]string{"content-type": "content_type", "retention-age": "retention.max_age", "retention-bytes": "retention.max_bytes"} {
				if cmd.Flags().Changed(flag) {
					mask.Paths = append(mask.Paths, path)
				}
			}
			if len(mask.Paths) == 0 {
				return errors.New("nothing to change: give --content-type, --retention-age or --retention-bytes")
			}
			if settings.Retention == nil {
				settings.Retention = &siltv1.RetentionPolicy{} // clears the limits the mask names
			}
			res, err := c.streams().UpdateStream(cmd.Context(), connect.NewRequest(&siltv1.UpdateStreamRequest{
				Project: c.project, Stream: args[0], Settings: settings, UpdateMask: mask,
			}))
			if err != nil {
				return err
			}
			return c.printStream(cmd, res.Msg.GetStream())
		},
	}
	c.register(cmd)
	s.register(cmd)
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
	return describeStream(cmd.OutOrStdout(), s)
}

// describeStream writes one stream's description for people, a field a line.
func describeStream(w io.Writer, s *siltv1.Stream) error {
	ct := s.GetSettings().GetContentType()
	if ct == "" {
		ct = jsonContentType
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "stream\t%s/%s\n", s.GetProject(), s.GetName())
	fmt.Fprintf(tw, "events\t%d\n", s.GetEventCount())
	fmt.Fprintf(tw, "seq\t%s\n", seqRange(s))
	fmt.Fprintf(tw, "size\t%s\n", humanBytes(s.GetBytes()))
	fmt.Fprintf(tw, "content type\t%s\n", ct)
	fmt.Fprintf(tw, "retention\t%s\n", retention(s.GetSettings().GetRetention()))
	fmt.Fprintf(tw, "created\t%s\n", localTime(s.GetCreateTime().AsTime()))
	if u := s.GetUpdateTime(); u != nil && !u.AsTime().Equal(s.GetCreateTime().AsTime()) {
		fmt.Fprintf(tw, "updated\t%s\n", localTime(u.AsTime()))
	}
	return tw.Flush()
}

// seqRange is a stream's retained seqs: "1..7", or "empty".
func seqRange(s *siltv1.Stream) string {
	if s.GetEventCount() == 0 {
		return "empty"
	}
	return fmt.Sprintf("%d..%d", s.GetFirstSeq(), s.GetLastSeq())
}

// retention describes a retention policy: "none", "30d", "10.0 GiB" or
// "30d, 10.0 GiB" (whichever limit is reached first drops events).
func retention(r *siltv1.RetentionPolicy) string {
	var parts []string
	if d := r.GetMaxAge().AsDuration(); d > 0 {
		parts = append(parts, formatDuration(d))
	}
	if b := r.GetMaxBytes(); b > 0 {
		parts = append(parts, humanBytes(b))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// localTime prints a time for people, to the second.
func localTime(t time.Time) string { return t.Local().Format(time.RFC3339) }
