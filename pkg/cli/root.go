// Package cli is the silt command line: `silt serve` and the client
// commands people use at a terminal (append, read, tail, query, streams,
// version). Errors are printed in words (errors.go). Every flag
// can also be set by a SILT_<FLAG> environment variable (dashes become
// underscores): --data is SILT_DATA, --server is SILT_SERVER.
package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// IO is where commands read and write.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// StdIO is the process's standard streams.
func StdIO() IO { return IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr} }

// NewRoot returns the silt command with all subcommands.
func NewRoot(stdio IO) *cobra.Command {
	root := &cobra.Command{
		Use:           "silt",
		Short:         "Silt: a self-hosted event stream service",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return applyEnv(cmd.Flags())
		},
	}
	root.SetIn(stdio.In)
	root.SetOut(stdio.Out)
	root.SetErr(stdio.Err)
	root.AddCommand(newServeCommand(), newAppendCommand(), newReadCommand(), newTailCommand(), newStreamsCommand(), newProjectsCommand(), newQueryCommand(),
		newRotateCommand(), newCompactCommand(), newSegmentsCommand(), newVersionCommand())
	root.Version = readVersion().String()
	root.SetVersionTemplate("{{.Version}}\n")
	humanizeErrors(root)
	return root
}

// applyEnv sets every flag the command line left alone from SILT_<FLAG>.
func applyEnv(flags *pflag.FlagSet) error {
	var err error
	flags.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		name := "SILT_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if serr := flags.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("environment %s=%q: %w", name, v, serr)
			}
		}
	})
	return err
}
