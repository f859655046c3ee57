package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
)

// TestServer_SIGKILL_RotationProgressesUnderChurn: a backlog whose
// rotation takes longer than the server lives between kills still moves
// into segments, a bounded unit at a time, and every event stays readable
// once. A rotation used to be one all-or-nothing segment per project and
// day: killed each time before it finished, it never did (195 of 207
// rotations failed in one run).
func TestServer_SIGKILL_RotationProgressesUnderChurn(t *testing.T) {
	skipUnderRace(t)
	dir := t.TempDir()
	const events, batch = 20_000, 1000
	flags := []string{"--sync=false", "--rotate-after=0", "--hot-max-bytes=0", "--history-interval=-1s"}
	child := startChild(t, dir, flags...)
	c := siltv1connect.NewEventServiceClient(http.DefaultClient, child.url)
	for i := 0; i < events; i += batch {
		if _, err := c.Append(testContext(t), connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: "backlog", Events: padded(t, i, batch)})); err != nil {
			t.Fatal(err)
		}
	}
	child.kill(t)

	// Each life rotates in the background (everything is due at once: the
	// hot tier is over --hot-max-bytes) and is killed 400 ms in.
	churn := []string{flags[0], "--hot-max-bytes=1", "--history-interval=50ms", "--rotate-unit-bytes=1048576"}
	rotated := func(url string) int64 {
		res, err := adminClient(url).ListSegments(testContext(t), connect.NewRequest(&siltv1.ListSegmentsRequest{Project: project}))
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, s := range res.Msg.GetSegments() {
			n += s.GetRows()
		}
		return n
	}
	var last int64
	grew := 0
	for kill := 1; kill <= 30 && last < events; kill++ {
		child = startChild(t, dir, churn...)
		n := rotated(child.url)
		if n < last {
			t.Fatalf("kill %d: %d events in segments after the restart, %d before", kill, n, last)
		}
		if n > last {
			grew++
		}
		last = n
		time.Sleep(400 * time.Millisecond)
		child.kill(t)
	}
	t.Logf("%d of %d events rotated; the segments grew across %d restarts", last, events, grew)
	if grew < 2 {
		t.Fatalf("rotation made progress across only %d restarts", grew)
	}
	child = startChild(t, dir, "--sync=false")
	defer child.kill(t)
	if _, err := adminClient(child.url).Rotate(context.Background(), connect.NewRequest(&siltv1.RotateRequest{Project: project})); err != nil {
		t.Fatal(err)
	}
	checkAcked(t, clients{events: siltv1connect.NewEventServiceClient(http.DefaultClient, child.url)}, "backlog", events)
}
