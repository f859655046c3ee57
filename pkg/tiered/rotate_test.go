package tiered

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/hot"
	"github.com/silt-io/silt/pkg/manifest"
	"github.com/silt-io/silt/pkg/record"
	"github.com/silt-io/silt/pkg/segment"
)

func TestRotate_ReadsStitchBothTiers(t *testing.T) {
	t.Parallel()
	tr := openTiers(t, t.TempDir())
	ctx := context.Background()
	appendN(t, tr.hot, "acme", "orders", 1, 500, 37)
	appendN(t, tr.hot, "acme", "users", 1, 40, 40)
	appendN(t, tr.hot, "beta", "orders", 1, 10, 3)
	before := readAll(t, tr.hist, "acme", "orders", 1000, 0)

	segs, err := tr.hist.Rotate(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 1 || segs[0].Info.Rows != 540 || len(segs[0].Info.Streams) != 2 {
		t.Fatalf("rotation wrote %+v, want one segment of 540 rows in 2 streams", segs)
	}
	if !strings.HasPrefix(segs[0].Path, "project=acme"+string(filepath.Separator)+"date=") {
		t.Fatalf("segment path %s is not Hive style", segs[0].Path)
	}
	if _, err := os.Stat(filepath.Join(tr.dir, "segments", segs[0].Path)); err != nil {
		t.Fatal(err)
	}
	appendN(t, tr.hot, "acme", "orders", 501, 120, 11) // the live tail stays hot

	// Identical events before and after rotation, across every page shape.
	for _, shape := range []struct{ limit, maxBytes int }{{1000, 0}, {7, 0}, {100, 0}, {1000, 300}, {1, 1}} {
		got := readAll(t, tr.hist, "acme", "orders", shape.limit, shape.maxBytes)
		if len(got) != 620 {
			t.Fatalf("limit %d maxBytes %d: read %d events, want 620", shape.limit, shape.maxBytes, len(got))
		}
		checkEvents(t, "acme", "orders", 1, got)
		for i := range before {
			if !got[i].IngestTime.Equal(before[i].IngestTime) {
				t.Fatalf("seq %d ingest time changed by rotation", i+1)
			}
		}
	}
	// A page that ends exactly at the boundary, and one that starts on it.
	res, err := tr.hist.Read(ctx, event.ReadRequest{Project: "acme", Stream: "orders", FromSeq: 451, Limit: 50})
	if err != nil || len(res.Events) != 50 || res.NextSeq != 501 {
		t.Fatalf("page to the boundary: %d events, next %d, %v", len(res.Events), res.NextSeq, err)
	}
	res, err = tr.hist.Read(ctx, event.ReadRequest{Project: "acme", Stream: "orders", FromSeq: 500, Limit: 2})
	if err != nil || len(res.Events) != 2 || res.Events[0].Seq != 500 || res.Events[1].Seq != 501 {
		t.Fatalf("page across the boundary: %+v, %v", res.Events, err)
	}
	// beta was not rotated.
	if v := tr.hist.man.Acquire(); len(v.Find("beta", "orders", 0, 1)) != 0 {
		v.Release()
		t.Fatal("beta was rotated by a rotation of acme")
	} else {
		v.Release()
	}
	checkEvents(t, "beta", "orders", 1, readAll(t, tr.hist, "beta", "orders", 4, 0))
}

func TestRotate_TrimsHotAndSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tr := openTiers(t, dir)
	appendN(t, tr.hot, "acme", "s", 1, 300, 10)
	if _, err := tr.hist.Rotate(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	appendN(t, tr.hot, "acme", "s", 301, 30, 10)
	if _, err := tr.hist.Rotate(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	var x hot.Extent
	_ = tr.hot.View(context.Background(), func(sn *hot.Snapshot) (err error) {
		x, err = sn.Stream("acme", "s")
		return err
	})
	if x.ColdSeq != 330 || x.HotCount() != 0 {
		t.Fatalf("after rotation the hot tier holds cold seq %d, %d hot events", x.ColdSeq, x.HotCount())
	}
	tr.close()

	tr = openTiers(t, dir)
	appendN(t, tr.hot, "acme", "s", 331, 5, 5)
	got := readAll(t, tr.hist, "acme", "s", 64, 0)
	if len(got) != 335 {
		t.Fatalf("after restart read %d events, want 335", len(got))
	}
	checkEvents(t, "acme", "s", 1, got)
	v := tr.hist.man.Acquire()
	defer v.Release()
	if n := len(v.Segments()); n != 2 {
		t.Fatalf("manifest lists %d segments, want 2", n)
	}
}

func TestRecover_CrashBetweenPublishAndManifest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tr := openTiers(t, dir)
	appendN(t, tr.hot, "acme", "s", 1, 50, 10)
	// Write and publish a segment, then "crash" before the manifest edit.
	u, err := tr.hist.writeUnit(context.Background(), rotation{force: true}, time.Now(), newProjectErrors(quietLog, "rotation"), "")
	seg := u.seg
	if err != nil || seg == nil {
		t.Fatalf("writeUnit: %v %v", seg, err)
	}
	orphan := filepath.Join(dir, "segments", seg.Path)
	tr.close()

	tr = openTiers(t, dir)
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("unlisted segment still on disk after recovery: %v", err)
	}
	got := readAll(t, tr.hist, "acme", "s", 1000, 0)
	checkEvents(t, "acme", "s", 1, got)
	if len(got) != 50 {
		t.Fatalf("read %d events, want 50", len(got))
	}
}

