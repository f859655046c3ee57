package server_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/server"
)

// fullProjectSettings sets every project setting.
func fullProjectSettings() *siltv1.ProjectSettings {
	return &siltv1.ProjectSettings{
		AutoCreateStreams:  proto.Bool(false),
		DefaultRetention:   &siltv1.RetentionPolicy{MaxAge: durationpb.New(48 * time.Hour), MaxBytes: 1 << 30},
		AllowedCorsOrigins: []string{"https://app.example.com", "http://localhost:5173"},
		Quotas:             &siltv1.ProjectQuotas{AppendEventsPerSecond: 1000, AppendBytesPerSecond: 1 << 20, MaxConcurrentSubscriptions: 10, MaxConcurrentQueries: 2},
	}
}

func getProject(t *testing.T, c clients, name string) (*siltv1.Project, error) {
	t.Helper()
	res, err := c.projects.GetProject(testContext(t), connect.NewRequest(&siltv1.GetProjectRequest{Project: name}))
	if err != nil {
		return nil, err
	}
	return res.Msg.GetProject(), nil
}

func listProjects(t *testing.T, c clients, req *siltv1.ListProjectsRequest) ([]string, string) {
	t.Helper()
	res, err := c.projects.ListProjects(testContext(t), connect.NewRequest(req))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range res.Msg.GetProjects() {
		names = append(names, p.GetName())
	}
	return names, res.Msg.GetNextPageToken()
}

func TestAPI_Projects_Lifecycle(t *testing.T) {
	t.Parallel()
	forEachProtocol(t, func(t *testing.T, c clients) {
		ctx := testContext(t)
		name := "lc-" + c.protocol
		created, err := c.projects.CreateProject(ctx, connect.NewRequest(&siltv1.CreateProjectRequest{Project: name, Settings: fullProjectSettings()}))
		if err != nil {
			t.Fatal(err)
		}
		p := created.Msg.GetProject()
		if p.GetName() != name || !proto.Equal(p.GetSettings(), fullProjectSettings()) || p.GetStreamCount() != 0 || p.GetCreateTime() == nil {
			t.Fatalf("created %v", p)
		}
		_, err = c.projects.CreateProject(ctx, connect.NewRequest(&siltv1.CreateProjectRequest{Project: name}))
		requireCode(t, err, connect.CodeAlreadyExists)
		_, err = c.projects.CreateProject(ctx, connect.NewRequest(&siltv1.CreateProjectRequest{Project: "Bad_Name"}))
		requireCode(t, err, connect.CodeInvalidArgument)
		_, err = c.projects.CreateProject(ctx, connect.NewRequest(&siltv1.CreateProjectRequest{Project: name + "-x", Settings: &siltv1.ProjectSettings{AllowedCorsOrigins: []string{"not an origin"}}}))
		requireCode(t, err, connect.CodeInvalidArgument)

		// Streams count, and a stream makes its project exist implicitly.
		if _, err := c.streams.CreateStream(ctx, connect.NewRequest(&siltv1.CreateStreamRequest{Project: name, Stream: "s"})); err != nil {
			t.Fatal(err)
		}
		implicit := name + "-implicit"
		if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: implicit, Stream: "s", Events: numbered(t, 0, 1)})); err != nil {
			t.Fatal(err)
		}
		got, err := getProject(t, c, name)
		if err != nil || got.GetStreamCount() != 1 || !proto.Equal(got.GetSettings(), fullProjectSettings()) {
			t.Fatalf("got %v, %v", got, err)
		}
		imp, err := getProject(t, c, implicit)
		if err != nil || imp.GetStreamCount() != 1 || imp.GetSettings().AutoCreateStreams != nil || imp.GetSettings().GetDefaultRetention() != nil {
			t.Fatalf("implicit project %v, %v", imp, err)
		}
		_, err = getProject(t, c, name+"-missing")
		requireCode(t, err, connect.CodeNotFound)

		// Paging, by prefix.
		page, token := listProjects(t, c, &siltv1.ListProjectsRequest{Prefix: name, PageSize: 1})
		if len(page) != 1 || page[0] != name || token == "" {
			t.Fatalf("first page %v, token %q", page, token)
		}
		page, token = listProjects(t, c, &siltv1.ListProjectsRequest{Prefix: name, PageSize: 1, PageToken: token})
		if len(page) != 1 || page[0] != implicit || token != "" {
			t.Fatalf("second page %v, token %q", page, token)
		}

		// Update with a mask changes only the named settings.
		upd, err := c.projects.UpdateProject(ctx, connect.NewRequest(&siltv1.UpdateProjectRequest{
			Project:    name,
			Settings:   &siltv1.ProjectSettings{AutoCreateStreams: proto.Bool(true), Quotas: &siltv1.ProjectQuotas{MaxConcurrentQueries: 9, AppendEventsPerSecond: 1}},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"auto_create_streams", "quotas.max_concurrent_queries"}},
		}))
		if err != nil {
			t.Fatal(err)
		}
		want := fullProjectSettings()
		want.AutoCreateStreams = proto.Bool(true)
		want.Quotas.MaxConcurrentQueries = 9
		if u := upd.Msg.GetProject(); !proto.Equal(u.GetSettings(), want) || !u.GetUpdateTime().AsTime().After(u.GetCreateTime().AsTime()) || u.GetStreamCount() != 1 {
			t.Fatalf("updated %v", u)
		}
		// Without a mask the settings are replaced.
		upd, err = c.projects.UpdateProject(ctx, connect.NewRequest(&siltv1.UpdateProjectRequest{Project: implicit, Settings: fullProjectSettings()}))
		if err != nil || !proto.Equal(upd.Msg.GetProject().GetSettings(), fullProjectSettings()) {
			t.Fatalf("replaced %v, %v", upd.Msg.GetProject(), err)
		}
		_, err = c.projects.UpdateProject(ctx, connect.NewRequest(&siltv1.UpdateProjectRequest{Project: name, Settings: &siltv1.ProjectSettings{}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"nope"}}}))
		requireCode(t, err, connect.CodeInvalidArgument)
		_, err = c.projects.UpdateProject(ctx, connect.NewRequest(&siltv1.UpdateProjectRequest{Project: name + "-missing", Settings: &siltv1.ProjectSettings{}}))
		requireCode(t, err, connect.CodeNotFound)

		// Delete removes it and its streams; a second delete is NotFound.
		if _, err := c.projects.DeleteProject(ctx, connect.NewRequest(&siltv1.DeleteProjectRequest{Project: name})); err != nil {
			t.Fatal(err)
		}
		_, err = getProject(t, c, name)
		requireCode(t, err, connect.CodeNotFound)
		_, err = c.streams.GetStream(ctx, connect.NewRequest(&siltv1.GetStreamRequest{Project: name, Stream: "s"}))
		requireCode(t, err, connect.CodeNotFound)
		if page, _ := listProjects(t, c, &siltv1.ListProjectsRequest{Prefix: name}); len(page) != 1 || page[0] != implicit {
			t.Fatalf("listed %v after the delete", page)
		}
		_, err = c.projects.DeleteProject(ctx, connect.NewRequest(&siltv1.DeleteProjectRequest{Project: name}))
		requireCode(t, err, connect.CodeNotFound)
	})
}

