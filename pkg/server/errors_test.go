package server_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/server"
)

// errorCase makes a server answer one error of the catalogue.
type errorCase struct {
	// prepare, when set, runs once before the calls.
	prepare func(t *testing.T)
	// call answers the error over protocol p, and names the server's data
	// directory, which the message must not.
	call func(t *testing.T, p protocol) (dir string, err error)
}

// TestServer_ErrorCatalogue makes a real server answer every error of the
// event catalogue through an RPC, over each protocol, and checks the code
// and ErrorInfo reason against the catalogue (which pkg/api's tests check
// against docs/api.md), and that the message names no server path.
func TestServer_ErrorCatalogue(t *testing.T) {
	t.Parallel()
	// A server whose history loop runs (for retention) but never rotates
	// by itself.
	ts := startServer(t, func(c *server.Config) {
		c.HistoryInterval = 20 * time.Millisecond
		c.RotateAfter, c.HotMaxBytes = 0, 0
	})
	c := ts.clients(protocols[0])
	ctx := testContext(t)
	appendTo := func(c clients, stream string, r *siltv1.AppendRequest) error {
		r.Project, r.Stream = project, stream
		if r.Events == nil {
			r.Events = numbered(t, 0, 1)
		}
		_, err := c.events.Append(ctx, connect.NewRequest(r))
		return err
	}
	count := []*siltv1.Aggregation{{Function: siltv1.AggregateFunction_AGGREGATE_FUNCTION_COUNT}}

	cases := map[*event.Error]errorCase{
		event.ErrInvalidArgument: {call: func(t *testing.T, p protocol) (string, error) {
			_, err := queryClient(ts.url, p).Query(ctx, connect.NewRequest(&siltv1.QueryRequest{Project: project,
				Aggregations: []*siltv1.Aggregation{{Function: siltv1.AggregateFunction_AGGREGATE_FUNCTION_SUM, Field: "colour"}}}))
			return ts.dir, err
		}},
		event.ErrAppendTooLarge: {call: func(t *testing.T, p protocol) (string, error) {
			// 1 MiB encoded, as the API allows; stored with the id the
			// server makes and the seq and ingest time, it is more.
			e := &siltv1.EventInput{Type: "t", ContentType: "application/octet-stream",
				Payload: &siltv1.EventInput_BinaryData{BinaryData: make([]byte, 1<<20)}}
			over := e.SizeVT() - 1<<20
			e.Payload = &siltv1.EventInput_BinaryData{BinaryData: make([]byte, 1<<20-over)}
			if e.SizeVT() != 1<<20 {
				t.Fatalf("event is %d bytes encoded, want 1 MiB", e.SizeVT())
			}
			return ts.dir, appendTo(ts.clients(p), "too-large", &siltv1.AppendRequest{Events: []*siltv1.EventInput{e}})
		}},
		event.ErrStreamNotFound: {call: func(t *testing.T, p protocol) (string, error) {
			_, err := ts.clients(p).streams.GetStream(ctx, connect.NewRequest(&siltv1.GetStreamRequest{Project: project, Stream: "missing"}))
			return ts.dir, err
		}},
		event.ErrStreamExists: {
			prepare: func(t *testing.T) {
				if err := appendTo(c, "exists", &siltv1.AppendRequest{}); err != nil {
					t.Fatal(err)
				}
			},
			call: func(t *testing.T, p protocol) (string, error) {
				_, err := ts.clients(p).streams.CreateStream(ctx, connect.NewRequest(&siltv1.CreateStreamRequest{Project: project, Stream: "exists"}))
				return ts.dir, err
			},
		},
		event.ErrLastSeqMismatch: {call: func(t *testing.T, p protocol) (string, error) {
			five := uint64(5)
			return ts.dir, appendTo(ts.clients(p), "last-seq", &siltv1.AppendRequest{ExpectedLastSeq: &five})
		}},
		event.ErrProducerFenced: {
			prepare: func(t *testing.T) {
				if err := appendTo(c, "fenced", &siltv1.AppendRequest{Producer: &siltv1.Producer{Id: "p", Epoch: 2}}); err != nil {
					t.Fatal(err)
				}
			},
			call: func(t *testing.T, p protocol) (string, error) {
				return ts.dir, appendTo(ts.clients(p), "fenced", &siltv1.AppendRequest{Producer: &siltv1.Producer{Id: "p", Epoch: 1}})
			},
		},
		event.ErrProducerSeqGap: {call: func(t *testing.T, p protocol) (string, error) {
			return ts.dir, appendTo(ts.clients(p), "gap", &siltv1.AppendRequest{Producer: &siltv1.Producer{Id: "p", Seq: 3}})
		}},
		event.ErrOutOfRange: {
			prepare: func(t *testing.T) { expireAll(t, c, "expired") },
			call: func(t *testing.T, p protocol) (string, error) {
				_, err := ts.clients(p).events.Read(ctx, connect.NewRequest(&siltv1.ReadRequest{Project: project, Stream: "expired", Start: &siltv1.ReadRequest_FromSeq{FromSeq: 2}}))
				return ts.dir, err
			},
		},
		event.ErrQuotaExceeded: {
			prepare: func(t *testing.T) {
				if _, err := c.projects.CreateProject(ctx, connect.NewRequest(&siltv1.CreateProjectRequest{Project: "quota",
					Settings: &siltv1.ProjectSettings{Quotas: &siltv1.ProjectQuotas{MaxConcurrentSubscriptions: 1}}})); err != nil {
					t.Fatal(err)
				}
				held := subscribe(t, c, &siltv1.SubscribeRequest{Project: "quota", Stream: "s"})
				held.waitFor(t, "caught up", func(s *subscription) bool { return len(s.caughtUp) == 1 })
			},
			call: func(t *testing.T, p protocol) (string, error) {
				stream, err := ts.clients(p).events.Subscribe(ctx, connect.NewRequest(&siltv1.SubscribeRequest{Project: "quota", Stream: "s"}))
				if err != nil {
					return ts.dir, err
				}
				defer stream.Close()
				for stream.Receive() {
				}
				return ts.dir, stream.Err()
			},
		},
		event.ErrResultTooLarge: {
			prepare: func(t *testing.T) {
				for from := 0; from <= 100_000; from += 10_000 {
					evs := make([]*siltv1.EventInput, 10_000)
					for i := range evs {
						evs[i] = &siltv1.EventInput{Type: "g", Payload: &siltv1.EventInput_BinaryData{BinaryData: []byte{1}}}
					}
					if err := appendTo(c, "groups", &siltv1.AppendRequest{Events: evs}); err != nil {
						t.Fatal(err)
					}
				}
			},
			call: func(t *testing.T, p protocol) (string, error) {
				_, err := queryClient(ts.url, p).Query(ctx, connect.NewRequest(&siltv1.QueryRequest{
					Project: project, Streams: []string{"groups"}, Aggregations: count,
					GroupBy: []*siltv1.GroupBy{{Kind: &siltv1.GroupBy_Field{Field: "id"}}},
				}))
				return ts.dir, err
			},
		},
		event.ErrDiskFull: {call: func(t *testing.T, p protocol) (string, error) {
			// A low-water mark no disk has room for.
			full := startServer(t, func(c *server.Config) { c.DiskLowWater = 1 << 60 })
			return full.dir, appendTo(full.clients(p), "full", &siltv1.AppendRequest{})
		}},
		event.ErrClosed: {call: func(t *testing.T, p protocol) (string, error) {
			stopping := startServer(t)
			sc := stopping.clients(p)
			if err := appendTo(sc, "s", &siltv1.AppendRequest{}); err != nil {
				t.Fatal(err)
			}
			sub := subscribe(t, sc, &siltv1.SubscribeRequest{Project: project, Stream: "s"})
			sub.waitFor(t, "caught up", func(s *subscription) bool { return len(s.caughtUp) > 0 })
			stopping.stop(t)
			select {
			case <-sub.done:
			case <-time.After(30 * time.Second):
				t.Fatal("subscription outlived the server")
			}
			return stopping.dir, sub.err
		}},
	}
	cases[event.ErrProjectNotFound] = errorCase{call: func(t *testing.T, p protocol) (string, error) {
		_, err := ts.clients(p).projects.GetProject(ctx, connect.NewRequest(&siltv1.GetProjectRequest{Project: "never-made"}))
		return ts.dir, err
	}}
	cases[event.ErrProjectExists] = errorCase{
		prepare: func(t *testing.T) {
			// Made implicitly, by its first stream.
			if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: "taken", Stream: "s", Events: numbered(t, 0, 1)})); err != nil {
				t.Fatal(err)
			}
		},
		call: func(t *testing.T, p protocol) (string, error) {
			_, err := ts.clients(p).projects.CreateProject(ctx, connect.NewRequest(&siltv1.CreateProjectRequest{Project: "taken"}))
			return ts.dir, err
		},
	}
	// Events rotated into one segment per project, then lost or damaged.
	dir := t.TempDir()
	history := startServerIn(t, dir, noHistoryWork)
	sealed := func(t *testing.T, proj string, damage func(file string) error) {
		hc := history.clients(protocols[0])
		if _, err := hc.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: proj, Stream: "s", Events: numbered(t, 0, 10)})); err != nil {
			t.Fatal(err)
		}
		if _, err := adminClient(history.url).Rotate(ctx, connect.NewRequest(&siltv1.RotateRequest{Project: proj})); err != nil {
			t.Fatal(err)
		}
		files, err := filepath.Glob(filepath.Join(dir, "segments", "project="+proj, "*", "*.parquet"))
		if err != nil || len(files) != 1 {
			t.Fatalf("segment files of %s: %v, %v", proj, files, err)
		}
		if err := damage(files[0]); err != nil {
			t.Fatal(err)
		}
	}
	readSealed := func(proj string) func(t *testing.T, p protocol) (string, error) {
		return func(t *testing.T, p protocol) (string, error) {
			_, err := history.clients(p).events.Read(ctx, connect.NewRequest(&siltv1.ReadRequest{Project: proj, Stream: "s"}))
			return dir, err
		}
	}
	cases[event.ErrMissingHistory] = errorCase{
		prepare: func(t *testing.T) { sealed(t, "lost", os.Remove) },
		call:    readSealed("lost"),
	}
	cases[event.ErrCorrupt] = errorCase{
		prepare: func(t *testing.T) {
			sealed(t, "damaged", func(file string) error {
				st, err := os.Stat(file)
				if err != nil {
					return err
				}
				return os.WriteFile(file, make([]byte, st.Size()), 0o644)
			})
		},
		call: readSealed("damaged"),
	}

	for _, e := range event.Catalogue() {
		tc, ok := cases[e]
		if !ok {
			t.Errorf("no RPC here answers %q: add one", e)
			continue
		}
		t.Run(strings.ReplaceAll(e.Error(), " ", "_"), func(t *testing.T) {
			if tc.prepare != nil {
				tc.prepare(t)
			}
			for _, p := range protocols {
				dir, err := tc.call(t, p)
				var ce *connect.Error
				if !errors.As(err, &ce) || ce.Code() != connect.Code(e.Code()) {
					t.Errorf("%s: %v, want %v", p.name, err, e.Code())
					continue
				}
				var info *errdetails.ErrorInfo
				for _, d := range ce.Details() {
					if v, err := d.Value(); err == nil {
						if i, ok := v.(*errdetails.ErrorInfo); ok {
							info = i
						}
					}
				}
				if info.GetReason() != e.Reason() {
					t.Errorf("%s: ErrorInfo %v, want reason %q", p.name, info, e.Reason())
				}
				if strings.Contains(ce.Message(), dir) {
					t.Errorf("%s: message names a server path: %s", p.name, ce.Message())
				}
				// An invalid argument's message names the field; a Subscribe
				// says the server is stopping.
				if e != event.ErrInvalidArgument && e != event.ErrClosed && !strings.Contains(ce.Message(), e.Error()) {
					t.Errorf("%s: message %q does not say %q", p.name, ce.Message(), e)
				}
			}
		})
	}
}
