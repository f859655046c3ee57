package server_test

import (
	"fmt"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

func TestAPI_Streams_Lifecycle(t *testing.T) {
	t.Parallel()
	forEachProtocol(t, func(t *testing.T, c clients) {
		ctx := testContext(t)
		name := streamName(t)
		created, err := c.streams.CreateStream(ctx, connect.NewRequest(&siltv1.CreateStreamRequest{
			Project: project, Stream: name,
			Settings: &siltv1.StreamSettings{ContentType: "text/plain", Retention: &siltv1.RetentionPolicy{MaxAge: durationpb.New(time.Hour)}},
		}))
		if err != nil {
			t.Fatal(err)
		}
		s := created.Msg.GetStream()
		if s.GetName() != name || s.GetProject() != project || s.GetLastSeq() != 0 || s.GetFirstSeq() != 1 || s.GetEventCount() != 0 ||
			s.GetSettings().GetContentType() != "text/plain" || s.GetSettings().GetRetention().GetMaxAge().AsDuration() != time.Hour {
			t.Fatalf("created stream %v", s)
		}
		_, err = c.streams.CreateStream(ctx, connect.NewRequest(&siltv1.CreateStreamRequest{Project: project, Stream: name}))
		requireCode(t, err, connect.CodeAlreadyExists)

		// Events without a content type take the stream's.
		if _, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: name, Events: []*siltv1.EventInput{
			{Type: "line", Payload: &siltv1.EventInput_BinaryData{BinaryData: []byte("hello")}},
			{Type: "line", Payload: &siltv1.EventInput_BinaryData{BinaryData: []byte("world")}},
		}})); err != nil {
			t.Fatal(err)
		}
		got, err := c.streams.GetStream(ctx, connect.NewRequest(&siltv1.GetStreamRequest{Project: project, Stream: name}))
		if err != nil {
			t.Fatal(err)
		}
		g := got.Msg.GetStream()
		if g.GetLastSeq() != 2 || g.GetFirstSeq() != 1 || g.GetEventCount() != 2 || g.GetBytes() < 10 || !g.GetCreateTime().AsTime().Equal(s.GetCreateTime().AsTime()) {
			t.Fatalf("stream after 2 appends: %v", g)
		}
		events := readAll(t, c, name)
		if events[0].GetContentType() != "text/plain" || string(events[1].GetBinaryData()) != "world" {
			t.Fatalf("events %v", events)
		}

		// Update with a mask changes only the named setting.
		upd, err := c.streams.UpdateStream(ctx, connect.NewRequest(&siltv1.UpdateStreamRequest{
			Project: project, Stream: name,
			Settings:   &siltv1.StreamSettings{ContentType: "ignored", Retention: &siltv1.RetentionPolicy{MaxBytes: 1 << 20}},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"retention.max_bytes"}},
		}))
		if err != nil {
			t.Fatal(err)
		}
		u := upd.Msg.GetStream()
		if u.GetSettings().GetContentType() != "text/plain" || u.GetSettings().GetRetention().GetMaxBytes() != 1<<20 ||
			u.GetSettings().GetRetention().GetMaxAge().AsDuration() != time.Hour || !u.GetUpdateTime().AsTime().After(u.GetCreateTime().AsTime()) {
			t.Fatalf("updated stream %v", u)
		}

		// Delete removes the stream and its events; a new stream of the same name starts at 1.
		if _, err := c.streams.DeleteStream(ctx, connect.NewRequest(&siltv1.DeleteStreamRequest{Project: project, Stream: name})); err != nil {
			t.Fatal(err)
		}
		_, err = c.streams.GetStream(ctx, connect.NewRequest(&siltv1.GetStreamRequest{Project: project, Stream: name}))
		requireCode(t, err, connect.CodeNotFound)
		_, err = c.events.Read(ctx, connect.NewRequest(&siltv1.ReadRequest{Project: project, Stream: name}))
		requireCode(t, err, connect.CodeNotFound)
		res, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: name, Events: numbered(t, 0, 1)}))
		if err != nil || res.Msg.GetFirstSeq() != 1 {
			t.Fatalf("append after delete: %v %v", res, err)
		}
		if events := readAll(t, c, name); len(events) != 1 || events[0].GetType() != "n" {
			t.Fatalf("recreated stream holds %v", events)
		}
	})
}

