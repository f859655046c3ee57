package server_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"

	"github.com/silt-io/silt/pkg/cli"
)

// TestMain lets the test binary double as the silt binary: with
// SILT_TEST_CHILD_ARGS set it runs those silt arguments and exits, which is
// how the crash tests run a real server in a child process they can SIGKILL.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("SILT_TEST_CHILD_ARGS"); ok {
		os.Exit(runChild(args))
	}
	os.Exit(m.Run())
}

// runChild runs the silt arguments args as cmd/silt does and returns the
// exit code, so that its deferred calls run before TestMain exits.
func runChild(args string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := cli.NewRoot(cli.StdIO())
	root.SetArgs(strings.Fields(args))
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "silt:", err)
		return 1
	}
	return 0
}
