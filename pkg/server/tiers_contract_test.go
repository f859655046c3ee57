package server_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"connectrpc.com/connect"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/server"
)

// tierSituation is a state of one stream across the two tiers, and what
// every reader must see of it.
type tierSituation struct {
	name string
	// setup appends to stream "s" of ts (and may restart it: it returns the
	// server to read from) and returns the data of every seq appended.
	setup func(t *testing.T, dir string) (*testServer, map[uint64][]byte)
	// first..last is what a reader from first sees; lost, when set, is a
	// range inside it that every reader answers DataLoss for, having
	// returned the events before it: all of them (Read, Subscribe) or the
	// whole pages before the page that holds it (a Query listing).
	first, last uint64
	lost        [2]uint64
}

// appendRandom appends n random events to stream s in batches of 10 and
// records their data by seq.
func appendRandom(t *testing.T, c clients, n int, data map[uint64][]byte) {
	t.Helper()
	ctx := testContext(t)
	for n > 0 {
		evs, d := randomEvents(t, min(n, 10))
		res, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: "s", Events: evs}))
		if err != nil {
			t.Fatal(err)
		}
		for i := range d {
			data[res.Msg.GetFirstSeq()+uint64(i)] = d[i]
		}
		n -= len(evs)
	}
}

// rotate seals every hot event and wants want segments written.
func rotate(t *testing.T, ts *testServer, want int) {
	t.Helper()
	res, err := adminClient(ts.url).Rotate(testContext(t), connect.NewRequest(&siltv1.RotateRequest{Project: project}))
	if err != nil || len(res.Msg.GetSegments()) != want {
		t.Fatalf("rotate: %d segments, %v; want %d", len(res.Msg.GetSegments()), err, want)
	}
}

// sealedThenHot appends 100 events to stream s of a server on dir,
// rotates them into one segment, appends 10 more and stops the server; it
// returns the segment's file and the data of every seq.
func sealedThenHot(t *testing.T, dir string) (string, map[uint64][]byte) {
	t.Helper()
	ts := startServerIn(t, dir, noHistoryWork)
	c := ts.clients(protocols[0])
	data := map[uint64][]byte{}
	appendRandom(t, c, 100, data)
	rotate(t, ts, 1)
	appendRandom(t, c, 10, data)
	ts.stop(t)
	return onlySegmentFile(t, dir), data
}

