package server_test

import (
	"testing"

	"connectrpc.com/connect"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
)

// TestTiers_BinaryOnJSONStream_StaysReadable: binary_data without a
// content type takes the stream's, application/json by default, and no
// rule checks that such bytes are JSON (only an explicit content type is
// checked). Append acknowledges an empty payload or bytes that are not
// JSON; every reader must still return them, as binary_data with the
// stream's content type, rather than fail the page with Internal: that
// made the stream unreadable and ended every Subscribe that reached the
// event (and a resuming client met it again on each retry).
func TestTiers_BinaryOnJSONStream_StaysReadable(t *testing.T) {
	t.Parallel()
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, noHistoryWork)
			c := ts.clients(p)
			in := []*siltv1.EventInput{
				{Type: "a", Payload: &siltv1.EventInput_BinaryData{BinaryData: []byte{}}},
				{Type: "a", Payload: &siltv1.EventInput_BinaryData{BinaryData: []byte{0, 1, 2}}},
				{Type: "a", Payload: &siltv1.EventInput_BinaryData{BinaryData: []byte(`{"ok":1}`)}},
			}
			if _, err := c.events.Append(testContext(t), connect.NewRequest(&siltv1.AppendRequest{Project: project, Stream: "s", Events: in})); err != nil {
				// Refusing them would do as well; accepting and then failing
				// to read them does not.
				requireCode(t, err, connect.CodeInvalidArgument)
				return
			}
			for _, tier := range []string{"hot", "cold"} {
				if tier == "cold" {
					rotate(t, ts, 1)
				}
				for _, r := range tierReaders(c, ts.url, 3) {
					evs, err := r.read(t)
					if err != nil || len(evs) != 3 {
						t.Fatalf("%s %s: %d events, %v", tier, r.name, len(evs), err)
					}
					for i, e := range evs[:2] {
						b, ok := e.GetPayload().(*siltv1.Event_BinaryData)
						if !ok || string(b.BinaryData) != string(in[i].GetBinaryData()) || e.GetContentType() != "application/json" {
							t.Errorf("%s %s: seq %d has payload %v (%q), want binary_data %q (application/json)", tier, r.name, e.GetSeq(), e.GetPayload(), e.GetContentType(), in[i].GetBinaryData())
						}
					}
					if _, ok := evs[2].GetPayload().(*siltv1.Event_Data); !ok {
						t.Errorf("%s %s: seq 3 has payload %v, want data", tier, r.name, evs[2].GetPayload())
					}
				}
			}
		})
	}
}
