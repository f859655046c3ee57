package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
	"github.com/silt-io/silt/pkg/api"
	"github.com/silt-io/silt/pkg/server"
)

// bigEvents appends n events of size bytes of binary data to stream.
func bigEvents(t *testing.T, c clients, stream string, n, size int) {
	t.Helper()
	for i := range n {
		data := bytes.Repeat([]byte{byte('a' + i%26)}, size)
		_, err := c.events.Append(testContext(t), connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream,
			Events: []*siltv1.EventInput{{Type: "blob", ContentType: "application/octet-stream", Payload: &siltv1.EventInput_BinaryData{BinaryData: data}}}}))
		if err != nil {
			t.Fatal(err)
		}
	}
}

// protoSize is what a page or batch of events weighs by event.Event.Size's
// count (the API's fields, near enough).
func protoSize(evs []*siltv1.Event) int {
	n := 0
	for _, e := range evs {
		n += len(e.GetProject()) + len(e.GetStream()) + len(e.GetId()) + len(e.GetType()) + len(e.GetSource()) + len(e.GetSubject()) +
			len(e.GetContentType()) + len(e.GetBinaryData()) + 3*8
	}
	return n
}

// TestServer_Read_CapsPageBytes: a Read that names no max_bytes stops at
// 4 MiB of events (limit 1,000 of 256 KiB events held 1.55 GB of server
// memory before), and paging on returns every event once.
func TestServer_Read_CapsPageBytes(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	c := ts.clients(protocols[0])
	const n, size = 40, 256 << 10
	bigEvents(t, c, "big", n, size)
	next, seen := uint64(1), 0
	for range n + 1 {
		res, err := c.events.Read(testContext(t), connect.NewRequest(&siltv1.ReadRequest{Project: project, Stream: "big",
			Start: &siltv1.ReadRequest_FromSeq{FromSeq: next}, Limit: 1000}))
		if err != nil {
			t.Fatal(err)
		}
		evs := res.Msg.GetEvents()
		if got := protoSize(evs); got > api.DefaultReadMaxBytes && len(evs) > 1 {
			t.Fatalf("a page of %d events holds %d bytes, over the default cap of %d", len(evs), got, api.DefaultReadMaxBytes)
		}
		if len(evs) == 0 || evs[0].GetSeq() != next {
			t.Fatalf("page from %d starts with %v", next, evs)
		}
		seen += len(evs)
		next = res.Msg.GetNextSeq()
		if next > res.Msg.GetLastSeq() {
			break
		}
	}
	if seen != n {
		t.Fatalf("paged through %d events, want %d", seen, n)
	}
}

// logSink keeps the messages of a server's log.
type logSink struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, string(p))
	return len(p), nil
}

// String is the log so far.
func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.msgs, "")
}

func (l *logSink) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// TestServer_Subscribe_BoundsBatchesAndDropsStalledClients: each
// Subscribe message stays within its byte cap, and a subscriber whose
// client stops reading is dropped once a write has waited for the stall
// timeout, instead of holding its backlog (one stalled subscriber of
// 256 KiB events held 1.75 GB before).
func TestServer_Subscribe_BoundsBatchesAndDropsStalledClients(t *testing.T) {
	t.Parallel()
	logs := &logSink{}
	ts := startServer(t, func(c *server.Config) {
		c.SubscriberStallTimeout = 500 * time.Millisecond
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	const n, size = 80, 256 << 10
	bigEvents(t, ts.clients(protocols[0]), "big", n, size)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := ts.clients(p)
			// A reader: every batch within 1 MiB (or one event), every event once.
			ctx, cancel := context.WithCancel(testContext(t))
			defer cancel()
			s, err := c.events.Subscribe(ctx, connect.NewRequest(&siltv1.SubscribeRequest{Project: project, Stream: "big"}))
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for got < n && s.Receive() {
				if b := s.Msg().GetBatch(); b != nil {
					if sz := protoSize(b.GetEvents()); sz > api.DefaultSubscribeBatchBytes && len(b.GetEvents()) > 1 {
						t.Fatalf("a batch of %d events holds %d bytes", len(b.GetEvents()), sz)
					}
					for _, e := range b.GetEvents() {
						got++
						if e.GetSeq() != uint64(got) {
							t.Fatalf("event %d has seq %d", got, e.GetSeq())
						}
					}
				}
			}
			if got != n {
				t.Fatalf("received %d events, want %d (%v)", got, n, s.Err())
			}
			cancel()
			_ = s.Close()
		})
	}
	// A client that sends a Subscribe and then reads nothing (over a raw
	// connection whose receive buffer is kept small before it connects:
	// loopback's would grow to 32 MiB): 20 MiB of backlog overflows every
	// buffer on the way, the server's write waits, and the stall timeout
	// drops it.
	dialer := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10) })
		return errors.Join(err, serr)
	}}
	conn, err := dialer.DialContext(testContext(t), "tcp", strings.TrimPrefix(ts.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := []byte(`{"project":"` + project + `","stream":"big"}`)
	env := append([]byte{0, 0, 0, 0, byte(len(body))}, body...)
	req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/connect+json\r\nConnect-Protocol-Version: 1\r\nContent-Length: %d\r\n\r\n",
		siltv1connect.EventServiceSubscribeProcedure, len(env))
	if _, err := conn.Write(append([]byte(req), env...)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !logs.has("subscriber disconnected") {
		if time.Now().After(deadline) {
			t.Fatal("the stalled subscriber was not dropped within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Reading now finds the stream cut short: the connection ends before
	// the 20 MiB of backlog.
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, _ := io.Copy(io.Discard, conn)
	if got >= n*size {
		t.Fatalf("the dropped subscriber still received %d bytes", got)
	}
}
