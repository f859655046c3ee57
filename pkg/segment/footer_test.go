package segment

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestReader_Open_MutatedFooters damages the end of a segment (footer,
// metadata JSON, last row group) in 1,000 random ways: every one must give
// an error or correct data, and never panic or hang.
func TestReader_Open_MutatedFooters(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "seed.parquet")
	if _, err := writeFile(t.Context(), path, genEvents(11, 300, 3), WriterOptions{RowGroupRows: 100}); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	pos := func(b []byte) int { return len(b) - 1 - rng.IntN(min(len(b), 4000)) }
	for it := range 1000 {
		b := append([]byte(nil), good...)
		for range 1 + rng.IntN(4) {
			switch i := pos(b); rng.IntN(3) {
			case 0:
				b[i] = byte(rng.Uint32())
			case 1:
				b = append(b[:i:i], b[i+1:]...)
			default:
				b = append(b[:i:i], append([]byte{byte(rng.Uint32())}, b[i:]...)...)
			}
		}
		p := filepath.Join(dir, "f.parquet")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := exercise(t, p); err == nil && len(b) != len(good) {
			t.Logf("mutation %d changed the length and still read cleanly", it)
		}
	}
}
