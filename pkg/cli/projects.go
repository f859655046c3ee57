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

// projectFields name ProjectService request fields by the argument or flag
// that sets them, for errors (inputError).
var projectFields = map[string]string{
	"project":                              "project name",
	"prefix":                               "--prefix",
	"settings.default_retention.max_age":   "--retention-age",
	"settings.default_retention.max_bytes": "--retention-bytes",
	"settings.allowed_cors_origins":        "--cors-origin",
}

// projectError is err of a ProjectService call, its fields named as the
// person gave them.
func projectError(err error) error { return &inputError{err: err, flags: projectFields} }

// newProjectsCommand is `silt projects list|create|get|update|delete`.
func newProjectsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "projects", Short: "Manage projects, the tenants streams live in"}
	cmd.AddCommand(newProjectsListCommand(), newProjectsCreateCommand(), newProjectsGetCommand(),
		newProjectsUpdateCommand(), newProjectsDeleteCommand())
	return cmd
}

func newProjectsListCommand() *cobra.Command {
	var c clientFlags
	var prefix string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the projects, created explicitly or by their first stream",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			if !c.json {
				fmt.Fprintln(tw, "PROJECT\tSTREAMS\tAUTO-CREATE\tDEFAULT RETENTION\tCREATED")
			}
			token := ""
			for {
				res, err := c.projects().ListProjects(cmd.Context(), connect.NewRequest(&siltv1.ListProjectsRequest{Prefix: prefix, PageToken: token}))
				if err != nil {
					return projectError(err)
				}
				for _, p := range res.Msg.GetProjects() {
					if c.json {
						if err := printJSON(out, p); err != nil {
							return err
						}
						continue
					}
					fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", p.GetName(), p.GetStreamCount(), autoCreate(p.GetSettings()),
						retention(p.GetSettings().GetDefaultRetention()), localTime(p.GetCreateTime().AsTime()))
				}
				if token = res.Msg.GetNextPageToken(); token == "" {
					return tw.Flush()
				}
			}
		},
	}
	c.registerServer(cmd)
	cmd.Flags().StringVar(&prefix, "prefix", "", "only projects whose name starts with this")
	return cmd
}

// projectSettingsFlags are the project settings `projects create` and
// `projects update` take.
type projectSettingsFlags struct {
	autoCreate    string
	maxAge        time.Duration
	maxBytes      uint64
	corsOrigins   []string
	appendEvents  uint64
	appendBytes   uint64
	subscriptions uint32
	queries       uint32
}

// projectSettingFlags maps each flag to its update-mask path.
var projectSettingFlags = map[string]string{
	"auto-create":         "auto_create_streams",
	"retention-age":       "default_retention.max_age",
	"retention-bytes":     "default_retention.max_bytes",
	"cors-origin":         "allowed_cors_origins",
	"quota-append-events": "quotas.append_events_per_second",
	"quota-append-bytes":  "quotas.append_bytes_per_second",
	"quota-subscriptions": "quotas.max_concurrent_subscriptions",
	"quota-queries":       "quotas.max_concurrent_queries",
}

func (s *projectSettingsFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&s.autoCreate, "auto-create", "server", "whether appends create missing streams: true, false, or server (the server's --auto-create)")
	f.DurationVar(&s.maxAge, "retention-age", 0, "default retention of new streams: drop events older than this, e.g. 720h (0: no age limit)")
	f.Uint64Var(&s.maxBytes, "retention-bytes", 0, "default retention of new streams: drop the oldest events past this many bytes (0: no size limit)")
	f.StringSliceVar(&s.corsOrigins, "cors-origin", nil, "browser origin allowed to call the API, e.g. https://app.example.com (repeatable; stored, not enforced yet)")
	f.Uint64Var(&s.appendEvents, "quota-append-events", 0, "appended events per second (0: no limit; stored, not enforced yet)")
	f.Uint64Var(&s.appendBytes, "quota-append-bytes", 0, "appended bytes per second (0: no limit; stored, not enforced yet)")
	f.Uint32Var(&s.subscriptions, "quota-subscriptions", 0, "concurrent subscriptions (0: no limit)")
	f.Uint32Var(&s.queries, "quota-queries", 0, "concurrent queries (0: no limit)")
}

// settings is the ProjectSettings the flags give.
func (s *projectSettingsFlags) settings() (*siltv1.ProjectSettings, error) {
	if s.maxAge < 0 {
		return nil, fmt.Errorf("--retention-age %v: must not be negative", s.maxAge)
	}
	out := &siltv1.ProjectSettings{
		AllowedCorsOrigins: s.corsOrigins,
		Quotas: &siltv1.ProjectQuotas{
			AppendEventsPerSecond: s.appendEvents, AppendBytesPerSecond: s.appendBytes,
			MaxConcurrentSubscriptions: s.subscriptions, MaxConcurrentQueries: s.queries,
		},
	}
	switch s.autoCreate {
	case "true":
		out.AutoCreateStreams = new(true)
	case "false":
		out.AutoCreateStreams = new(false)
	case "server":
	default:
		return nil, fmt.Errorf("--auto-create %q: must be true, false or server", s.autoCreate)
	}
	if s.maxAge > 0 || s.maxBytes > 0 {
		out.DefaultRetention = &siltv1.RetentionPolicy{MaxBytes: s.maxBytes}
		if s.maxAge > 0 {
			out.DefaultRetention.MaxAge = durationpb.New(s.maxAge)
		}
	}
	return out, nil
}

