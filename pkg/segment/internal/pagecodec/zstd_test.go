package pagecodec

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
)

// TestRegisterZstd_OnlyWhenCalled checks that importing the package leaves
// arrow-go's zstd codec alone, that RegisterZstd replaces it, and that the
// two codecs read each other's pages. (Not parallel: it must run before
// any other test registers the codec.)
func TestRegisterZstd_OnlyWhenCalled(t *testing.T) {
	theirs, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := theirs.(zstdCodec); ok {
		t.Fatal("importing pagecodec registered its zstd codec")
	}
	RegisterZstd()
	RegisterZstd() // a second call does nothing
	ours, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ours.(zstdCodec); !ok {
		t.Fatalf("after RegisterZstd the zstd codec is %T", ours)
	}
	page := bytes.Repeat([]byte("silt page bytes "), 4096)
	for _, level := range []int{compress.DefaultCompressionLevel, 1, 12} {
		for _, c := range [][2]compress.Codec{{ours, theirs}, {theirs, ours}} {
			got := c[1].Decode(nil, c[0].EncodeLevel(nil, page, level))
			if !bytes.Equal(got, page) {
				t.Fatalf("level %d: %T decoded %T's page into %d bytes, want %d", level, c[1], c[0], len(got), len(page))
			}
		}
	}
}
