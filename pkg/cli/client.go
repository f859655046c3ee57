package cli

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"sync"

	"github.com/spf13/cobra"

	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
)

// clientFlags are the flags every client command shares.
type clientFlags struct {
	server  string
	project string
	json    bool
	// tlsCA is a PEM file of certificate authorities to trust for an
	// https:// server, on top of the system's.
	tlsCA string
	// hc is the HTTP client of the command, made once from the flags.
	hc     *http.Client
	hcOnce sync.Once
}

func (c *clientFlags) register(cmd *cobra.Command) { c.registerWith(cmd, "default", "project") }

// registerWith registers the flags with another default and help for -p.
func (c *clientFlags) registerWith(cmd *cobra.Command, project, projectUsage string) {
	c.registerServer(cmd)
	cmd.Flags().StringVarP(&c.project, "project", "p", project, projectUsage)
}

// registerServer registers the flags that say how to reach the server,
// and --json.
func (c *clientFlags) registerServer(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.server, "server", "http://127.0.0.1:4437", "Silt server URL (https:// for a server with --tls-cert)")
	f.BoolVar(&c.json, "json", false, "print JSON (one object per line) for scripts")
	f.StringVar(&c.tlsCA, "tls-ca", "", "PEM file of certificate authorities to trust for an https:// server, besides the system's")
}

// httpClient is the HTTP client the command's RPCs use: the default one,
// or one that also trusts --tls-ca. A --tls-ca that cannot be read fails
// every request with the reason.
func (c *clientFlags) httpClient() *http.Client {
	c.hcOnce.Do(func() {
		c.hc = http.DefaultClient
		if c.tlsCA == "" {
			return
		}
		pool, err := caPool(c.tlsCA)
		if err != nil {
			c.hc = &http.Client{Transport: failingTransport{err}}
			return
		}
		t := http.DefaultTransport.(*http.Transport).Clone() // HTTP/2 through ALPN, as the default
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		c.hc = &http.Client{Transport: t}
	})
	return c.hc
}

// caPool is the system's certificate authorities and those in file.
func caPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read --tls-ca: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--tls-ca %s holds no PEM certificate", file)
	}
	return pool, nil
}

// failingTransport fails every request with err.
type failingTransport struct{ err error }

func (f failingTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, f.err }

func (c *clientFlags) events() siltv1connect.EventServiceClient {
	return siltv1connect.NewEventServiceClient(c.httpClient(), c.server)
}

func (c *clientFlags) streams() siltv1connect.StreamServiceClient {
	return siltv1connect.NewStreamServiceClient(c.httpClient(), c.server)
}

func (c *clientFlags) admin() siltv1connect.AdminServiceClient {
	return siltv1connect.NewAdminServiceClient(c.httpClient(), c.server)
}

func (c *clientFlags) query() siltv1connect.QueryServiceClient {
	return siltv1connect.NewQueryServiceClient(c.httpClient(), c.server)
}

func (c *clientFlags) projects() siltv1connect.ProjectServiceClient {
	return siltv1connect.NewProjectServiceClient(c.httpClient(), c.server)
}
