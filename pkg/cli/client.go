package cli

import (
	"net/http"

	"github.com/spf13/cobra"

	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
)

// clientFlags are the flags every client command shares.
type clientFlags struct {
	server  string
	project string
	json    bool
}

func (c *clientFlags) register(cmd *cobra.Command) { c.registerWith(cmd, "default", "project") }

// registerWith registers the flags with another default and help for -p.
func (c *clientFlags) registerWith(cmd *cobra.Command, project, projectUsage string) {
	f := cmd.Flags()
	f.StringVar(&c.server, "server", "http://127.0.0.1:4437", "Silt server URL")
	f.StringVarP(&c.project, "project", "p", project, projectUsage)
	f.BoolVar(&c.json, "json", false, "print JSON (one object per line) for scripts")
}

func (c *clientFlags) events() siltv1connect.EventServiceClient {
	return siltv1connect.NewEventServiceClient(http.DefaultClient, c.server)
}

func (c *clientFlags) streams() siltv1connect.StreamServiceClient {
	return siltv1connect.NewStreamServiceClient(http.DefaultClient, c.server)
}

func (c *clientFlags) admin() siltv1connect.AdminServiceClient {
	return siltv1connect.NewAdminServiceClient(http.DefaultClient, c.server)
}