func TestAPI_Projects_SettingsTakeEffect(t *testing.T) {
	t.Parallel()
	forEachProtocol(t, func(t *testing.T, c clients) {
		ctx := testContext(t)
		off, ret := "off-"+c.protocol, "ret-"+c.protocol
		if _, err := c.projects.CreateProject(ctx, connect.NewRequest(&siltv1.CreateProjectRequest{Project: off, Settings: &siltv1.ProjectSettings{AutoCreateStreams: proto.Bool(false)}})); err != nil {
			t.Fatal(err)
		}
		if _, err := c.projects.CreateProject(ctx, connect.NewRequest(&siltv1.CreateProjectRequest{Project: ret, Settings: &siltv1.ProjectSettings{DefaultRetention: &siltv1.RetentionPolicy{MaxAge: durationpb.New(time.Hour)}}})); err != nil {
			t.Fatal(err)
		}
		// The server auto-creates (its default), the project does not: an
		// Append is NotFound, and so is a Subscribe, which does not wait.
		_, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: off, Stream: "s", Events: numbered(t, 0, 1)}))
		requireCode(t, err, connect.CodeNotFound)
		sub := subscribe(t, c, &siltv1.SubscribeRequest{Project: off, Stream: "s"})
		select {
		case <-sub.done:
		case <-time.After(30 * time.Second):
			t.Fatal("a Subscribe to a missing stream of a project that does not auto-create waited")
		}
		requireCode(t, sub.err, connect.CodeNotFound)
		if _, err := c.streams.CreateStream(ctx, connect.NewRequest(&siltv1.CreateStreamRequest{Project: off, Stream: "s"})); err != nil {
			t.Fatal(err)
		}
		if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: off, Stream: "s", Events: numbered(t, 0, 1)})); err != nil {
			t.Fatalf("append to an existing stream: %v", err)
		}
		// Default retention: an auto-created and an explicitly created
		// stream get it; one with its own keeps its own.
		if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: ret, Stream: "auto", Events: numbered(t, 0, 1)})); err != nil {
			t.Fatal(err)
		}
		if _, err := c.streams.CreateStream(ctx, connect.NewRequest(&siltv1.CreateStreamRequest{Project: ret, Stream: "explicit"})); err != nil {
			t.Fatal(err)
		}
		if _, err := c.streams.CreateStream(ctx, connect.NewRequest(&siltv1.CreateStreamRequest{Project: ret, Stream: "own", Settings: &siltv1.StreamSettings{Retention: &siltv1.RetentionPolicy{MaxBytes: 100}}})); err != nil {
			t.Fatal(err)
		}
		for stream, want := range map[string]*siltv1.RetentionPolicy{
			"auto": {MaxAge: durationpb.New(time.Hour)}, "explicit": {MaxAge: durationpb.New(time.Hour)}, "own": {MaxBytes: 100},
		} {
			res, err := c.streams.GetStream(ctx, connect.NewRequest(&siltv1.GetStreamRequest{Project: ret, Stream: stream}))
			if err != nil || !proto.Equal(res.Msg.GetStream().GetSettings().GetRetention(), want) {
				t.Errorf("%s: retention %v, %v; want %v", stream, res.Msg.GetStream().GetSettings().GetRetention(), err, want)
			}
		}
	})
}

// A project set to auto-create streams does so on a server that does not.
func TestAPI_Projects_AutoCreateOverridesServer(t *testing.T) {
	t.Parallel()
	ts := startServer(t, func(c *server.Config) { c.AutoCreate = false })
	c := ts.clients(protocols[0])
	ctx := testContext(t)
	if _, err := c.projects.CreateProject(ctx, connect.NewRequest(&siltv1.CreateProjectRequest{Project: "on", Settings: &siltv1.ProjectSettings{AutoCreateStreams: proto.Bool(true)}})); err != nil {
		t.Fatal(err)
	}
	if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: "on", Stream: "s", Events: numbered(t, 0, 1)})); err != nil {
		t.Fatalf("append in an auto-create project: %v", err)
	}
	_, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: "other", Stream: "s", Events: numbered(t, 0, 1)}))
	requireCode(t, err, connect.CodeNotFound)
	// A Subscribe to a stream the project will auto-create waits for it.
	sub := subscribe(t, c, &siltv1.SubscribeRequest{Project: "on", Stream: "later"})
	sub.waitFor(t, "caught up", func(s *subscription) bool { return len(s.caughtUp) == 1 })
}

func TestAPI_DeleteProject_RemovesBothTiers(t *testing.T) {
	t.Parallel()
	ts := startServer(t, noHistoryWork)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := ts.clients(p)
			ctx := testContext(t)
			name := "del-" + p.name
			for _, s := range []string{"a", "b"} {
				if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: name, Stream: s, Events: numbered(t, 0, 50)})); err != nil {
					t.Fatal(err)
				}
			}
			rot, err := adminClient(ts.url).Rotate(ctx, connect.NewRequest(&siltv1.RotateRequest{Project: name}))
			if err != nil || len(rot.Msg.GetSegments()) == 0 {
				t.Fatalf("rotate: %v, %v", rot.Msg.GetSegments(), err)
			}
			var files []string
			for _, seg := range rot.Msg.GetSegments() {
				files = append(files, filepath.Join(ts.dir, "segments", seg.GetPath()))
			}
			for _, f := range files {
				if _, err := os.Stat(f); err != nil {
					t.Fatalf("segment file: %v", err)
				}
			}
			// A hot tail, and a subscriber waiting past it.
			if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: name, Stream: "a", Events: numbered(t, 50, 5)})); err != nil {
				t.Fatal(err)
			}
			sub := subscribe(t, c, &siltv1.SubscribeRequest{Project: name, Stream: "a", Start: &siltv1.SubscribeRequest_FromSeq{FromSeq: 0}})
			sub.waitFor(t, "caught up", func(s *subscription) bool { return len(s.caughtUp) > 0 })

			if _, err := c.projects.DeleteProject(ctx, connect.NewRequest(&siltv1.DeleteProjectRequest{Project: name})); err != nil {
				t.Fatal(err)
			}
			select {
			case <-sub.done:
				requireCode(t, sub.err, connect.CodeNotFound)
			case <-time.After(30 * time.Second):
				t.Fatal("the subscriber of a deleted project's stream did not end")
			}
			for _, s := range []string{"a", "b"} {
				_, err := c.events.Read(ctx, connect.NewRequest(&siltv1.ReadRequest{Project: name, Stream: s}))
				requireCode(t, err, connect.CodeNotFound)
				_, err = queryClient(ts.url, p).Query(ctx, connect.NewRequest(&siltv1.QueryRequest{
					Project: name, Streams: []string{s},
					Aggregations: []*siltv1.Aggregation{{Function: siltv1.AggregateFunction_AGGREGATE_FUNCTION_COUNT}},
				}))
				requireCode(t, err, connect.CodeNotFound)
			}
			segs, err := adminClient(ts.url).ListSegments(ctx, connect.NewRequest(&siltv1.ListSegmentsRequest{Project: name}))
			if err != nil || len(segs.Msg.GetSegments()) != 0 {
				t.Fatalf("segments after the delete: %v, %v", segs.Msg.GetSegments(), err)
			}
			// The files go once the last reader released them (none is
			// left: the subscriber ended).
			deadline := time.Now().Add(30 * time.Second)
			for _, f := range files {
				for {
					_, err := os.Stat(f)
					if errors.Is(err, os.ErrNotExist) {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("segment file %s still there: %v", f, err)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		})
	}
}

func TestServer_Projects_SurviveRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ts := startServerIn(t, dir, noHistoryWork)
	c := ts.clients(protocols[0])
	ctx := testContext(t)
	created, err := c.projects.CreateProject(ctx, connect.NewRequest(&siltv1.CreateProjectRequest{Project: "kept", Settings: fullProjectSettings()}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: "implicit", Stream: "s", Events: numbered(t, 0, 1)})); err != nil {
		t.Fatal(err)
	}
	ts.stop(t)

	ts = startServerIn(t, dir, noHistoryWork)
	c = ts.clients(protocols[0])
	got, err := getProject(t, c, "kept")
	if err != nil || !proto.Equal(got, created.Msg.GetProject()) {
		t.Fatalf("after restart %v, %v; want %v", got, err, created.Msg.GetProject())
	}
	if names, _ := listProjects(t, c, &siltv1.ListProjectsRequest{}); len(names) != 2 || names[0] != "implicit" || names[1] != "kept" {
		t.Fatalf("listed %v after restart", names)
	}
	// The setting still takes effect.
	_, err = c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: "kept", Stream: "s", Events: numbered(t, 0, 1)}))
	requireCode(t, err, connect.CodeNotFound)
}

// TestAPI_Projects_SubscriptionQuota: a project's max_concurrent_subscriptions
// refuses the subscription past it with ResourceExhausted (QUOTA_EXCEEDED)
// while another project subscribes freely, and a subscription that ended
// frees its place.
func TestAPI_Projects_SubscriptionQuota(t *testing.T) {
	t.Parallel()
	forEachProtocol(t, func(t *testing.T, c clients) {
		ctx := testContext(t)
		limited := "quota-" + c.protocol
		if _, err := c.projects.CreateProject(ctx, connect.NewRequest(&siltv1.CreateProjectRequest{Project: limited,
			Settings: &siltv1.ProjectSettings{Quotas: &siltv1.ProjectQuotas{MaxConcurrentSubscriptions: 2}}})); err != nil {
			t.Fatal(err)
		}
		open := func(project string) *subscription {
			t.Helper()
			return subscribe(t, c, &siltv1.SubscribeRequest{Project: project, Stream: "s"})
		}
		first, second := open(limited), open(limited)
		for _, s := range []*subscription{first, second} {
			s.waitFor(t, "caught up", func(s *subscription) bool { return len(s.caughtUp) == 1 })
		}
		third := open(limited)
		select {
		case <-third.done:
		case <-time.After(30 * time.Second):
			t.Fatal("a third subscription within a quota of two was not refused")
		}
		requireCode(t, third.err, connect.CodeResourceExhausted)
		var ce *connect.Error
		if !errors.As(third.err, &ce) || errorInfo(t, ce).GetReason() != "QUOTA_EXCEEDED" {
			t.Errorf("refusal %v, want the reason QUOTA_EXCEEDED", third.err)
		}
		for range 3 { // another project is not limited
			open(project).waitFor(t, "caught up", func(s *subscription) bool { return len(s.caughtUp) == 1 })
		}
		first.cancel()
		<-first.done
		deadline := time.Now().Add(30 * time.Second)
		for {
			again := open(limited)
			ok := false
			select {
			case <-again.done:
			case <-time.After(200 * time.Millisecond):
				ok = true // still open: admitted
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after one of two subscriptions ended, a new one is still refused: %v", again.err)
			}
		}
	})
}
