package segment

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
)

// benchEvents is the size of the benchmark segment.
const benchEvents = 1_000_000

// benchSegment is a 1M-event segment written once per test binary.
var benchSegment = struct {
	once sync.Once
	dir  string
	path string
	info Info
	err  error
}{}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchSegment.dir != "" {
		_ = os.RemoveAll(benchSegment.dir)
	}
	os.Exit(code)
}

// segment1M returns the path and Info of the shared benchmark segment.
func segment1M(b *testing.B) (string, Info) {
	benchSegment.once.Do(func() {
		dir, err := os.MkdirTemp("", "silt-segment-bench-")
		if err != nil {
			benchSegment.err = err
			return
		}
		benchSegment.dir = dir
		benchSegment.path = filepath.Join(dir, "seg.parquet")
		w, err := NewWriter(benchSegment.path, WriterOptions{Project: "acme"})
		if err != nil {
			benchSegment.err = err
			return
		}
		g := newGenerator(1, benchEvents, 20)
		var e event.Event
		for g.next(&e) {
			if err := w.Append(&e); err != nil {
				benchSegment.err = err
				return
			}
		}
		benchSegment.info, benchSegment.err = w.Close(b.Context())
	})
	if benchSegment.err != nil {
		b.Fatal(benchSegment.err)
	}
	return benchSegment.path, benchSegment.info
}

// heapSampler records the peak of live-and-unswept heap object bytes.
type heapSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

func startHeapSampler() *heapSampler {
	s := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(s.done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > s.peak.Load() {
				s.peak.Store(v)
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *heapSampler) finish() uint64 {
	close(s.stop)
	<-s.done
	return s.peak.Load()
}

// BenchmarkWriter_Stream1M writes 1M realistic events through the
// streaming Writer, with each DataCompression, and reports throughput, CPU
// time, bytes per event on disk and the peak heap while writing. The
// generator's own cost is included; see BenchmarkGenerator_1M.
func BenchmarkWriter_Stream1M(b *testing.B) {
	for _, dc := range []struct {
		name string
		dc   DataCompression
	}{{"gzip", DataGzip}, {"zstd", DataZstd}} {
		b.Run("data="+dc.name, func(b *testing.B) {
			dir := b.TempDir()
			var info Info
			var raw int64
			var peak uint64
			cpu := cpuTime()
			for b.Loop() {
				path := filepath.Join(dir, "seg.parquet")
				runtime.GC()
				hs := startHeapSampler()
				w, err := NewWriter(path, WriterOptions{Project: "acme", DataCompression: dc.dc})
				if err != nil {
					b.Fatal(err)
				}
				g := newGenerator(1, benchEvents, 20)
				var e event.Event
				raw = 0
				for g.next(&e) {
					raw += int64(e.Size())
					if err := w.Append(&e); err != nil {
						b.Fatal(err)
					}
				}
				if info, err = w.Close(b.Context()); err != nil {
					b.Fatal(err)
				}
				peak = max(peak, hs.finish())
				_ = os.Remove(path)
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(info.Rows)/sec, "events/s")
			b.ReportMetric(float64(cpuTime()-cpu)/1e9/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(raw)/sec/1e6, "rawMB/s")
			b.ReportMetric(float64(info.Bytes)/float64(info.Rows), "B/event")
			b.ReportMetric(float64(raw)/float64(info.Rows), "rawB/event")
			b.ReportMetric(float64(peak)/(1<<20), "peakHeapMiB")
		})
	}
}

// BenchmarkGenerator_1M is the cost of making the events alone.
func BenchmarkGenerator_1M(b *testing.B) {
	for b.Loop() {
		g := newGenerator(1, benchEvents, 20)
		var e event.Event
		for g.next(&e) {
		}
	}
	b.ReportMetric(float64(benchEvents)/(b.Elapsed().Seconds()/float64(b.N)), "events/s")
}

// BenchmarkReader_Read pages through the largest stream of the 1M-event
// segment, as a catch-up reader does.
func BenchmarkReader_Read(b *testing.B) {
	path, info := segment1M(b)
	r, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	s := info.Streams[0]
	for _, page := range []int{1000, 10000} {
		b.Run("page="+itoa(page), func(b *testing.B) {
			from, n := s.FirstSeq, 0
			cpu := cpuTime()
			for b.Loop() {
				got, err := r.Read(b.Context(), s.Stream, from, page, 0)
				if err != nil {
					b.Fatal(err)
				}
				n += len(got)
				from = got[len(got)-1].Seq + 1
				if from > s.LastSeq {
					from = s.FirstSeq
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(cpuTime()-cpu)/float64(n), "cpu-ns/event")
		})
	}
}

// BenchmarkReader_TimeToFirstEvent reads 100 events from the middle of the
// 1M-event segment: "open" opens the file each time (footer, CRC check of
// the row group, decode), "warm" reuses an open Reader.
func BenchmarkReader_TimeToFirstEvent(b *testing.B) {
	path, info := segment1M(b)
	mid := info.Rows / 2
	var s StreamRange
	for _, st := range info.Streams {
		if mid >= st.FirstRow && mid < st.FirstRow+st.Count {
			s = st
		}
	}
	seq := s.FirstSeq + uint64(mid-s.FirstRow)
	b.Run("open", func(b *testing.B) {
		cpu := cpuTime()
		for b.Loop() {
			r, err := Open(path)
			if err != nil {
				b.Fatal(err)
			}
			got, err := r.Read(b.Context(), s.Stream, seq, 100, 0)
			if err != nil || len(got) == 0 || got[0].Seq != seq {
				b.Fatal(err, len(got))
			}
			_ = r.Close()
		}
		b.ReportMetric(float64(cpuTime()-cpu)/1e6/float64(b.N), "cpu-ms/op")
	})
	b.Run("warm", func(b *testing.B) {
		r, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		cpu := cpuTime()
		for b.Loop() {
			got, err := r.Read(b.Context(), s.Stream, seq, 100, 0)
			if err != nil || len(got) == 0 || got[0].Seq != seq {
				b.Fatal(err, len(got))
			}
		}
		b.ReportMetric(float64(cpuTime()-cpu)/1e6/float64(b.N), "cpu-ms/op")
	})
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}

// BenchmarkWriter_ColumnBytes writes 200k events and reports the bytes per
// event of the file and of each column: where the bytes go, for each
// DataCompression.
func BenchmarkWriter_ColumnBytes(b *testing.B) {
	events := genEvents(1, 200_000, 20)
	for _, dc := range []struct {
		name string
		dc   DataCompression
	}{{"gzip", DataGzip}, {"zstd", DataZstd}} {
		b.Run("data="+dc.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "seg.parquet")
			var info Info
			for b.Loop() {
				var err error
				if info, err = writeFile(b.Context(), path, events, WriterOptions{DataCompression: dc.dc}); err != nil {
					b.Fatal(err)
				}
			}
			r, err := Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			md := r.pf.MetaData()
			cols := make([]int64, numLeaves)
			for rg := range md.NumRowGroups() {
				for leaf := range numLeaves {
					cc, err := md.RowGroup(rg).ColumnChunk(leaf)
					if err != nil {
						b.Fatal(err)
					}
					cols[leaf] += cc.TotalCompressedSize()
				}
			}
			n := float64(info.Rows)
			b.ReportMetric(float64(info.Bytes)/n, "B/event")
			for leaf, c := range cols {
				if c >= int64(n)/10 {
					b.ReportMetric(float64(c)/n, leafShapes[leaf].path+"-B/event")
				}
			}
		})
	}
}
