// Command silt runs the Silt server (`silt serve`) and the client commands
// people use at a terminal. See `silt --help`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/silt-io/silt/pkg/cli"
)

func main() { os.Exit(run()) }

// run runs the command line and returns the exit code, so that its
// deferred calls run before main exits.
func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cli.NewRoot(cli.StdIO()).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "silt:", err)
		return 1
	}
	return 0
}
