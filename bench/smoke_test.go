package bench

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestSilt_Smoke proves the harness talks to every engine: append 10
// events (a batch of 5 and 5 single appends), read 10 back, and see a live
// subscriber receive one more.
func TestSilt_Smoke(t *testing.T) {
	for _, spec := range engines() {
		t.Run(spec.name, func(t *testing.T) {
			e := spec.start(t)
			defer e.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			stream, err := e.NewStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.AppendBatch(ctx, stream, batch(0, 5)); err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				seq, err := e.AppendOne(ctx, stream, &samplePool[5+i])
				if err != nil {
					t.Fatal(err)
				}
				if want := uint64(6 + i); seq != want {
					t.Fatalf("seq %d, want %d", seq, want)
				}
			}
			n, err := e.ReadAll(ctx, stream, 4, 10)
			if err != nil {
				t.Fatal(err)
			}
			if n != 10 {
				t.Fatalf("read %d events, want 10", n)
			}
			got := make(chan uint64, 1)
			var once sync.Once
			stop, err := e.Subscribe(ctx, stream, func(seq uint64) { once.Do(func() { got <- seq }) })
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			if _, err := e.AppendOne(ctx, stream, &samplePool[10]); err != nil {
				t.Fatal(err)
			}
			select {
			case seq := <-got:
				if seq != 11 {
					t.Fatalf("subscriber got seq %d first, want 11", seq)
				}
			case <-ctx.Done():
				t.Fatal("subscriber got nothing")
			}
		})
	}
}
