package cli

import (
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows how far `silt append` got reading stdin: on a terminal a
// progress bar with the rate (by bytes when stdin is a file of known size,
// else a spinner counting events); elsewhere nothing, so that logs and
// pipes get only the summary line.
type progress struct {
	bar *progressbar.ProgressBar
	// bytes is true when the bar counts input bytes rather than events.
	bytes bool
}

// newProgress returns the progress display for w; size is the input's
// size in bytes, or -1 when unknown.
func newProgress(w io.Writer, size int64) *progress {
	if !isTerminal(w) {
		return &progress{}
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("appending"),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetElapsedTime(true),
	}
	if size > 0 {
		opts = append(opts, progressbar.OptionShowBytes(true), progressbar.OptionSetPredictTime(true), progressbar.OptionFullWidth())
		return &progress{bar: progressbar.NewOptions64(size, opts...), bytes: true}
	}
	opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("events"),
		progressbar.OptionSpinnerType(14),
		// Show the spinner at once. This also starts the bar's clock before
		// its spinner goroutine, which reads the start time without the
		// bar's lock (a data race otherwise).
		progressbar.OptionSetRenderBlankState(true))
	return &progress{bar: progressbar.NewOptions64(-1, opts...)}
}

// add counts one acknowledged request of events that took size bytes of
// input, and redraws the bar: once a request, so it needs no throttle.
func (p *progress) add(events int, size int64) {
	if p.bar == nil {
		return
	}
	if p.bytes {
		_ = p.bar.Add64(size)
		return
	}
	_ = p.bar.Add(events)
}

// finish removes the bar (and stops its spinner), leaving the line to
// the summary.
func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// inputSize is the size of r when it is a regular file, else -1.
func inputSize(r io.Reader) int64 {
	f, ok := r.(*os.File)
	if !ok {
		return -1
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return -1
	}
	return st.Size()
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
