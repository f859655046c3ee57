package api

import (
	"math"
	"strings"
	"testing"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/api/internal/rules"
)

// checkAgrees fails when eventInputValid and protovalidate disagree on e.
func checkAgrees(t *testing.T, v protovalidate.Validator, e *siltv1.EventInput) {
	t.Helper()
	want := v.Validate(e) == nil
	if got := eventInputValid(e); got != want {
		t.Fatalf("eventInputValid = %v, protovalidate valid = %v (%v) for %v", got, want, v.Validate(e), e)
	}
}

func TestEventInputValid_AgreesWithRules(t *testing.T) {
	t.Parallel()
	v, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	base := func() *siltv1.EventInput {
		return &siltv1.EventInput{Type: "a.b", Payload: &siltv1.EventInput_Data{Data: structpb.NewNullValue()}}
	}
	muts := []func(e *siltv1.EventInput){
		func(*siltv1.EventInput) {},
		func(e *siltv1.EventInput) { e.Id = "ok-ID_1~" },
		func(e *siltv1.EventInput) { e.Id = "has space" },
		func(e *siltv1.EventInput) { e.Id = strings.Repeat("i", 256) },
		func(e *siltv1.EventInput) { e.Id = strings.Repeat("i", 257) },
		func(e *siltv1.EventInput) { e.Id = "é" },
		func(e *siltv1.EventInput) { e.Type = "" },
		func(e *siltv1.EventInput) { e.Type = "-x" },
		func(e *siltv1.EventInput) { e.Type = "_x" },
		func(e *siltv1.EventInput) { e.Type = "x y" },
		func(e *siltv1.EventInput) { e.Type = "com.example/order:created-v1_2" },
		func(e *siltv1.EventInput) { e.Type = strings.Repeat("t", 257) },
		func(e *siltv1.EventInput) { e.Source = proto.String(strings.Repeat("é", 1024)) },
		func(e *siltv1.EventInput) { e.Source = proto.String(strings.Repeat("é", 1025)) },
		func(e *siltv1.EventInput) { e.Subject = proto.String(strings.Repeat("s", 1025)) },
		func(e *siltv1.EventInput) { e.ContentType = strings.Repeat("c", 257) },
		func(e *siltv1.EventInput) { e.Attributes = map[string]string{"_a.b-c": strings.Repeat("v", 4096)} },
		func(e *siltv1.EventInput) { e.Attributes = map[string]string{"a": strings.Repeat("v", 4097)} },
		func(e *siltv1.EventInput) { e.Attributes = map[string]string{"": "v"} },
		func(e *siltv1.EventInput) { e.Attributes = map[string]string{"9a": "v"} },
		func(e *siltv1.EventInput) { e.Attributes = map[string]string{strings.Repeat("k", 129): "v"} },
		func(e *siltv1.EventInput) { e.Metrics = map[string]float64{"m": math.NaN()} },
		func(e *siltv1.EventInput) { e.Metrics = map[string]float64{"m": math.Inf(-1)} },
		func(e *siltv1.EventInput) { e.Metrics = map[string]float64{"m": -1e308} },
		func(e *siltv1.EventInput) { e.Metrics = map[string]float64{"m.x": 1, "a b": 2} },
		func(e *siltv1.EventInput) { e.Payload = nil },
		func(e *siltv1.EventInput) { e.Payload = &siltv1.EventInput_BinaryData{BinaryData: make([]byte, 1<<20)} },
		func(e *siltv1.EventInput) {
			e.Payload = &siltv1.EventInput_BinaryData{BinaryData: make([]byte, 1<<20+1)}
		},
		func(e *siltv1.EventInput) { e.Payload = &siltv1.EventInput_BinaryData{} },
		func(e *siltv1.EventInput) {
			e.Attributes = map[string]string{}
			for i := range 65 {
				e.Attributes["a"+strings.Repeat("x", i)] = ""
			}
		},
		func(e *siltv1.EventInput) {
			e.Metrics = map[string]float64{}
			for i := range 64 {
				e.Metrics["m"+strings.Repeat("x", i)] = 1
			}
		},
	}
	for _, mut := range muts {
		e := base()
		mut(e)
		checkAgrees(t, v, e)
	}
}

// FuzzEventInputRules checks the hand-written rules against protovalidate on
// arbitrary events.
func FuzzEventInputRules(f *testing.F) {
	v, err := protovalidate.New()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("id", "a.b", "src", "sub", "k", "v", "m", 1.0, []byte("x"), "text/plain", true)
	f.Add("", "", "", "", "", "", "", math.NaN(), []byte(nil), "", false)
	f.Fuzz(func(t *testing.T, id, typ, source, subject, ak, av, mk string, mv float64, data []byte, ct string, binary bool) {
		e := &siltv1.EventInput{Id: id, Type: typ, Source: &source, Subject: &subject, ContentType: ct,
			Attributes: map[string]string{ak: av}, Metrics: map[string]float64{mk: mv}}
		if binary {
			e.Payload = &siltv1.EventInput_BinaryData{BinaryData: data}
		} else if len(data) > 0 {
			e.Payload = &siltv1.EventInput_Data{Data: structpb.NewStringValue("x")}
		}
		// Strings that are not UTF-8 never arrive: proto3 decoding rejects them.
		if _, err := proto.Marshal(e); err != nil {
			return
		}
		checkAgrees(t, v, e)
	})
}

// FuzzAppendRequestRules checks the hand-written request rules (names,
// event count, producer) against protovalidate.
func FuzzAppendRequestRules(f *testing.F) {
	v, err := protovalidate.New()
	if err != nil {
		f.Fatal(err)
	}
	i := &validateInterceptor{v: v}
	for _, seed := range [][2]string{{"acme", "orders"}, {"a-b", "users/42/feed"}, {"-a", "/x"}, {"a", "a//b"}, {"A", "x/"}, {"9", "_:.-"}} {
		f.Add(seed[0], seed[1], "p1", uint16(1), true)
	}
	f.Fuzz(func(t *testing.T, project, stream, producer string, n uint16, withProducer bool) {
		req := &siltv1.AppendRequest{Project: project, Stream: stream}
		for range int(n % 4) {
			req.Events = append(req.Events, &siltv1.EventInput{Type: "t", Payload: &siltv1.EventInput_Data{Data: structpb.NewNullValue()}})
		}
		if withProducer {
			req.Producer = &siltv1.Producer{Id: producer}
		}
		if _, err := proto.Marshal(req); err != nil {
			return
		}
		want := v.Validate(req) == nil
		if got := i.appendValid(req); got != want {
			t.Fatalf("appendValid = %v, protovalidate valid = %v (%v) for %v", got, want, v.Validate(req), req)
		}
	})
}

func TestNames_AgreeWithRules(t *testing.T) {
	t.Parallel()
	v, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	projects := []string{"a", "acme", "a-b", "-a", "a-", "A", "a_b", strings.Repeat("a", 63), strings.Repeat("a", 64), "", "é"}
	streams := []string{"a", "_", "a/b", "a//b", "/a", "a/", ".a", "a/.b", "a:b-c.d_e", strings.Repeat("s", 256), strings.Repeat("s", 257), "a b", "é"}
	for _, p := range projects {
		for _, s := range streams {
			req := &siltv1.GetStreamRequest{Project: p, Stream: s}
			want := v.Validate(req) == nil
			if got := rules.ProjectName(p) && rules.StreamName(s); got != want {
				t.Errorf("project %q stream %q: fast %v, protovalidate %v", p, s, got, want)
			}
		}
	}
}