func newProjectsCreateCommand() *cobra.Command {
	var c clientFlags
	var s projectSettingsFlags
	cmd := &cobra.Command{
		Use:     "create PROJECT",
		Short:   "Create a project",
		Example: `  silt projects create acme --auto-create false --retention-age 720h`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			settings, err := s.settings()
			if err != nil {
				return err
			}
			res, err := c.projects().CreateProject(cmd.Context(), connect.NewRequest(&siltv1.CreateProjectRequest{Project: args[0], Settings: settings}))
			if err != nil {
				return projectError(err)
			}
			return c.printProject(cmd, res.Msg.GetProject())
		},
	}
	c.registerServer(cmd)
	s.register(cmd)
	return cmd
}

func newProjectsUpdateCommand() *cobra.Command {
	var c clientFlags
	var s projectSettingsFlags
	cmd := &cobra.Command{
		Use:   "update PROJECT",
		Short: "Change a project's settings: only those given as flags",
		Long: `Change a project's settings. Only the settings given as flags change;
--retention-age 0 and --retention-bytes 0 remove that limit, --auto-create server
leaves the choice to the server. Streams keep the retention they were created with.`,
		Example: `  silt projects update acme --auto-create true
  silt projects update acme --cors-origin https://app.example.com --quota-queries 4`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			settings, err := s.settings()
			if err != nil {
				return err
			}
			mask := &fieldmaskpb.FieldMask{}
			for flag, path := range projectSettingFlags {
				if cmd.Flags().Changed(flag) {
					mask.Paths = append(mask.Paths, path)
				}
			}
			if len(mask.Paths) == 0 {
				return errors.New("nothing to change: give a setting flag (see silt projects update --help)")
			}
			if settings.DefaultRetention == nil {
				settings.DefaultRetention = &siltv1.RetentionPolicy{} // clears the limits the mask names
			}
			res, err := c.projects().UpdateProject(cmd.Context(), connect.NewRequest(&siltv1.UpdateProjectRequest{
				Project: args[0], Settings: settings, UpdateMask: mask,
			}))
			if err != nil {
				return projectError(err)
			}
			return c.printProject(cmd, res.Msg.GetProject())
		},
	}
	c.registerServer(cmd)
	s.register(cmd)
	return cmd
}

func newProjectsGetCommand() *cobra.Command {
	var c clientFlags
	cmd := &cobra.Command{
		Use:   "get PROJECT",
		Short: "Describe a project",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := c.projects().GetProject(cmd.Context(), connect.NewRequest(&siltv1.GetProjectRequest{Project: args[0]}))
			if err != nil {
				return projectError(err)
			}
			return c.printProject(cmd, res.Msg.GetProject())
		},
	}
	c.registerServer(cmd)
	return cmd
}

func newProjectsDeleteCommand() *cobra.Command {
	var c clientFlags
	cmd := &cobra.Command{
		Use:   "delete PROJECT",
		Short: "Delete a project with all its streams and events, from both tiers",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := c.projects().DeleteProject(cmd.Context(), connect.NewRequest(&siltv1.DeleteProjectRequest{Project: args[0]})); err != nil {
				return projectError(err)
			}
			if c.json {
				_, err := cmd.OutOrStdout().Write([]byte("{}\n"))
				return err
			}
			_, err := cmd.OutOrStdout().Write([]byte("deleted project " + args[0] + "\n"))
			return err
		},
	}
	c.registerServer(cmd)
	return cmd
}

// printProject prints a project as JSON or for people.
func (c *clientFlags) printProject(cmd *cobra.Command, p *siltv1.Project) error {
	if c.json {
		return printJSON(cmd.OutOrStdout(), p)
	}
	return describeProject(cmd.OutOrStdout(), p)
}

// describeProject writes one project's description for people, a field a line.
func describeProject(w io.Writer, p *siltv1.Project) error {
	s := p.GetSettings()
	q := s.GetQuotas()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "project\t%s\n", p.GetName())
	fmt.Fprintf(tw, "streams\t%d\n", p.GetStreamCount())
	fmt.Fprintf(tw, "auto-create\t%s\n", autoCreate(s))
	fmt.Fprintf(tw, "default retention\t%s\n", retention(s.GetDefaultRetention()))
	origins := "none"
	if o := s.GetAllowedCorsOrigins(); len(o) > 0 {
		origins = strings.Join(o, ", ")
	}
	fmt.Fprintf(tw, "cors origins\t%s\n", origins)
	fmt.Fprintf(tw, "quotas\t%s events/s, %s/s appended; %s subscriptions, %s queries (not enforced yet)\n",
		limit(q.GetAppendEventsPerSecond()), limitBytes(q.GetAppendBytesPerSecond()),
		limit(uint64(q.GetMaxConcurrentSubscriptions())), limit(uint64(q.GetMaxConcurrentQueries())))
	fmt.Fprintf(tw, "created\t%s\n", localTime(p.GetCreateTime().AsTime()))
	if u := p.GetUpdateTime(); u != nil && !u.AsTime().Equal(p.GetCreateTime().AsTime()) {
		fmt.Fprintf(tw, "updated\t%s\n", localTime(u.AsTime()))
	}
	return tw.Flush()
}

// autoCreate describes a project's auto-create setting.
func autoCreate(s *siltv1.ProjectSettings) string {
	if s.AutoCreateStreams == nil {
		return "server"
	}
	if s.GetAutoCreateStreams() {
		return "true"
	}
	return "false"
}

// limit is a quota for people: "any" for 0.
func limit(n uint64) string {
	if n == 0 {
		return "any"
	}
	return fmt.Sprint(n)
}

// limitBytes is a byte quota for people: "any" for 0.
func limitBytes(n uint64) string {
	if n == 0 {
		return "any"
	}
	return humanBytes(n)
}
