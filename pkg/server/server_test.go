package server_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

func TestServer_Restart_KeepsEverything(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ts := startServerIn(t, dir)
	c := ts.clients(protocols[0])
	ctx := testContext(t)
	for i := range 3 {
		if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{
			Project: project, Stream: "r", Events: numbered(t, i*10, 10), Producer: &siltv1.Producer{Id: "p", Epoch: 3, Seq: uint64(i)},
		})); err != nil {
			t.Fatal(err)
		}
	}
	before := readAll(t, c, "r")
	ts.stop(t)

	ts = startServerIn(t, dir)
	c = ts.clients(protocols[1])
	after := readAll(t, c, "r")
	if len(after) != 30 {
		t.Fatalf("after restart %d events, want 30", len(after))
	}
	for i := range after {
		if after[i].GetId() != before[i].GetId() || after[i].GetSeq() != before[i].GetSeq() ||
			!after[i].GetIngestTime().AsTime().Equal(before[i].GetIngestTime().AsTime()) {
			t.Fatalf("event %d changed across restart: %v vs %v", i, before[i], after[i])
		}
	}
	// Producer state survived: a retry is a duplicate; the next batch continues.
	dup, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{
		Project: project, Stream: "r", Events: numbered(t, 20, 10), Producer: &siltv1.Producer{Id: "p", Epoch: 3, Seq: 2},
	}))
	if err != nil || !dup.Msg.GetDuplicate() || dup.Msg.GetFirstSeq() != 21 {
		t.Fatalf("retry after restart: %v %v", dup, err)
	}
	next, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{
		Project: project, Stream: "r", Events: numbered(t, 30, 1), Producer: &siltv1.Producer{Id: "p", Epoch: 3, Seq: 3},
	}))
	if err != nil || next.Msg.GetFirstSeq() != 31 {
		t.Fatalf("append after restart: %v %v", next, err)
	}
	info, err := c.streams.GetStream(ctx, connect.NewRequest(&siltv1.GetStreamRequest{Project: project, Stream: "r"}))
	if err != nil || info.Msg.GetStream().GetEventCount() != 31 || info.Msg.GetStream().GetLastSeq() != 31 {
		t.Fatalf("stream after restart: %v %v", info, err)
	}
}

// TestServer_SIGTERM_FinishesInFlightAppends stops a server process with
// SIGTERM under load: it exits cleanly and every acknowledged event is kept.
func TestServer_SIGTERM_FinishesInFlightAppends(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	child := startChild(t, dir)
	c := (&testServer{url: child.url}).clients(protocols[0])
	var mu sync.Mutex
	acked := 0
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := c.events.Append(t.Context(), connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: "term", Events: numbered(t, 0, 20)}))
				if err != nil {
					return
				}
				mu.Lock()
				acked = max(acked, int(res.Msg.GetLastSeq()))
				mu.Unlock()
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	if err := child.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- child.cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("server exited with %v after SIGTERM, want a clean exit", err)
		}
	case <-time.After(30 * time.Second):
		_ = child.cmd.Process.Kill()
		t.Fatal("server did not stop within 30s of SIGTERM")
	}
	close(stop)
	wg.Wait()
	if acked == 0 {
		t.Fatal("no append was acknowledged before SIGTERM")
	}
	child = startChild(t, dir)
	defer child.kill(t)
	c = (&testServer{url: child.url}).clients(protocols[0])
	if got := readAll(t, c, "term"); len(got) < acked {
		t.Fatalf("after SIGTERM and restart %d events, but seq %d was acknowledged", len(got), acked)
	}
}

func TestServer_ReflectionHealthCORS(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	// Reflection is a bidi stream: HTTP/2 only, over gRPC and Connect.
	for _, opts := range [][]connect.ClientOption{{connect.WithGRPC()}, nil} {
		rc := grpcreflect.NewClient(h2cClient(), ts.url, opts...)
		stream := rc.NewStream(testContext(t))
		names, err := stream.ListServices()
		if err != nil {
			t.Fatal(err)
		}
		_, _ = stream.Close()
		got := make([]string, len(names))
		for i, n := range names {
			got[i] = string(n)
		}
		for _, want := range []string{"silt.v1.EventService", "silt.v1.StreamService"} {
			if !slices.Contains(got, want) {
				t.Fatalf("reflection lists %v, missing %s", got, want)
			}
		}
	}
	for _, path := range []string{"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, ts.url+path, strings.NewReader(""))
		req.Header.Set("Content-Type", "application/grpc-web+proto")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode == http.StatusNotFound {
			t.Fatalf("%s is not served", path)
		}
	}

	// gRPC health over the Connect protocol (JSON).
	body := post(t, ts.url+"/grpc.health.v1.Health/Check", `{"service":"silt.v1.EventService"}`, http.StatusOK)
	if !strings.Contains(body, `"SERVING_STATUS_SERVING"`) {
		t.Fatalf("health check said %s", body)
	}
	post(t, ts.url+"/grpc.health.v1.Health/Check", `{"service":"nope.Service"}`, http.StatusNotFound)

	// /healthz
	res, err := http.Get(ts.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK || string(b) != "ok\n" {
		t.Fatalf("/healthz: %d %q", res.StatusCode, b)
	}

	// A browser's preflight for a Connect streaming call from another origin
	// (browsers send the requested headers lowercase and sorted).
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodOptions, ts.url+"/silt.v1.EventService/Subscribe", nil)
	req.Header.Set("Origin", "http://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "connect-protocol-version,connect-timeout-ms,content-type")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "*" && got != "http://app.example" {
		t.Fatalf("preflight allowed origin %q (status %d)", got, res.StatusCode)
	}
	if h := strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(h, "connect-protocol-version") {
		t.Fatalf("preflight allowed headers %q", h)
	}
}

// post sends a Connect unary JSON request and checks the status.
func post(t *testing.T, url, body string, status int) string {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		t.Fatalf("POST %s: status %d (%s), want %d", url, res.StatusCode, b, status)
	}
	return string(b)
}
