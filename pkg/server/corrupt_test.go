package server_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// randomEvents are n events whose JSON data is 1,000 random hex digits,
// which S2 does not compress: a block of ten is ~10 KB, which the hot tier
// keeps in Badger's value log. It returns the events and their data.
func randomEvents(t *testing.T, n int) ([]*siltv1.EventInput, [][]byte) {
	t.Helper()
	evs := make([]*siltv1.EventInput, n)
	data := make([][]byte, n)
	for i := range evs {
		evs[i] = jsonEvent(t, "r", map[string]any{"r": hex.EncodeToString(randomBytes(500))})
		data[i] = []byte(evs[i].GetData().GetStructValue().GetFields()["r"].GetStringValue())
	}
	return evs, data
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// flipByteOf flips a byte in the middle of needle in file.
func flipByteOf(t *testing.T, file string, needle []byte) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, needle)
	if i < 0 {
		t.Fatalf("%s does not hold the bytes to damage", file)
	}
	b[i+len(needle)/2] ^= 0xff
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// onlySegmentFile is the one segment file under data dir dir.
func onlySegmentFile(t *testing.T, dir string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "segments", "*", "*", "*.parquet"))
	if err != nil || len(files) != 1 {
		t.Fatalf("segment files %v, %v", files, err)
	}
	return files[0]
}

// damageRowGroup flips a byte inside the row-group data of segment file.
func damageRowGroup(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	flipByteOf(t, file, b[len(b)/3:len(b)/3+16])
}

// requireLost checks that err is DataLoss naming seqs first..last, with
// no server path in its message.
func requireLost(t *testing.T, err error, dir string, first, last string) {
	t.Helper()
	ce := requireCode(t, err, connect.CodeDataLoss)
	info := errorInfo(t, ce)
	if info.GetReason() != "EVENTS_LOST" || info.GetMetadata()["first_seq"] != first || info.GetMetadata()["last_seq"] != last {
		t.Fatalf("DataLoss detail %v, want EVENTS_LOST %s..%s", info, first, last)
	}
	if strings.Contains(ce.Message(), dir) {
		t.Fatalf("message names a server path: %s", ce.Message())
	}
}

// TestServer_DamagedHotBlockIsDataLoss damages one block in the hot tier's
// value log. Read returns the events before it, then DataLoss naming its
// seqs, and reads on after it; Subscribe ends with DataLoss instead of
// spinning; a query over it is DataLoss too.
func TestServer_DamagedHotBlockIsDataLoss(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := testContext(t)
	var data [][]byte
	// Two sessions: each opening of the hot tier starts a value-log file,
	// and the damage goes into the first, which Badger does not truncate.
	for range 2 {
		ts := startServerIn(t, dir)
		c := ts.clients(protocols[0])
		for range 5 {
			evs, d := randomEvents(t, 10)
			if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: "s", Events: evs})); err != nil {
				t.Fatal(err)
			}
			data = append(data, d...)
		}
		ts.stop(t)
	}
	flipByteOf(t, filepath.Join(dir, "hot", "000001.vlog"), data[34]) // seq 35, in block 31..40

	ts := startServerIn(t, dir)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := ts.clients(p)
			read := func(from uint64) (*connect.Response[siltv1.ReadResponse], error) {
				return c.events.Read(ctx, connect.NewRequest(&siltv1.ReadRequest{
					Project: project, Stream: "s", Start: &siltv1.ReadRequest_FromSeq{FromSeq: from}, Limit: 1000,
				}))
			}
			res, err := read(1)
			if err != nil || len(res.Msg.GetEvents()) != 30 || res.Msg.GetNextSeq() != 31 {
				t.Fatalf("read from 1: %d events, next %d, %v; want 1..30", len(res.Msg.GetEvents()), res.Msg.GetNextSeq(), err)
			}
			_, err = read(31)
			requireLost(t, err, dir, "31", "40")
			res, err = read(41)
			if err != nil || len(res.Msg.GetEvents()) != 60 || res.Msg.GetEvents()[0].GetSeq() != 41 {
				t.Fatalf("read from 41: %d events, %v; want 41..100", len(res.Msg.GetEvents()), err)
			}

			sub := subscribe(t, c, &siltv1.SubscribeRequest{Project: project, Stream: "s", Start: &siltv1.SubscribeRequest_FromSeq{FromSeq: 1}})
			select {
			case <-sub.done:
			case <-time.After(20 * time.Second):
				t.Fatal("Subscribe over a damaged range did not end")
			}
			if len(sub.events) != 30 {
				t.Errorf("Subscribe delivered %d events before the damage, want 30", len(sub.events))
			}
			requireLost(t, sub.err, dir, "31", "40")

			_, err = queryClient(ts.url, p).Query(ctx, connect.NewRequest(&siltv1.QueryRequest{
				Project: project, StreamPrefix: "s",
				Filter: &siltv1.Filter{Kind: &siltv1.Filter_Compare{Compare: &siltv1.Comparison{
					Field: "$.r", Op: siltv1.CompareOp_COMPARE_OP_EQ, Value: &siltv1.QueryValue{Kind: &siltv1.QueryValue_StringValue{StringValue: "x"}}}}},
				Aggregations: []*siltv1.Aggregation{{Function: siltv1.AggregateFunction_AGGREGATE_FUNCTION_COUNT}},
			}))
			requireLost(t, err, dir, "31", "40")
		})
	}
}