func TestRecover_CrashBetweenManifestAndSeal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tr := openTiers(t, dir)
	appendN(t, tr.hot, "acme", "s", 1, 50, 10)
	u, err := tr.hist.writeUnit(context.Background(), rotation{force: true}, time.Now(), newProjectErrors(quietLog, "rotation"), "")
	seg := u.seg
	if err != nil || seg == nil {
		t.Fatalf("writeUnit: %v %v", seg, err)
	}
	if err := tr.hist.man.Apply(manifest.Edit{Add: []manifest.Segment{*seg}}); err != nil {
		t.Fatal(err)
	}
	// Before recovery both tiers hold seqs 1..50; a read still sees each once.
	got := readAll(t, tr.hist, "acme", "s", 7, 0)
	if len(got) != 50 {
		t.Fatalf("read %d events with both tiers holding them, want 50", len(got))
	}
	tr.close()

	tr = openTiers(t, dir)
	var x hot.Extent
	_ = tr.hot.View(context.Background(), func(sn *hot.Snapshot) (err error) {
		x, err = sn.Stream("acme", "s")
		return err
	})
	if x.ColdSeq != 50 {
		t.Fatalf("recovery left cold seq %d, want 50", x.ColdSeq)
	}
	got = readAll(t, tr.hist, "acme", "s", 1000, 0)
	if len(got) != 50 {
		t.Fatalf("read %d events, want 50", len(got))
	}
	checkEvents(t, "acme", "s", 1, got)
}

