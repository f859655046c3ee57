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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cli.NewRoot(cli.StdIO()).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "silt:", err)
		os.Exit(1)
	}
}
