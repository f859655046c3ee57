package cli_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/silt-io/silt/pkg/cli"
)

// ndjsonLines is n events, one a line.
func ndjsonLines(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"type":"bulk","attributes":{"i":"%d"},"data":{"i":%d}}`+"\n", i, i)
	}
	return b.String()
}

// summaryLine is the one line `silt append` prints after reading stdin.
var summaryLine = regexp.MustCompile(`^appended 2500 events to acme/s \(seq 1\.\.2500\) in 3 requests, [0-9.]+m?s, [0-9]+ events/s\n$`)

// TestCLI_Append_SummaryWithoutTerminal: stdin in batches, stderr not a
// terminal: one summary line on stderr, nothing on stdout.
func TestCLI_Append_SummaryWithoutTerminal(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	out, errOut, err := runWithStderr(t, t.Context(), ndjsonLines(2500), "append", "s", "--server", url, "-p", "acme", "--batch", "1000")
	if err != nil {
		t.Fatal(err)
	}
	if out != "" || !summaryLine.MatchString(errOut) {
		t.Fatalf("stdout %q, stderr %q; want nothing, then %v", out, errOut, summaryLine)
	}
}

// TestCLI_Append_ProgressOnTerminal: with stderr a terminal, append shows a
// progress bar with the rate while it works, then clears it for the
// summary: a spinner counting events for a pipe, a bar of bytes with a
// percentage for a file.
func TestCLI_Append_ProgressOnTerminal(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	input := ndjsonLines(2500)
	file := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(file, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		stdin  func(t *testing.T) io.Reader
		stream string
		want   []string // in the bar, before the summary
	}{
		{"pipe", func(*testing.T) io.Reader { return strings.NewReader(input) }, "s", []string{"appending", "events/s"}},
		{"file", func(t *testing.T) io.Reader {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = f.Close() })
			return f
		}, "f", []string{"appending", "%", "B/s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tty, screen := openTerminal(t)
			var out bytes.Buffer
			root := cli.NewRoot(cli.IO{In: tc.stdin(t), Out: &out, Err: tty})
			root.SetArgs([]string{"append", tc.stream, "--server", url, "-p", "acme", "--batch", "1000"})
			if err := root.ExecuteContext(t.Context()); err != nil {
				t.Fatal(err)
			}
			shown := screen()
			if out.Len() != 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
			summary := "appended 2500 events to acme/" + tc.stream + " (seq 1..2500) in 3 requests, "
			at := strings.LastIndex(shown, summary)
			if at < 0 || !strings.HasSuffix(shown, " events/s\r\n") {
				t.Fatalf("terminal shows %q; want it to end with the summary", shown)
			}
			for _, w := range tc.want {
				if !strings.Contains(shown[:at], w) {
					t.Errorf("the bar before the summary does not show %q: %q", w, shown[:at])
				}
			}
			if !strings.HasSuffix(strings.TrimRight(shown[:at], " "), "\r") {
				t.Errorf("the bar is not cleared before the summary: %q", shown[:at])
			}
		})
	}
}

// openTerminal opens a pseudo-terminal: tty is its terminal end, and
// screen returns what was written to it so far (after a moment for the
// terminal to pass it on).
func openTerminal(t *testing.T) (tty *os.File, screen func() string) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	master := os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { _ = master.Close() })
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tty.Close() })
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 120}); err != nil {
		t.Fatal(err)
	}
	var shown safeBuffer
	go func() { _, _ = io.Copy(&shown, master) }()
	return tty, func() string {
		last, stable := "", 0
		for stable < 5 { // until nothing new for 50 ms
			time.Sleep(10 * time.Millisecond)
			if now := shown.String(); now == last {
				stable++
			} else {
				last, stable = now, 0
			}
		}
		return last
	}
}

// TestCLI_Append_SplitsLargeBatches: a batch of large events is cut into
// requests under the server's 4 MiB cap instead of failing.
func TestCLI_Append_SplitsLargeBatches(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	var in strings.Builder
	big := strings.Repeat("x", 500<<10)
	for i := range 12 {
		fmt.Fprintf(&in, `{"type":"big","data":{"i":%d,"pad":%q}}`+"\n", i, big)
	}
	_, errOut, err := runWithStderr(t, t.Context(), in.String(), "append", "s", "--server", url, "-p", "acme")
	if err != nil || !strings.HasPrefix(errOut, "appended 12 events to acme/s (seq 1..12) in 2 requests, ") {
		t.Fatalf("12 events of 500 KiB: %q %v", errOut, err)
	}
}