func TestRotate_DeletedStreamKeepsItsHistoryApart(t *testing.T) {
	t.Parallel()
	tr := openTiers(t, t.TempDir())
	ctx := context.Background()
	appendN(t, tr.hot, "acme", "s", 1, 20, 20)
	if _, err := tr.hist.Rotate(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if err := tr.hot.DeleteStream(ctx, "acme", "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.hist.Read(ctx, event.ReadRequest{Project: "acme", Stream: "s", Limit: 10}); !errors.Is(err, event.ErrStreamNotFound) {
		t.Fatalf("read of a deleted stream: %v", err)
	}
	// The new incarnation starts at seq 1 and sees only its own events,
	// before and after its own rotation.
	ev := testEvent("s", 1)
	ev.Data = []byte(`{"reborn":true}`)
	if _, err := tr.hot.Append(ctx, event.AppendRequest{Project: "acme", Stream: "s", Events: record.Pack(ev), AutoCreate: true}); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		res, err := tr.hist.Read(ctx, event.ReadRequest{Project: "acme", Stream: "s", Limit: 100})
		if err != nil || len(res.Events) != 1 || string(res.Events[0].Data) != `{"reborn":true}` {
			t.Fatalf("round %d: new incarnation reads %d events (%v)", round, len(res.Events), err)
		}
		if _, err := tr.hist.Rotate(ctx, ""); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRead_FromTimeSeeksAcrossTiers(t *testing.T) {
	t.Parallel()
	tr := openTiers(t, t.TempDir())
	ctx := context.Background()
	var marks []time.Time // ingest time of seqs 1, 11, 21, ...
	for i := range 6 {
		appendN(t, tr.hot, "acme", "s", uint64(i*10+1), 10, 10)
		res, err := tr.hot.Read(ctx, event.ReadRequest{Project: "acme", Stream: "s", FromSeq: uint64(i*10 + 1), Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		marks = append(marks, res.Events[0].IngestTime)
		if i == 3 {
			if _, err := tr.hist.Rotate(ctx, ""); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	for i, m := range marks {
		res, err := tr.hist.Read(ctx, event.ReadRequest{Project: "acme", Stream: "s", FromTime: m, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Events) == 0 || res.Events[0].Seq != uint64(i*10+1) {
			t.Fatalf("from time of seq %d: got %+v", i*10+1, res.Events)
		}
	}
	res, err := tr.hist.Read(ctx, event.ReadRequest{Project: "acme", Stream: "s", FromTime: time.Unix(1, 0), Limit: 3})
	if err != nil || len(res.Events) != 3 || res.Events[0].Seq != 1 {
		t.Fatalf("from the distant past: %+v %v", res.Events, err)
	}
	res, err = tr.hist.Read(ctx, event.ReadRequest{Project: "acme", Stream: "s", FromTime: time.Now().Add(time.Hour), Limit: 3})
	if err != nil || len(res.Events) != 0 || res.NextSeq != 61 {
		t.Fatalf("from the future: %d events, next %d, %v", len(res.Events), res.NextSeq, err)
	}
}

func TestRotate_BackgroundByAgeAndBySize(t *testing.T) {
	t.Parallel()
	t.Run("age", func(t *testing.T) {
		t.Parallel()
		tr := openTiers(t, t.TempDir(), func(o *Options) {
			o.RotateAfter = 50 * time.Millisecond
			o.CheckEvery = 10 * time.Millisecond
		})
		appendN(t, tr.hot, "acme", "s", 1, 30, 10)
		waitFor(t, "age-based rotation", func() bool {
			v := tr.hist.man.Acquire()
			defer v.Release()
			_, last, ok := v.Extent("acme", "s", 1)
			return ok && last == 30
		})
		checkEvents(t, "acme", "s", 1, readAll(t, tr.hist, "acme", "s", 1000, 0))
	})
	t.Run("size", func(t *testing.T) {
		t.Parallel()
		tr := openTiers(t, t.TempDir(), func(o *Options) {
			o.RotateAfter = time.Hour
			o.HotMaxBytes = 20 << 10
			o.CheckEvery = 10 * time.Millisecond
		})
		appendN(t, tr.hot, "acme", "small", 1, 10, 10) // well under the limit
		time.Sleep(50 * time.Millisecond)
		if v := tr.hist.man.Acquire(); len(v.Segments()) != 0 {
			v.Release()
			t.Fatal("rotated under both thresholds")
		} else {
			v.Release()
		}
		appendN(t, tr.hot, "acme", "big", 1, 400, 400) // ~60 KiB of events in one append
		waitFor(t, "size-based rotation", func() bool {
			v := tr.hist.man.Acquire()
			defer v.Release()
			_, last, ok := v.Extent("acme", "big", 2)
			return ok && last == 400
		})
	})
}

func TestRotate_ConcurrentAppendsRotationsCompactionsAndReaders(t *testing.T) {
	t.Parallel()
	tr := openTiers(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	streams := []string{"a", "b", "c"}
	const perStream = 3000
	for _, s := range streams {
		if _, err := tr.hot.CreateStream(ctx, "acme", s, event.StreamSettings{}); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, 16)
	done := make(chan struct{})
	var rotated, compacted atomic.Int64
	go func() { // writers: after every 500 events, wait for a rotation
		defer close(done)
		for seq := uint64(1); seq <= perStream; seq += 50 {
			if seq > 1 && seq%500 == 1 {
				before := rotated.Load()
				for deadline := time.Now().Add(10 * time.Second); rotated.Load() == before && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
			}
			for _, s := range streams {
				var evs []event.Event
				for i := range uint64(50) {
					evs = append(evs, testEvent(s, seq+i))
				}
				if _, err := tr.hot.Append(ctx, event.AppendRequest{Project: "acme", Stream: s, Events: record.Pack(evs...), AutoCreate: true}); err != nil {
					errs <- err
					return
				}
			}
		}
	}()
	go func() { // rotator and compactor
		rotations := 0
		for {
			select {
			case <-done:
				return
			default:
			}
			segs, err := tr.hist.Rotate(ctx, "")
			if err != nil {
				errs <- err
				return
			}
			rotated.Add(int64(len(segs)))
			if rotations++; rotations%2 == 0 {
				segs, err := tr.hist.Compact(ctx, "")
				if err != nil {
					errs <- err
					return
				}
				compacted.Add(int64(len(segs)))
			}
			time.Sleep(time.Millisecond)
		}
	}()
	// Readers: each pass reads a stream from seq 1 to its current tail and
	// must see a gapless, exact prefix.
	readers := make(chan error, 3)
	for i, s := range streams {
		go func() {
			limit := []int{17, 256, 1000}[i]
			for {
				got, err := readPages(tr.hist, "acme", s, limit, 0)
				if err == nil {
					err = diffEvents("acme", s, 1, got)
				}
				if err != nil {
					readers <- err
					return
				}
				if len(got) == perStream {
					readers <- nil
					return
				}
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	for range streams {
		select {
		case err := <-readers:
			if err != nil {
				t.Fatal(err)
			}
		case err := <-errs:
			t.Fatal(err)
		}
	}
	<-done
	t.Logf("%d segments rotated, %d merged", rotated.Load(), compacted.Load())
	if rotated.Load() < 3 || compacted.Load() < 1 {
		t.Fatal("too few rotations or compactions ran alongside the readers to prove anything")
	}
}

// The segment files of one rotation hold exactly the rotated events, sorted.
func TestRotate_SegmentHoldsExactlyTheRotatedEvents(t *testing.T) {
	t.Parallel()
	tr := openTiers(t, t.TempDir())
	appendN(t, tr.hot, "acme", "b", 1, 30, 30)
	appendN(t, tr.hot, "acme", "a", 1, 20, 20)
	segs, err := tr.hist.Rotate(context.Background(), "")
	if err != nil || len(segs) != 1 {
		t.Fatalf("%v %v", segs, err)
	}
	r, err := segment.Open(filepath.Join(tr.dir, "segments", segs[0].Path))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	names := []string{}
	for _, sr := range r.Info().Streams {
		names = append(names, sr.Stream)
	}
	if !slices.Equal(names, []string{"a", "b"}) {
		t.Fatalf("segment streams %v", names)
	}
	for _, s := range []string{"a", "b"} {
		evs, err := r.Read(context.Background(), s, 1, 1000, 0)
		if err != nil {
			t.Fatal(err)
		}
		checkEvents(t, "acme", s, 1, evs)
	}
}