// tierSituations are the states the contract runs Read, Subscribe and
// Query over.
var tierSituations = []tierSituation{
	{name: "hot only", first: 1, last: 100, setup: func(t *testing.T, dir string) (*testServer, map[uint64][]byte) {
		ts := startServerIn(t, dir, noHistoryWork)
		data := map[uint64][]byte{}
		appendRandom(t, ts.clients(protocols[0]), 100, data)
		return ts, data
	}},
	{name: "cold only", first: 1, last: 100, setup: func(t *testing.T, dir string) (*testServer, map[uint64][]byte) {
		ts := startServerIn(t, dir, noHistoryWork)
		data := map[uint64][]byte{}
		appendRandom(t, ts.clients(protocols[0]), 100, data)
		rotate(t, ts, 1)
		return ts, data
	}},
	{name: "both tiers", first: 1, last: 100, setup: func(t *testing.T, dir string) (*testServer, map[uint64][]byte) {
		ts := startServerIn(t, dir, noHistoryWork)
		c := ts.clients(protocols[0])
		data := map[uint64][]byte{}
		appendRandom(t, c, 60, data)
		rotate(t, ts, 1)
		appendRandom(t, c, 40, data)
		return ts, data
	}},
	{name: "rotating while read", first: 1, last: 100, setup: func(t *testing.T, dir string) (*testServer, map[uint64][]byte) {
		// Rotation runs every few milliseconds, in units of a few events,
		// while the readers read.
		ts := startServerIn(t, dir, func(c *server.Config) {
			c.HistoryInterval = 5 * time.Millisecond
			c.RotateAfter, c.HotMaxBytes = 0, 1
			c.RotateUnitBytes = 8 << 10
		})
		data := map[uint64][]byte{}
		appendRandom(t, ts.clients(protocols[0]), 100, data)
		return ts, data
	}},
	{name: "after compaction", first: 1, last: 100, setup: func(t *testing.T, dir string) (*testServer, map[uint64][]byte) {
		ts := startServerIn(t, dir, noHistoryWork)
		c := ts.clients(protocols[0])
		data := map[uint64][]byte{}
		for range 3 {
			appendRandom(t, c, 20, data)
			rotate(t, ts, 1)
		}
		appendRandom(t, c, 40, data)
		res, err := adminClient(ts.url).Compact(testContext(t), connect.NewRequest(&siltv1.CompactRequest{Project: project}))
		if err != nil || len(res.Msg.GetSegments()) != 1 {
			t.Fatalf("compact: %v, %v; want one merged segment", res, err)
		}
		return ts, data
	}},
	{name: "after retention", first: 4, last: 23, setup: func(t *testing.T, dir string) (*testServer, map[uint64][]byte) {
		ts := startServerIn(t, dir, func(c *server.Config) {
			c.HistoryInterval = 20 * time.Millisecond
			c.RotateAfter, c.HotMaxBytes = 0, 0
		})
		c := ts.clients(protocols[0])
		expireAll(t, c, "s") // seqs 1..3
		if _, err := c.streams.UpdateStream(testContext(t), connect.NewRequest(&siltv1.UpdateStreamRequest{
			Project: project, Stream: "s", Settings: &siltv1.StreamSettings{}, // no retention
		})); err != nil {
			t.Fatal(err)
		}
		data := map[uint64][]byte{}
		appendRandom(t, c, 10, data)
		rotate(t, ts, 1)
		appendRandom(t, c, 10, data)
		return ts, data
	}},
	{name: "lost segment", first: 1, last: 110, lost: [2]uint64{1, 100}, setup: func(t *testing.T, dir string) (*testServer, map[uint64][]byte) {
		seg, data := sealedThenHot(t, dir)
		if err := os.Remove(seg); err != nil {
			t.Fatal(err)
		}
		return startServerIn(t, dir, noHistoryWork), data
	}},
	{name: "damaged segment", first: 1, last: 110, lost: [2]uint64{1, 100}, setup: func(t *testing.T, dir string) (*testServer, map[uint64][]byte) {
		seg, data := sealedThenHot(t, dir)
		damageRowGroup(t, seg)
		return startServerIn(t, dir, noHistoryWork), data
	}},
	{name: "damaged hot block", first: 1, last: 100, lost: [2]uint64{31, 40}, setup: func(t *testing.T, dir string) (*testServer, map[uint64][]byte) {
		// Two sessions: each opening of the hot tier starts a value-log
		// file, and the damage goes into the first, which Badger does not
		// truncate.
		data := map[uint64][]byte{}
		for range 2 {
			ts := startServerIn(t, dir, noHistoryWork)
			appendRandom(t, ts.clients(protocols[0]), 50, data)
			ts.stop(t)
		}
		flipByteOf(t, filepath.Join(dir, "hot", "000001.vlog"), data[35]) // in block 31..40
		return startServerIn(t, dir, noHistoryWork), data
	}},
}

// tierReader is one way to read stream "s" of project back from seq 1.
type tierReader struct {
	name string
	read func(t *testing.T) ([]*siltv1.Event, error)
}

// tierReaders are Read, Subscribe (up to seq last) and Query of stream
// "s" of project: every test of what both tiers return asks all three.
func tierReaders(c clients, url string, last uint64) []tierReader {
	return []tierReader{
		{"Read", func(t *testing.T) ([]*siltv1.Event, error) { return readAllFrom(t, c, 1) }},
		{"Subscribe", func(t *testing.T) ([]*siltv1.Event, error) { return subscribeFrom(t, c, 1, last) }},
		{"Query", func(t *testing.T) ([]*siltv1.Event, error) { return queryAll(t, url) }},
	}
}

