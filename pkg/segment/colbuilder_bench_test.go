package segment

import (
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// BenchmarkColumnBuilder_AppendRecord parses analytics-like hot record
// bodies into the columns a query of the hot tier asks for.
func BenchmarkColumnBuilder_AppendRecord(b *testing.B) {
	e := event.Event{Type: "type-01", Time: time.Unix(1_700_000_000, 5), Attributes: map[string]string{"org": "org-042", "user": "u42", "status": "200"},
		Metrics: map[string]float64{"duration": 12}, Data: []byte(`{"user":{"id":42,"plan":"pro"},"page":"/docs/1","ref":"direct","session":"00000000000000aa"}`)}
	body := record.AppendBody(nil, &e, "01J00000000000000000000000")
	ingest := time.Unix(1_700_000_001, 0)
	for _, cols := range [][]string{{"time", "attributes"}, {"type"}, {"time", "attributes", "metrics", "data"}} {
		b.Run(cols[len(cols)-1], func(b *testing.B) {
			var cb ColumnBuilder
			if err := cb.Select(cols); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if cb.Rows() == 16384 {
					cb.Reset()
				}
				if err := cb.AppendRecord("s", 1, ingest, event.ContentTypeJSON, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