func TestAPI_ListStreams_Pages(t *testing.T) {
	t.Parallel()
	forEachProtocol(t, func(t *testing.T, c clients) {
		ctx := testContext(t)
		prefix := streamName(t) + "/"
		for i := range 7 {
			if _, err := c.streams.CreateStream(ctx, connect.NewRequest(&siltv1.CreateStreamRequest{Project: project, Stream: fmt.Sprintf("%s%02d", prefix, i)})); err != nil {
				t.Fatal(err)
			}
		}
		// A stream in another project is not listed.
		if _, err := c.streams.CreateStream(ctx, connect.NewRequest(&siltv1.CreateStreamRequest{Project: "other", Stream: prefix + "00"})); err != nil {
			t.Fatal(err)
		}
		var names []string
		token := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("too many pages")
			}
			res, err := c.streams.ListStreams(ctx, connect.NewRequest(&siltv1.ListStreamsRequest{Project: project, Prefix: prefix, PageSize: 3, PageToken: token}))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Msg.GetStreams()) > 3 {
				t.Fatalf("page of %d, want at most 3", len(res.Msg.GetStreams()))
			}
			for _, s := range res.Msg.GetStreams() {
				names = append(names, s.GetName())
			}
			if token = res.Msg.GetNextPageToken(); token == "" {
				break
			}
		}
		if len(names) != 7 {
			t.Fatalf("listed %v, want 7 names", names)
		}
		for i, n := range names {
			if n != fmt.Sprintf("%s%02d", prefix, i) {
				t.Fatalf("name %d is %q: not in order", i, n)
			}
		}
	})
}

func TestAPI_Read_FromTimeAndMaxBytes(t *testing.T) {
	t.Parallel()
	forEachProtocol(t, func(t *testing.T, c clients) {
		ctx := testContext(t)
		name := streamName(t)
		var times []time.Time
		for i := range 5 {
			res, err := c.events.Append(ctx, connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: name, Events: numbered(t, i*10, 10)}))
			if err != nil {
				t.Fatal(err)
			}
			times = append(times, res.Msg.GetIngestTime().AsTime())
			time.Sleep(3 * time.Millisecond)
		}
		// From the third batch's ingest time: the read starts at its first seq.
		res, err := c.events.Read(ctx, connect.NewRequest(&siltv1.ReadRequest{
			Project: project, Stream: name, Start: &siltv1.ReadRequest_FromTime{FromTime: timestamppb.New(times[2])}, Limit: 5,
		}))
		if err != nil {
			t.Fatal(err)
		}
		if ev := res.Msg.GetEvents(); len(ev) != 5 || ev[0].GetSeq() != 21 || res.Msg.GetNextSeq() != 26 || res.Msg.GetUpToDate() || res.Msg.GetLastSeq() != 50 {
			t.Fatalf("read from time got %d events from seq %d, next %d", len(ev), ev[0].GetSeq(), res.Msg.GetNextSeq())
		}
		// Just after it: the fourth batch.
		res, err = c.events.Read(ctx, connect.NewRequest(&siltv1.ReadRequest{
			Project: project, Stream: name, Start: &siltv1.ReadRequest_FromTime{FromTime: timestamppb.New(times[2].Add(time.Nanosecond))},
		}))
		if err != nil || res.Msg.GetEvents()[0].GetSeq() != 31 || len(res.Msg.GetEvents()) != 20 || !res.Msg.GetUpToDate() {
			t.Fatalf("read just after batch 3: %v", err)
		}
		// max_bytes cuts the page early but returns at least one event.
		res, err = c.events.Read(ctx, connect.NewRequest(&siltv1.ReadRequest{Project: project, Stream: name, MaxBytes: 1}))
		if err != nil || len(res.Msg.GetEvents()) != 1 || res.Msg.GetNextSeq() != 2 {
			t.Fatalf("read with max_bytes 1: %d events, %v", len(res.Msg.GetEvents()), err)
		}
		// Past the tail: empty and up to date.
		res, err = c.events.Read(ctx, connect.NewRequest(&siltv1.ReadRequest{Project: project, Stream: name, Start: &siltv1.ReadRequest_FromSeq{FromSeq: 51}}))
		if err != nil || len(res.Msg.GetEvents()) != 0 || !res.Msg.GetUpToDate() || res.Msg.GetNextSeq() != 51 {
			t.Fatalf("read past the tail: %v %v", res, err)
		}
	})
}