// TestTiers_ReadSubscribeQueryAgree is the contract of the two tiers: in
// each situation, Read and Subscribe from seq 1 (the start) and a Query
// listing of the stream return the same events from its first seq, gapless and in order, each with the
// data appended at its seq, and where a range is lost every one of them
// answers DataLoss naming it after returning exactly the events before it.
func TestTiers_ReadSubscribeQueryAgree(t *testing.T) {
	t.Parallel()
	for _, sit := range tierSituations {
		t.Run(sit.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			ts, data := sit.setup(t, dir)
			c := ts.clients(protocols[0])
			if sit.first > 2 {
				// Below the first seq is gone, not lost: Read and Subscribe
				// from a seq there are OutOfRange (from 1, the start, they
				// begin at the first seq, which the readers below check).
				_, err := readAllFrom(t, c, 2)
				requireCode(t, err, connect.CodeOutOfRange)
				_, err = subscribeFrom(t, c, 2, sit.last)
				requireCode(t, err, connect.CodeOutOfRange)
			}
			for _, r := range tierReaders(c, ts.url, sit.last) {
				t.Run(r.name, func(t *testing.T) {
					got, err := r.read(t)
					end := sit.last
					if sit.lost[0] != 0 {
						requireLost(t, err, dir, itoa(sit.lost[0]), itoa(sit.lost[1]))
						end = sit.lost[0] - 1
						if r.name == "Query" && len(got) <= int(end-sit.first+1) {
							// Pages of queryPage: those before the damaged one.
							end = sit.first - 1 + uint64(len(got))
							if len(got)%queryPage != 0 {
								t.Fatalf("Query returned %d events before the lost range, not whole pages of %d", len(got), queryPage)
							}
						}
					} else if err != nil {
						t.Fatalf("%s: %v", r.name, err)
					}
					if want := int(end - sit.first + 1); len(got) != want {
						t.Fatalf("%s returned %d events, want %d (%d..%d)", r.name, len(got), want, sit.first, end)
					}
					for i, e := range got {
						seq := sit.first + uint64(i)
						if e.GetSeq() != seq {
							t.Fatalf("%s: event %d has seq %d, want %d", r.name, i, e.GetSeq(), seq)
						}
						if d := e.GetData().GetStructValue().GetFields()["r"].GetStringValue(); d != string(data[seq]) {
							t.Fatalf("%s: seq %d holds %.16q…, appended %.16q…", r.name, seq, d, data[seq])
						}
					}
				})
			}
		})
	}
}

// readAllFrom pages through Read from seq from until it is up to date or
// fails; it returns what it read before the failure.
func readAllFrom(t *testing.T, c clients, from uint64) ([]*siltv1.Event, error) {
	t.Helper()
	var out []*siltv1.Event
	for range 1000 {
		res, err := c.events.Read(testContext(t), connect.NewRequest(&siltv1.ReadRequest{
			Project: project, Stream: "s", Start: &siltv1.ReadRequest_FromSeq{FromSeq: from}, Limit: 7,
		}))
		if err != nil {
			return out, err
		}
		out = append(out, res.Msg.GetEvents()...)
		if res.Msg.GetUpToDate() {
			return out, nil
		}
		from = res.Msg.GetNextSeq()
	}
	t.Fatal("Read did not reach the end in 1000 pages")
	return nil, nil
}

// subscribeFrom subscribes from seq from until it has received last or the
// stream ends.
func subscribeFrom(t *testing.T, c clients, from, last uint64) ([]*siltv1.Event, error) {
	t.Helper()
	sub := subscribe(t, c, &siltv1.SubscribeRequest{Project: project, Stream: "s", Start: &siltv1.SubscribeRequest_FromSeq{FromSeq: from}})
	deadline := time.After(30 * time.Second)
	for {
		sub.mu.Lock()
		n, done := len(sub.events), false
		if n > 0 && sub.events[n-1].GetSeq() >= last {
			done = true
		}
		sub.mu.Unlock()
		if done {
			break
		}
		select {
		case <-sub.done:
			sub.mu.Lock()
			defer sub.mu.Unlock()
			return sub.events, sub.err
		case <-deadline:
			t.Fatalf("Subscribe from %d: %d events after 30 s, want up to seq %d", from, n, last)
		case <-time.After(5 * time.Millisecond):
		}
	}
	sub.cancel()
	<-sub.done
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.events, nil
}

// queryPage is queryAll's page size.
const queryPage = 13

// queryAll lists every event of stream s by seq, page by page.
func queryAll(t *testing.T, url string) ([]*siltv1.Event, error) {
	t.Helper()
	q := queryClient(url, protocols[0])
	var out []*siltv1.Event
	token := ""
	for range 1000 {
		res, err := q.Query(testContext(t), connect.NewRequest(&siltv1.QueryRequest{
			Project: project, Streams: []string{"s"}, Order: siltv1.QueryOrder_QUERY_ORDER_SEQ_ASC, Limit: queryPage, PageToken: token,
		}))
		if err != nil {
			return out, err
		}
		out = append(out, res.Msg.GetEvents()...)
		if token = res.Msg.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
	t.Fatal("Query did not reach the end in 1000 pages")
	return nil, nil
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }
