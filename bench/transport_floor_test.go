package bench

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
	"github.com/silt-io/silt/pkg/api"
)

// BenchmarkTransportFloor is the single-event workload of
// BenchmarkAppendSingle (64 clients, closed loop, one event per Append) sent
// to a server that does nothing: an Append handler that answers at once,
// with no validation, no store and no sync, behind the same HTTP server
// settings, codec and client as Silt's. What it measures is the most a
// Connect unary call over loopback h2c can do on this machine with client
// and server sharing it, a ceiling for single-event appends whatever the
// store does (docs/benchmarks.md, "CPU floors").
func BenchmarkTransportFloor(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(siltv1connect.NewEventServiceHandler(nopEvents{}, connect.WithCodec(api.Codec{})))
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: mux, Protocols: protocols, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	client := newSiltClient(ln.Addr().String(), httpProto(), false)
	e := floorEngine{client}
	b.Run("workload=single64", func(b *testing.B) {
		b.ResetTimer()
		cpu := startCPU()
		lat := closedLoop(b, e, "s", concurrentUsers, b.N)
		b.StopTimer()
		reportRate(b, b.N, cpu)
		reportLatency(b, lat)
	})
	// Open-loop load at half the 20,000/s target, as in
	// BenchmarkAppendLatencyHalfLoad.
	b.Run("workload=open10k", func(b *testing.B) {
		b.ResetTimer()
		cpu := startCPU()
		lat := openLoop(b, e, "s", floorOpenRate, b.N)
		b.StopTimer()
		reportRate(b, b.N, cpu)
		b.ReportMetric(floorOpenRate, "offered-events/s")
		reportLatency(b, lat)
	})
}

// floorOpenRate is half of the single-event target (20,000 events/s).
const floorOpenRate = 10_000

// nopEvents answers every Append at once.
type nopEvents struct {
	siltv1connect.UnimplementedEventServiceHandler
}

func (nopEvents) Append(_ context.Context, req *connect.Request[siltv1.AppendRequest]) (*connect.Response[siltv1.AppendResponse], error) {
	n := uint64(len(req.Msg.GetEvents()))
	if n == 0 {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("no events"))
	}
	return connect.NewResponse(&siltv1.AppendResponse{FirstSeq: 1, LastSeq: n}), nil
}

// floorEngine is the Silt client's AppendOne against the no-op server.
type floorEngine struct{ *siltClient }

func (floorEngine) Close() {}
