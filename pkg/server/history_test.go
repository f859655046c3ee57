package server_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/server"
)

// expireAll creates stream with a one-byte size cap, appends three events
// and waits until retention has expired them all (first seq 4).
func expireAll(t *testing.T, c clients, stream string) {
	t.Helper()
	ctx := testContext(t)
	if _, err := c.streams.CreateStream(ctx, connect.NewRequest(&siltv1.CreateStreamRequest{
		Project: project, Stream: stream, Settings: &siltv1.StreamSettings{Retention: &siltv1.RetentionPolicy{MaxBytes: 1}},
	})); err != nil {
		t.Fatal(err)
	}
	if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: stream, Events: numbered(t, 0, 3)})); err != nil {
		t.Fatal(err)
	}
	waitFirstSeq(t, c, stream, 4)
}

// waitFirstSeq waits until GetStream reports first seq want.
func waitFirstSeq(t *testing.T, c clients, stream string, want uint64) *siltv1.Stream {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := c.streams.GetStream(testContext(t), connect.NewRequest(&siltv1.GetStreamRequest{Project: project, Stream: stream}))
		if err != nil {
			t.Fatal(err)
		}
		if res.Msg.GetStream().GetFirstSeq() == want {
			return res.Msg.GetStream()
		}
		if time.Now().After(deadline) {
			t.Fatalf("first seq of %s is %d after 20s, want %d", stream, res.Msg.GetStream().GetFirstSeq(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServer_HistoryRotationAndRetention drives the history tier through
// the API: events rotated into segments read back with the hot tail, and
// size retention moves the first seq, which GetStream reports and below
// which a Read is OutOfRange naming it.
func TestServer_HistoryRotationAndRetention(t *testing.T) {
	t.Parallel()
	ts := startServer(t, func(c *server.Config) {
		c.HistoryInterval = 20 * time.Millisecond
		c.RotateAfter, c.HotMaxBytes = 0, 0
	})
	c := ts.clients(protocols[0])
	admin := adminClient(ts.url)
	ctx := testContext(t)
	for range 4 {
		if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: "h", Events: numbered(t, 0, 25)})); err != nil {
			t.Fatal(err)
		}
		rot, err := admin.Rotate(ctx, connect.NewRequest(&siltv1.RotateRequest{Project: project}))
		if err != nil || len(rot.Msg.GetSegments()) != 1 || rot.Msg.GetSegments()[0].GetRows() != 25 {
			t.Fatalf("rotate: %v %v", rot, err)
		}
	}
	if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: "h", Events: numbered(t, 0, 10)})); err != nil {
		t.Fatal(err)
	}
	all := readAll(t, c, "h")
	if len(all) != 110 || all[0].GetSeq() != 1 || all[109].GetSeq() != 110 {
		t.Fatalf("read %d events across both tiers", len(all))
	}
	segs, err := admin.ListSegments(ctx, connect.NewRequest(&siltv1.ListSegmentsRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	var rows int64 // four rotations, maybe merged by now by the background compactor
	for _, sg := range segs.Msg.GetSegments() {
		rows += sg.GetRows()
	}
	if rows != 100 {
		t.Fatalf("segments hold %d rows, want 100: %v", rows, segs.Msg)
	}

	// Keep about 60 events' worth.
	info, err := c.streams.GetStream(ctx, connect.NewRequest(&siltv1.GetStreamRequest{Project: project, Stream: "h"}))
	if err != nil {
		t.Fatal(err)
	}
	keep := info.Msg.GetStream().GetBytes() * 60 / 110
	if _, err := c.streams.UpdateStream(ctx, connect.NewRequest(&siltv1.UpdateStreamRequest{
		Project: project, Stream: "h", Settings: &siltv1.StreamSettings{Retention: &siltv1.RetentionPolicy{MaxBytes: keep}},
	})); err != nil {
		t.Fatal(err)
	}
	st := waitFirstSeq(t, c, "h", 51)
	if st.GetEventCount() != 60 || st.GetBytes() > keep || st.GetLastSeq() != 110 {
		t.Fatalf("after retention: %+v (limit %d bytes)", st, keep)
	}
	_, err = c.events.Read(ctx, connect.NewRequest(&siltv1.ReadRequest{Project: project, Stream: "h", Start: &siltv1.ReadRequest_FromSeq{FromSeq: 20}}))
	ce := requireCode(t, err, connect.CodeOutOfRange)
	var first string
	for _, d := range ce.Details() {
		if v, err := d.Value(); err == nil {
			if info, ok := v.(*errdetails.ErrorInfo); ok {
				first = info.GetMetadata()["first_seq"]
			}
		}
	}
	if first != "51" {
		t.Fatalf("OutOfRange names first seq %q, want 51 (%v)", first, errors.Unwrap(ce))
	}
	rest := readAll(t, c, "h") // from the start: the retained events only
	if len(rest) != 60 || rest[0].GetSeq() != 51 {
		t.Fatalf("read from the start after retention: %d events from seq %d", len(rest), rest[0].GetSeq())
	}
	for i, e := range rest {
		if e.GetId() != all[50+i].GetId() || !e.GetIngestTime().AsTime().Equal(all[50+i].GetIngestTime().AsTime()) {
			t.Fatalf("event %d changed by retention", e.GetSeq())
		}
	}
}

// seqEvents are n events whose ids name the seqs they will get in a stream
// with one writer that is at seq from-1.
func seqEvents(from uint64, n int) []*siltv1.EventInput {
	out := make([]*siltv1.EventInput, n)
	for i := range out {
		seq := from + uint64(i)
		out[i] = &siltv1.EventInput{
			Id: fmt.Sprintf("n%d", seq), Type: "seq", ContentType: "application/json",
			Payload: &siltv1.EventInput_BinaryData{BinaryData: fmt.Appendf(nil, `{"seq":%d,"pad":"%s"}`, seq, strings.Repeat("x", 100))},
		}
	}
	return out
}

// TestServer_SubscribeFromSeqOneAcrossTiers subscribes from seq 1 to a
// stream whose first events are in segments and the rest in the hot tier,
// while appends, rotations and compactions go on, and requires every event
// once, in order, up to the live tail. 300,000 cold events; 10,000 in
// -short and under the race detector.
func TestServer_SubscribeFromSeqOneAcrossTiers(t *testing.T) {
	t.Parallel()
	cold := 300_000
	if testing.Short() || raceEnabled { // arrow-go under the race detector is slow
		cold = 10_000
	}
	ts := startServer(t, func(c *server.Config) {
		c.Sync = false
		c.HistoryInterval = -1 // no background work: the test drives it
		c.RotateAfter, c.HotMaxBytes = 0, 0
	})
	c := ts.clients(protocols[0])
	admin := adminClient(ts.url)
	ctx := heavyContext(t)
	next := uint64(1)
	appendBatch := func(n int) {
		t.Helper()
		res, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: "big", Events: seqEvents(next, n)}))
		if err != nil || res.Msg.GetFirstSeq() != next {
			t.Fatalf("append at %d: %v %v", next, res, err)
		}
		next += uint64(n)
	}
	if _, err := c.streams.CreateStream(ctx, connect.NewRequest(&siltv1.CreateStreamRequest{Project: project, Stream: "big"})); err != nil {
		t.Fatal(err)
	}
	for next <= uint64(cold) {
		appendBatch(1000)
	}
	if _, err := admin.Rotate(ctx, connect.NewRequest(&siltv1.RotateRequest{})); err != nil {
		t.Fatal(err)
	}
	appendBatch(5000) // a hot tail

	sub := subscribe(t, c, &siltv1.SubscribeRequest{Project: project, Stream: "big", Start: &siltv1.SubscribeRequest_FromSeq{FromSeq: 1}, RawJson: true})
	// Live appends, rotations and compactions while the subscriber catches up.
	for round := range 20 {
		appendBatch(500)
		if _, err := admin.Rotate(ctx, connect.NewRequest(&siltv1.RotateRequest{})); err != nil {
			t.Fatal(err)
		}
		if round%4 == 3 {
			if _, err := admin.Compact(ctx, connect.NewRequest(&siltv1.CompactRequest{})); err != nil {
				t.Fatal(err)
			}
		}
	}
	last := next - 1
	sub.waitFor(t, fmt.Sprintf("seq %d", last), func(s *subscription) bool {
		return len(s.events) > 0 && s.events[len(s.events)-1].GetSeq() >= last
	})
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if uint64(len(sub.events)) != last {
		t.Fatalf("received %d events, want %d", len(sub.events), last)
	}
	for i, e := range sub.events {
		seq := uint64(i + 1)
		if e.GetSeq() != seq || e.GetId() != fmt.Sprintf("n%d", seq) {
			t.Fatalf("event %d: seq %d id %s", i, e.GetSeq(), e.GetId())
		}
		pad := strings.Repeat("x", 100)
		got := string(e.GetBinaryData())
		if got != fmt.Sprintf(`{"seq":%d,"pad":"%s"}`, seq, pad) && got != fmt.Sprintf(`{"pad":"%s","seq":%d}`, pad, seq) {
			t.Fatalf("event %d carries %s", seq, got)
		}
	}
	t.Logf("%d events received in order across both tiers", last)
}
