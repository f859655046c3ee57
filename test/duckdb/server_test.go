package duckcheck

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/server"
)

// TestServer_RotatedEventsReadByDuckDB appends through a real server,
// rotates one project through the admin API, appends more, and requires
// DuckDB to find in the segment files exactly the rotated events, with the
// values the API returns for them.
func TestServer_RotatedEventsReadByDuckDB(t *testing.T) {
	url, dataDir := startServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	events := siltv1connect.NewEventServiceClient(http.DefaultClient, url)
	admin := siltv1connect.NewAdminServiceClient(http.DefaultClient, url)

	r := rand.New(rand.NewPCG(7, 8))
	appendSome := func(project, stream string, n int) {
		t.Helper()
		for sent := 0; sent < n; {
			var batch []*siltv1.EventInput
			for ; sent < n && len(batch) < 1+r.IntN(40); sent++ {
				batch = append(batch, toInput(genEvent(r, project, stream, 0, time.Now())))
			}
			if _, err := events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream, Events: batch})); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, s := range []string{"web/pageviews", "api/calls", "billing"} {
		appendSome("acme", s, 300+200*i)
	}
	appendSome("beta", "other", 100)
	rot, err := admin.Rotate(ctx, connect.NewRequest(&siltv1.RotateRequest{Project: "acme"}))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rot.Msg.GetSegments()); n != 1 {
		t.Fatalf("rotation wrote %d segments, want 1", n)
	}
	appendSome("acme", "billing", 50) // still hot: DuckDB must not see these

	// What the API returns for the rotated events.
	var want []event.Event
	for _, st := range rot.Msg.GetSegments()[0].GetStreams() {
		res, err := events.Read(ctx, connect.NewRequest(&siltv1.ReadRequest{
			Project: "acme", Stream: st.GetStream(), Start: &siltv1.ReadRequest_FromSeq{FromSeq: st.GetFirstSeq()},
			Limit: uint32(st.GetCount()), RawJson: true,
		}))
		if err != nil {
			t.Fatal(err)
		}
		if uint64(len(res.Msg.GetEvents())) != st.GetLastSeq()-st.GetFirstSeq()+1 {
			t.Fatalf("API read %d events of %s", len(res.Msg.GetEvents()), st.GetStream())
		}
		for _, e := range res.Msg.GetEvents() {
			want = append(want, fromProto(e))
		}
	}
	if len(want) != 1500 {
		t.Fatalf("rotated %d events, want 1500", len(want))
	}
	got, err := ReadEvents(ctx, filepath.Join(dataDir, "segments"))
	if err != nil {
		t.Fatal(err)
	}
	if err := Compare(want, got); err != nil {
		t.Fatalf("DuckDB and the API disagree: %v", err)
	}
}

// startServer runs a silt server on 127.0.0.1 with its data in a fresh
// t.TempDir() until the test ends, and returns its URL and data dir. It
// rotates only when AdminService.Rotate asks, so a test decides which
// events are in segments and which are hot.
func startServer(t *testing.T) (url, dataDir string) {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Sync = false
	cfg.RotateAfter, cfg.HotMaxBytes = 0, 0 // rotations only on demand
	cfg.HistoryInterval = -1                // no background compaction either
	cfg.Logger = slog.New(slog.DiscardHandler)
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Open(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(time.Minute):
			t.Error("server did not stop within a minute")
		}
	})
	return "http://" + srv.Addr(), cfg.DataDir
}

// apiType is the API's event type syntax (docs/api.md).
var apiType = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]*$`)

// toInput is the API form of a generated event. The API allows only ASCII
// types and identifier-like attribute keys, so the generator's non-ASCII
// types and Cyrillic key are replaced; values stay as they are.
func toInput(e event.Event) *siltv1.EventInput {
	if !apiType.MatchString(e.Type) {
		e.Type = "purchase.completed"
	}
	if v, ok := e.Attributes["ключ"]; ok {
		delete(e.Attributes, "ключ")
		e.Attributes["klyuch"] = v
	}
	in := &siltv1.EventInput{
		Id: e.ID, Type: e.Type, Source: optional(e.Source, e.HasSource()), Subject: optional(e.Subject, e.HasSubject()),
		Attributes: e.Attributes, Metrics: e.Metrics, ContentType: e.ContentType,
		Payload: &siltv1.EventInput_BinaryData{BinaryData: e.Data},
	}
	if !e.HasPayload() {
		in.Payload = nil
	}
	if !e.Time.IsZero() {
		in.Time = timestamppb.New(e.Time)
	}
	return in
}

// fromProto is the domain form of an event read with raw_json.
func fromProto(e *siltv1.Event) event.Event {
	out := event.Event{
		Project: e.GetProject(), Stream: e.GetStream(), Seq: e.GetSeq(), ID: e.GetId(),
		Type: e.GetType(), Source: e.GetSource(), Subject: e.GetSubject(),
		IngestTime: e.GetIngestTime().AsTime(), Attributes: e.GetAttributes(), Metrics: e.GetMetrics(),
		ContentType: e.GetContentType(), Data: e.GetBinaryData(),
	}
	if e.GetTime() != nil {
		out.Time = e.GetTime().AsTime()
	}
	if _, ok := e.GetPayload().(*siltv1.Event_Data); ok {
		panic(fmt.Sprintf("event %d came back as a JSON value despite raw_json", e.GetSeq()))
	}
	out.SetPresent(e.Source != nil, e.Subject != nil, e.GetPayload() != nil)
	return out
}

// optional is s as a proto3 optional string: nil unless present.
func optional(s string, present bool) *string {
	if !present {
		return nil
	}
	return &s
}
