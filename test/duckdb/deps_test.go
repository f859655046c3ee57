package duckcheck

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

// segmentDeps are the modules that decide the bytes of a segment file.
// duckdb-go requires newer versions than the product, so go.mod pins them
// back with replace directives: this test keeps those pins in step with the
// product's go.mod, so the segments tested here are the ones Silt writes.
var segmentDeps = []string{
	"github.com/apache/arrow-go/v18",
	"github.com/klauspost/compress",
	"github.com/apache/thrift",
}

func TestBuild_SegmentDepsMatchProduct(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	product, err := modfile.ParseLax("go.mod", b, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, r := range product.Require {
		want[r.Mod.Path] = r.Mod.Version
	}
	// The version this module builds: the replacement's, if any.
	args := append([]string{"list", "-m", "-f", "{{.Path}} {{.Version}}{{with .Replace}} {{.Version}}{{end}}"}, segmentDeps...)
	out, err := exec.CommandContext(t.Context(), "go", args...).Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		path, built := f[0], f[len(f)-1]
		if built != want[path] {
			t.Errorf("%s: this module builds %s, the product requires %q: update the replace directive in test/duckdb/go.mod",
				path, built, want[path])
		}
	}
}
