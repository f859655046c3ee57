package server

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
)

// stallGuard ends a Subscribe whose client stopped reading: every write
// and flush of its response must finish within d, or the server drops the
// stream (a write deadline through http.ResponseController: HTTP/2 resets
// the stream, HTTP/1.1 closes the connection). A stalled subscriber
// therefore holds at most what the transport buffers (the HTTP/2 flow
// control window, the socket's buffers) plus one message, and only for d.
func stallGuard(h http.Handler, d time.Duration, onStall func(r *http.Request)) http.Handler {
	if d <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, siltv1connect.EventServiceSubscribeProcedure) {
			h.ServeHTTP(w, r)
			return
		}
		sw := &stallWriter{ResponseWriter: w, rc: http.NewResponseController(w), d: d}
		h.ServeHTTP(sw, r)
		if sw.stalled && onStall != nil {
			onStall(r)
		}
	})
}

// stallWriter arms a write deadline around each write and flush.
type stallWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	d       time.Duration
	stalled bool
}

func (w *stallWriter) arm()    { _ = w.rc.SetWriteDeadline(time.Now().Add(w.d)) }
func (w *stallWriter) disarm() { _ = w.rc.SetWriteDeadline(time.Time{}) }

// Write implements http.ResponseWriter.
func (w *stallWriter) Write(p []byte) (int, error) {
	start := time.Now()
	w.arm()
	n, err := w.ResponseWriter.Write(p)
	w.note(start, err)
	return n, err
}

// Flush implements http.Flusher.
func (w *stallWriter) Flush() {
	start := time.Now()
	w.arm()
	err := w.rc.Flush()
	w.note(start, err)
}

// note disarms the deadline and remembers a write that ran into it.
func (w *stallWriter) note(start time.Time, err error) {
	if err != nil && (errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) >= w.d) {
		w.stalled = true
		return
	}
	w.disarm()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *stallWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
