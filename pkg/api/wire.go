package api

import (
	"io"

	"connectrpc.com/connect"
	"github.com/klauspost/compress/gzip"
)

// compressMinBytes: smaller messages go out uncompressed; gzip costs more
// than it saves on them (an Append response is ~40 bytes).
const compressMinBytes = 1024

// wireOptions are how the handlers encode and compress: the vtprotobuf codec
// (codec.go), and gzip with klauspost/compress at its fastest level instead
// of compress/gzip's default — a Read page of 1,000 events is ~300 KB, and on
// the standard library's default level compressing it cost more CPU than
// producing it.
func wireOptions() []connect.HandlerOption {
	return []connect.HandlerOption{
		connect.WithCompression("gzip",
			func() connect.Decompressor { return &gzip.Reader{} },
			func() connect.Compressor {
				w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
				return w
			},
		),
		connect.WithCompressMinBytes(compressMinBytes),
		connect.WithCodec(Codec{}),
	}
}
