package api

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/api/internal/appendwire"
	"github.com/silt-io/silt/pkg/event"
)

// BenchmarkWireFloor measures, in this process and without HTTP, the CPU
// each event costs in the codec and conversion steps that every Append and
// Read through the API must take: what the Go client and the handler do
// before and after the store. Their sum is a floor under the per-event CPU
// of the end-to-end benchmarks in bench/ (docs/benchmarks.md, "CPU
// floors"). The events are like the benchmarks': ~196 bytes of JSON as
// binary_data, 3 attributes, 2 metrics.
func BenchmarkWireFloor(b *testing.B) {
	const batch, page = 1000, 10000
	in := floorInputs(batch)
	req := &siltv1.AppendRequest{Project: "bench", Stream: "s", Events: in}
	body, err := Codec{}.Marshal(req)
	if err != nil {
		b.Fatal(err)
	}
	vi, err := newValidateInterceptor()
	if err != nil {
		b.Fatal(err)
	}

	b.Run(fmt.Sprintf("append/client-encode/batch=%d", batch), func(b *testing.B) {
		for range b.N {
			if _, err := (Codec{}).Marshal(req); err != nil {
				b.Fatal(err)
			}
		}
		reportPerEvent(b, batch)
	})
	b.Run(fmt.Sprintf("append/server-decode-validate/batch=%d", batch), func(b *testing.B) {
		for range b.N {
			got := new(siltv1.AppendRequest)
			if err := (Codec{}).Unmarshal(body, got); err != nil {
				b.Fatal(err)
			}
			if !vi.appendValid(got) {
				b.Fatal("sample request fails the fast rules")
			}
			if _, err := packAppend(got); err != nil {
				b.Fatal(err)
			}
		}
		reportPerEvent(b, batch)
	})

	b.Run(fmt.Sprintf("append/server-parse-packed/batch=%d", batch), func(b *testing.B) {
		for range b.N {
			var m appendwire.Message
			if !appendwire.Parse(body, &m) || len(m.Packed().Events) != batch {
				b.Fatal("the fast path declined the sample request")
			}
			m.Release() // its buffer is reused, as on the server
		}
		reportPerEvent(b, batch)
	})

	stored := floorStored(in, page)
	b.Run(fmt.Sprintf("read/server-encode/page=%d", page), func(b *testing.B) {
		for range b.N {
			evs, err := eventsToProto(stored, true)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := (Codec{}).Marshal(&siltv1.ReadResponse{Events: evs, NextSeq: page + 1}); err != nil {
				b.Fatal(err)
			}
		}
		reportPerEvent(b, page)
	})
	evs, err := eventsToProto(stored, true)
	if err != nil {
		b.Fatal(err)
	}
	pageBody, err := Codec{}.Marshal(&siltv1.ReadResponse{Events: evs, NextSeq: page + 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Run(fmt.Sprintf("read/client-decode/page=%d", page), func(b *testing.B) {
		for range b.N {
			got := new(siltv1.ReadResponse)
			if err := (Codec{}).Unmarshal(pageBody, got); err != nil {
				b.Fatal(err)
			}
			if len(got.GetEvents()) != page {
				b.Fatalf("decoded %d events, want %d", len(got.GetEvents()), page)
			}
		}
		reportPerEvent(b, page)
	})
}

// reportPerEvent reports ns/event for ops of n events each.
func reportPerEvent(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}

// floorInputs returns n analytics events as a client sends them.
func floorInputs(n int) []*siltv1.EventInput {
	r := rand.New(rand.NewPCG(1, 2))
	types := []string{"page.view", "checkout.started", "checkout.completed", "button.click", "search.query"}
	out := make([]*siltv1.EventInput, n)
	for i := range out {
		data := fmt.Sprintf(`{"browser":"firefox","cart":%d.%02d,"country":"DE","items":%d,"ms":%d,"ok":true,`+
			`"path":"/checkout","plan":"pro","referrer":"https://example.com/pricing","session":"s-%08x","user":"u%06d"}`,
			r.IntN(500), r.IntN(100), r.IntN(8), 20+r.IntN(900), r.Uint32(), r.IntN(1_000_000))
		out[i] = &siltv1.EventInput{
			Type: types[r.IntN(len(types))], Source: proto.String("web"),
			Attributes:  map[string]string{"app": "shop", "env": "prod", "region": "eu-west-1"},
			Metrics:     map[string]float64{"duration_ms": float64(r.IntN(900)), "items": float64(r.IntN(8))},
			Payload:     &siltv1.EventInput_BinaryData{BinaryData: []byte(data)},
			ContentType: event.ContentTypeJSON,
		}
	}
	return out
}

// floorStored returns n stored events made from in (cycled), as the store
// hands them to the Read handler.
func floorStored(in []*siltv1.EventInput, n int) []event.Event {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	out := make([]event.Event, n)
	for i := range out {
		e, err := eventFromInput(in[i%len(in)])
		if err != nil {
			panic(err)
		}
		e.Project, e.Stream, e.Seq = "bench", "s", uint64(i+1)
		e.ID = fmt.Sprintf("01JDZ%021d", i)
		e.IngestTime = now.Add(time.Duration(i) * time.Microsecond)
		out[i] = e
	}
	return out
}
