package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is what `silt version` and `silt --version` print, read from the
// build information the Go toolchain puts in every binary.
type version struct {
	// Version is the main module's version: a tag such as v1.2.0, a
	// pseudo-version, or "(devel)" for a build outside version control.
	Version string `json:"version"`
	// Revision and Time are the VCS commit the binary was built from
	// (empty when built with -buildvcs=false or outside a checkout).
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"`
	// Modified is true when the checkout had uncommitted changes.
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go"`
	Platform  string `json:"platform"`
}

// readVersion reads the running binary's version.
func readVersion() version {
	bi, _ := debug.ReadBuildInfo()
	return versionOf(bi)
}

// versionOf reads a version from build information (nil when the binary
// has none).
func versionOf(bi *debug.BuildInfo) version {
	v := version{Version: "(devel)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi == nil {
		return v
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		v.GoVersion = bi.GoVersion
	}
	goos, goarch := runtime.GOOS, runtime.GOARCH
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		case "GOOS":
			goos = s.Value
		case "GOARCH":
			goarch = s.Value
		}
	}
	v.Platform = goos + "/" + goarch
	return v
}

// String is the version for people, on one line:
// "silt v1.2.0 (revision 0123abcd…, 2026-12-01T10:00:00Z, modified) go1.26.0 linux/amd64".
func (v version) String() string {
	rev := "revision unknown"
	if v.Revision != "" {
		rev = "revision " + v.Revision
		if v.Time != "" {
			rev += ", " + v.Time
		}
		if v.Modified {
			rev += ", modified"
		}
	}
	return fmt.Sprintf("silt %s (%s) %s %s", v.Version, rev, v.GoVersion, v.Platform)
}

// newVersionCommand is `silt version`.
func newVersionCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print silt's version and the commit it was built from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printVersion(cmd.OutOrStdout(), readVersion(), asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func printVersion(w io.Writer, v version, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	_, err := fmt.Fprintln(w, v.String())
	return err
}
