package bench

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// sample is one realistic analytics event, prepared once in every form the
// engines send: a Silt EventInput with the JSON as binary_data, one with the
// JSON as a google.protobuf.Value, and a NATS message body (the whole event
// as JSON, since JetStream has no envelope of its own).
type sample struct {
	bin   *siltv1.EventInput
	value *siltv1.EventInput
	nats  []byte
	// dataLen is the size of the JSON data alone.
	dataLen int
}

// samplePool is a fixed set of distinct events that the benchmarks cycle through.
var samplePool = makeSamples(1024)

var (
	types     = []string{"page.view", "checkout.started", "checkout.completed", "button.click", "search.query"}
	plans     = []string{"free", "pro", "team", "enterprise"}
	paths     = []string{"/", "/pricing", "/checkout", "/docs/getting-started", "/settings/billing", "/search"}
	countries = []string{"DE", "US", "FR", "GB", "BR", "JP", "IN"}
	browsers  = []string{"firefox", "chrome", "safari", "edge"}
	regions   = []string{"eu-west-1", "us-east-1", "ap-south-1"}
)

func makeSamples(n int) []sample {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]sample, n)
	for i := range out {
		typ := types[r.IntN(len(types))]
		ms := 20 + r.IntN(900)
		items := r.IntN(8)
		// Field order is fixed so the JSON is the same on every run.
		data := map[string]any{
			"user":     fmt.Sprintf("u%06d", r.IntN(1_000_000)),
			"session":  fmt.Sprintf("s-%08x", r.Uint32()),
			"plan":     plans[r.IntN(len(plans))],
			"path":     paths[r.IntN(len(paths))],
			"referrer": "https://example.com" + paths[r.IntN(len(paths))],
			"country":  countries[r.IntN(len(countries))],
			"browser":  browsers[r.IntN(len(browsers))],
			"ms":       ms,
			"items":    items,
			"cart":     float64(r.IntN(50000)) / 100,
			"ok":       r.IntN(20) != 0,
		}
		js, err := json.Marshal(data)
		if err != nil {
			panic(err)
		}
		attrs := map[string]string{"app": "web", "env": "prod", "region": regions[r.IntN(len(regions))]}
		metrics := map[string]float64{"duration_ms": float64(ms), "items": float64(items)}
		value, err := structpb.NewValue(data)
		if err != nil {
			panic(err)
		}
		out[i] = sample{
			bin: &siltv1.EventInput{
				Type: typ, Source: proto.String("web"), Attributes: attrs, Metrics: metrics,
				Payload:     &siltv1.EventInput_BinaryData{BinaryData: js},
				ContentType: "application/json",
			},
			value: &siltv1.EventInput{
				Type: typ, Source: proto.String("web"), Attributes: attrs, Metrics: metrics,
				Payload: &siltv1.EventInput_Data{Data: value},
			},
			dataLen: len(js),
		}
		body, err := json.Marshal(map[string]any{
			"type": typ, "source": "web", "attributes": attrs, "metrics": metrics, "data": json.RawMessage(js),
		})
		if err != nil {
			panic(err)
		}
		out[i].nats = body
	}
	return out
}

// batch returns n consecutive samples starting at offset off (wrapping).
func batch(off, n int) []*sample {
	out := make([]*sample, n)
	for i := range out {
		out[i] = &samplePool[(off+i)%len(samplePool)]
	}
	return out
}

// quantiles returns the p50 and p99 of d (which it sorts) in milliseconds.
func quantiles(d []time.Duration) (p50, p99 float64) {
	if len(d) == 0 {
		return 0, 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	q := func(p float64) float64 {
		i := int(p*float64(len(d))+0.999999) - 1
		i = max(0, min(i, len(d)-1))
		return float64(d[i]) / float64(time.Millisecond)
	}
	return q(0.50), q(0.99)
}