// TestServer_DamagedSegmentIsDataLoss damages a Parquet segment: Read and
// Query answer DataLoss naming the segment's seqs, with no server path in
// the message, and the hot tail stays readable.
func TestServer_DamagedSegmentIsDataLoss(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := testContext(t)
	ts := startServerIn(t, dir, noHistoryWork)
	c := ts.clients(protocols[0])
	evs, _ := randomEvents(t, 100)
	if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: "s", Events: evs})); err != nil {
		t.Fatal(err)
	}
	rot, err := adminClient(ts.url).Rotate(ctx, connect.NewRequest(&siltv1.RotateRequest{Project: project}))
	if err != nil || len(rot.Msg.GetSegments()) != 1 {
		t.Fatalf("rotate: %v %v", rot, err)
	}
	tail, _ := randomEvents(t, 10)
	if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: "s", Events: tail})); err != nil {
		t.Fatal(err)
	}
	ts.stop(t)
	damageRowGroup(t, onlySegmentFile(t, dir))

	ts = startServerIn(t, dir, noHistoryWork)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := ts.clients(p)
			_, err := c.events.Read(ctx, connect.NewRequest(&siltv1.ReadRequest{Project: project, Stream: "s", Limit: 1000}))
			requireLost(t, err, dir, "1", "100")
			res, err := c.events.Read(ctx, connect.NewRequest(&siltv1.ReadRequest{
				Project: project, Stream: "s", Start: &siltv1.ReadRequest_FromSeq{FromSeq: 101}, Limit: 1000,
			}))
			if err != nil || len(res.Msg.GetEvents()) != 10 || res.Msg.GetEvents()[0].GetSeq() != 101 {
				t.Fatalf("read the hot tail: %v, %v", res, err)
			}
			_, err = queryClient(ts.url, p).Query(ctx, connect.NewRequest(&siltv1.QueryRequest{
				Project: project, StreamPrefix: "s",
				Filter: &siltv1.Filter{Kind: &siltv1.Filter_Compare{Compare: &siltv1.Comparison{
					Field: "$.r", Op: siltv1.CompareOp_COMPARE_OP_EQ, Value: &siltv1.QueryValue{Kind: &siltv1.QueryValue_StringValue{StringValue: "x"}}}}},
				Aggregations: []*siltv1.Aggregation{{Function: siltv1.AggregateFunction_AGGREGATE_FUNCTION_COUNT}},
			}))
			ce := requireCode(t, err, connect.CodeDataLoss)
			if strings.Contains(ce.Message(), dir) {
				t.Fatalf("query error names a server path: %s", ce.Message())
			}
		})
	}
}
