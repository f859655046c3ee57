package hot

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

func boolp(b bool) *bool { return &b }

// fullProjectSettings sets every project setting.
func fullProjectSettings() event.ProjectSettings {
	return event.ProjectSettings{
		AutoCreateStreams:        boolp(false),
		DefaultRetentionMaxAge:   36 * time.Hour,
		DefaultRetentionMaxBytes: 1 << 30,
		AllowedCORSOrigins:       []string{"https://a.example", "http://localhost:5173"},
		Quotas:                   event.ProjectQuotas{AppendEventsPerSecond: 1000, AppendBytesPerSecond: 1 << 20, MaxConcurrentSubscriptions: 50, MaxConcurrentQueries: 4},
	}
}

func projectNames(t *testing.T, s *Store, req event.ListProjectsRequest) string {
	t.Helper()
	infos, err := s.ListProjects(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, i := range infos {
		out = append(out, i.Name)
	}
	return strings.Join(out, " ")
}

func TestStore_Projects_CreateGetListUpdate(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := openStore(t, func(o *Options) { o.Now = clock.Now })
	ctx := t.Context()
	set := fullProjectSettings()
	info, err := s.CreateProject(ctx, "acme", set)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(info.Settings, set) || !info.CreateTime.Equal(clock.Now()) || info.StreamCount != 0 {
		t.Errorf("created %+v", info)
	}
	if _, err := s.CreateProject(ctx, "acme", event.ProjectSettings{}); !errors.Is(err, event.ErrProjectExists) {
		t.Fatalf("second create: %v, want ErrProjectExists", err)
	}
	// A stream's first creation makes its project exist, implicitly.
	mustCreate(t, s, "implicit", "a")
	mustAppend(t, s, event.AppendRequest{Project: "auto", Stream: "x", Events: record.Pack(jsonEvents(1, "t")...), AutoCreate: true})
	if _, err := s.CreateProject(ctx, "implicit", event.ProjectSettings{}); !errors.Is(err, event.ErrProjectExists) {
		t.Fatalf("create of an implicit project: %v, want ErrProjectExists", err)
	}
	mustCreate(t, s, "acme", "s1")
	mustCreate(t, s, "acme", "s2")
	got, err := s.GetProject(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if got.StreamCount != 2 || !reflect.DeepEqual(got.Settings, set) {
		t.Errorf("got %+v", got)
	}
	if imp, err := s.GetProject(ctx, "implicit"); err != nil || imp.StreamCount != 1 || !reflect.DeepEqual(imp.Settings, event.ProjectSettings{}) {
		t.Errorf("implicit project %+v, %v", imp, err)
	}
	if _, err := s.GetProject(ctx, "nope"); !errors.Is(err, event.ErrProjectNotFound) {
		t.Errorf("get missing: %v", err)
	}
	for _, c := range []struct {
		req  event.ListProjectsRequest
		want string
	}{
		{event.ListProjectsRequest{}, "acme auto implicit"},
		{event.ListProjectsRequest{Limit: 2}, "acme auto"},
		{event.ListProjectsRequest{After: "auto"}, "implicit"},
		{event.ListProjectsRequest{Prefix: "a"}, "acme auto"},
		{event.ListProjectsRequest{Prefix: "a", After: "acme"}, "auto"},
	} {
		if got := projectNames(t, s, c.req); got != c.want {
			t.Errorf("ListProjects(%+v) = %q, want %q", c.req, got, c.want)
		}
	}

	clock.Add(time.Minute)
	upd, err := s.UpdateProject(ctx, "implicit", set)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(upd.Settings, set) || !upd.UpdateTime.Equal(clock.Now()) || upd.CreateTime.Equal(upd.UpdateTime) || upd.StreamCount != 1 {
		t.Errorf("updated %+v", upd)
	}
	if _, err := s.UpdateProject(ctx, "nope", set); !errors.Is(err, event.ErrProjectNotFound) {
		t.Errorf("update missing: %v", err)
	}
}

func TestStore_Projects_SettingsTakeEffect(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	ctx := t.Context()
	app := func(project, stream string, serverAuto bool) error {
		_, err := s.Append(ctx, event.AppendRequest{Project: project, Stream: stream, Events: record.Pack(jsonEvents(1, "t")...), AutoCreate: serverAuto})
		return err
	}
	if _, err := s.CreateProject(ctx, "off", event.ProjectSettings{AutoCreateStreams: boolp(false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateProject(ctx, "on", event.ProjectSettings{AutoCreateStreams: boolp(true), DefaultRetentionMaxAge: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateProject(ctx, "unset", event.ProjectSettings{DefaultRetentionMaxBytes: 4096}); err != nil {
		t.Fatal(err)
	}
	if err := app("off", "x", true); !errors.Is(err, event.ErrStreamNotFound) {
		t.Errorf("append to a missing stream of an auto-create=false project: %v, want ErrStreamNotFound", err)
	}
	if err := app("on", "x", false); err != nil {
		t.Errorf("append to a missing stream of an auto-create=true project, server off: %v", err)
	}
	if err := app("unset", "x", false); !errors.Is(err, event.ErrStreamNotFound) {
		t.Errorf("unset, server off: %v, want ErrStreamNotFound", err)
	}
	if err := app("unset", "y", true); err != nil {
		t.Errorf("unset, server on: %v", err)
	}
	// Default retention: auto-created and explicitly created streams
	// without their own retention get it; one with its own keeps it.
	for _, c := range []struct {
		project, stream string
		age             time.Duration
		bytes           uint64
	}{{"on", "x", time.Hour, 0}, {"unset", "y", 0, 4096}} {
		info, err := s.GetStream(ctx, c.project, c.stream)
		if err != nil || info.Settings.RetentionMaxAge != c.age || info.Settings.RetentionMaxBytes != c.bytes {
			t.Errorf("%s/%s: %+v, %v; want retention %v/%d", c.project, c.stream, info.Settings, err, c.age, c.bytes)
		}
	}
	if info, err := s.CreateStream(ctx, "on", "explicit", event.StreamSettings{}); err != nil || info.Settings.RetentionMaxAge != time.Hour {
		t.Errorf("explicit stream without retention: %+v, %v", info.Settings, err)
	}
	if info, err := s.CreateStream(ctx, "on", "own", event.StreamSettings{RetentionMaxBytes: 10}); err != nil || info.Settings.RetentionMaxAge != 0 || info.Settings.RetentionMaxBytes != 10 {
		t.Errorf("explicit stream with its own retention: %+v, %v", info.Settings, err)
	}
	// An existing stream of an auto-create=false project takes appends.
	if _, err := s.CreateStream(ctx, "off", "made", event.StreamSettings{}); err != nil {
		t.Fatal(err)
	}
	if err := app("off", "made", true); err != nil {
		t.Errorf("append to an existing stream of an auto-create=false project: %v", err)
	}
}

func TestStore_Projects_DeleteSteps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openStoreIn(t, dir)
	ctx := t.Context()
	if err := s.MarkProjectDeleting(ctx, "nope"); !errors.Is(err, event.ErrProjectNotFound) {
		t.Fatalf("mark missing: %v, want ErrProjectNotFound", err)
	}
	mustCreate(t, s, "p", "a")
	mustCreate(t, s, "q", "a")
	if err := s.MarkProjectDeleting(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkProjectDeleting(ctx, "p"); err != nil {
		t.Fatalf("mark again (a retry): %v", err)
	}
	if _, err := s.GetProject(ctx, "p"); !errors.Is(err, event.ErrProjectNotFound) {
		t.Errorf("get while deleting: %v", err)
	}
	if got := projectNames(t, s, event.ListProjectsRequest{}); got != "q" {
		t.Errorf("listed %q while p is deleted", got)
	}
	if _, err := s.CreateStream(ctx, "p", "b", event.StreamSettings{}); !errors.Is(err, event.ErrProjectNotFound) {
		t.Errorf("create stream while deleting: %v", err)
	}
	if _, err := s.Append(ctx, event.AppendRequest{Project: "p", Stream: "c", Events: record.Pack(jsonEvents(1, "t")...), AutoCreate: true}); !errors.Is(err, event.ErrStreamNotFound) {
		t.Errorf("auto-create while deleting: %v", err)
	}
	if _, err := s.CreateProject(ctx, "p", event.ProjectSettings{}); !errors.Is(err, event.ErrProjectExists) {
		t.Errorf("create project while deleting: %v", err)
	}
	if _, err := s.UpdateProject(ctx, "p", event.ProjectSettings{}); !errors.Is(err, event.ErrProjectNotFound) {
		t.Errorf("update while deleting: %v", err)
	}
	if err := s.RemoveProject(ctx, "q"); err == nil {
		t.Error("removed a project that is not being deleted")
	}

	// The mark survives a restart, and lists the project for recovery.
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s = openStoreIn(t, dir)
	if got, err := s.DeletingProjects(ctx); err != nil || !reflect.DeepEqual(got, []string{"p"}) {
		t.Fatalf("DeletingProjects = %v, %v", got, err)
	}
	if _, err := s.GetProject(ctx, "p"); !errors.Is(err, event.ErrProjectNotFound) {
		t.Errorf("get after restart: %v", err)
	}
	if err := s.DeleteStream(ctx, "p", "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveProject(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveProject(ctx, "p"); err != nil {
		t.Fatalf("remove again: %v", err)
	}
	if got, err := s.DeletingProjects(ctx); err != nil || len(got) != 0 {
		t.Fatalf("DeletingProjects after remove = %v, %v", got, err)
	}
	if n := countKeys(t, s, projectKey("p")); n != 0 {
		t.Errorf("%d keys left of the removed project", n)
	}
	// The name is free again.
	if info, err := s.CreateProject(ctx, "p", event.ProjectSettings{}); err != nil || info.StreamCount != 0 {
		t.Errorf("create after delete: %+v, %v", info, err)
	}
}

func TestStore_Projects_SurviveRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openStoreIn(t, dir)
	ctx := t.Context()
	set := fullProjectSettings()
	want, err := s.CreateProject(ctx, "acme", set)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s = openStoreIn(t, dir)
	got, err := s.GetProject(ctx, "acme")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after restart %+v, %v; want %+v", got, err, want)
	}
	// The cache was rebuilt too: the setting still takes effect.
	if _, err := s.Append(ctx, event.AppendRequest{Project: "acme", Stream: "x", Events: record.Pack(jsonEvents(1, "t")...), AutoCreate: true}); !errors.Is(err, event.ErrStreamNotFound) {
		t.Errorf("append after restart: %v, want ErrStreamNotFound", err)
	}
}

// A data directory from before project records: its projects get records
// (default settings, the oldest stream's create time) at Open.
func TestStore_Open_AdoptsProjectsOfExistingStreams(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clock := newFakeClock()
	s := openStoreIn(t, dir, func(o *Options) { o.Now = clock.Now })
	ctx := t.Context()
	first := mustCreate(t, s, "old", "a")
	clock.Add(time.Hour)
	mustCreate(t, s, "old", "b")
	mustCreate(t, s, "other", "c")
	// Remove the records, as in a directory written before them.
	if err := s.db.Update(func(txn *badger.Txn) error {
		for _, p := range []string{"old", "other"} {
			if err := txn.Delete(projectKey(p)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	s = openStoreIn(t, dir, func(o *Options) { o.Now = clock.Now })
	if got := projectNames(t, s, event.ListProjectsRequest{}); got != "old other" {
		t.Fatalf("listed %q", got)
	}
	info, err := s.GetProject(ctx, "old")
	if err != nil || info.StreamCount != 2 || !info.CreateTime.Equal(first.CreateTime) {
		t.Errorf("adopted %+v, %v; want 2 streams, created %v", info, err, first.CreateTime)
	}
}

func TestProjectRecord_RoundTrip(t *testing.T) {
	t.Parallel()
	for _, set := range []event.ProjectSettings{{}, fullProjectSettings(), {AutoCreateStreams: boolp(true)}} {
		p := &projectState{name: "n", settings: set, createTime: time.Unix(5, 6).UTC(), updateTime: time.Unix(7, 8).UTC(), deleting: set.AutoCreateStreams != nil}
		got, err := decodeProject("n", encodeProject(p))
		if err != nil || !reflect.DeepEqual(got, p) {
			t.Errorf("round trip of %+v: %+v, %v", p, got, err)
		}
		if len(encodeProject(&projectState{createTime: time.Now(), updateTime: time.Now()})) > implicitProjectValueLen {
			t.Error("an implicit project's record is longer than implicitProjectValueLen")
		}
	}
	if _, err := decodeProject("n", []byte{9}); !errors.Is(err, errCorrupt) {
		t.Errorf("unknown version: %v", err)
	}
}
