package pagecodec

import (
	"io"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// arrow-go v18.4.1's zstd codec builds a new encoder, with fresh multi-MiB
// history buffers, for every page it compresses at an explicit level; that
// was two thirds of the time to write a segment. zstdCodec keeps one
// encoder per level, reused (zstd.Encoder.EncodeAll is safe for concurrent
// use), with a 2 MiB window: for pages up to 2 MiB the bytes are the same.
// It changes the speed and memory of every zstd Parquet writer in the
// process, not its format.

// RegisterZstd makes zstdCodec arrow-go's zstd codec, for every Parquet
// writer and reader in the process, once; later calls do nothing.
//
// arrow-go's codec registry (compress.RegisterCodec) is a plain map, meant
// to be written from init and read without a lock by every page a writer
// compresses or a reader decompresses. So RegisterZstd must happen before
// any goroutine uses arrow-go's Parquet codecs: call it at the start of
// every constructor that writes or reads Parquet (the sync.Once orders
// the write before every caller's later reads). Silt is the only user of
// arrow-go's Parquet package in its binary.
func RegisterZstd() { registerZstd() }

// registerZstd writes the registry once.
var registerZstd = sync.OnceFunc(func() {
	compress.RegisterCodec(compress.Codecs.Zstd, zstdCodec{})
})

// zstdCodec implements compress.Codec and compress.StreamingCodec.
type zstdCodec struct{}

var (
	// zstdEncoders maps a zstd.EncoderLevel to its shared *zstd.Encoder.
	zstdEncoders sync.Map
	// zstdDecoder is the shared decoder, made on first use.
	zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
		d, _ := zstd.NewReader(nil)
		return d
	})
)

// zstdWindow is the encoders' window. A page is compressed as one frame,
// and default pages are 1 MiB, so a larger window finds nothing more; the
// default (8 MiB) makes each encoder keep 3 to 4 times the memory (tens of
// MiB at the best level).
const zstdWindow = 2 << 20

// An encoder allocates all its states (one per concurrent EncodeAll) when
// first used, and a state of the best level holds 34 MiB of match tables,
// so the encoders are limited to two states (one at the best level), not
// the default GOMAXPROCS. More concurrent writers wait for a state.

// encodersIdle is how long the shared encoders outlive their last use.
// Their states stay allocated while they exist (54 MiB live heap after
// one segment at the default levels, which the GC doubles into resident
// memory), so a server that has stopped rotating drops them; one that
// rotates every history interval (15 s at most) keeps them.
const encodersIdle = 30 * time.Second

var (
	// encodersMu protects dropEncoders.
	encodersMu sync.Mutex
	// dropEncoders empties zstdEncoders once encodersIdle has passed since
	// the last encoderFor; nil until the first.
	dropEncoders *time.Timer
)

// encoderFor returns the shared encoder of a zstd level.
func encoderFor(level int) *zstd.Encoder {
	encodersMu.Lock()
	if dropEncoders == nil {
		// A writer holding an encoder keeps using it; the next
		// encoderFor makes a new one.
		dropEncoders = time.AfterFunc(encodersIdle, zstdEncoders.Clear)
	} else {
		dropEncoders.Reset(encodersIdle)
	}
	encodersMu.Unlock()
	l := zstd.SpeedDefault
	if level != compress.DefaultCompressionLevel {
		l = zstd.EncoderLevelFromZstd(level)
	}
	if e, ok := zstdEncoders.Load(l); ok {
		return e.(*zstd.Encoder)
	}
	conc := 2
	if l == zstd.SpeedBestCompression {
		conc = 1
	}
	e, _ := zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(l), zstd.WithWindowSize(zstdWindow), zstd.WithEncoderConcurrency(conc))
	actual, _ := zstdEncoders.LoadOrStore(l, e)
	return actual.(*zstd.Encoder)
}

// Encode compresses src at the default level.
func (zstdCodec) Encode(dst, src []byte) []byte {
	return encoderFor(compress.DefaultCompressionLevel).EncodeAll(src, dst[:0])
}

// EncodeLevel compresses src at a zstd level.
func (zstdCodec) EncodeLevel(dst, src []byte, level int) []byte {
	return encoderFor(level).EncodeAll(src, dst[:0])
}

// Decode decompresses src; like arrow-go's codec it panics on bad input
// (the Reader checks row-group CRCs first, so segments never get here).
func (zstdCodec) Decode(dst, src []byte) []byte {
	out, err := zstdDecoder().DecodeAll(src, dst[:0])
	if err != nil {
		panic(err)
	}
	return out
}

// CompressBound is zstd's worst-case output size for len input bytes.
func (zstdCodec) CompressBound(len int64) int64 {
	extra := ((128 << 10) - len) >> 11
	if len >= (128 << 10) {
		extra = 0
	}
	return len + (len >> 8) + extra
}

// zstdReadCloser closes a streaming decoder.
type zstdReadCloser struct{ *zstd.Decoder }

// Close releases the decoder.
func (z zstdReadCloser) Close() error {
	z.Decoder.Close()
	return nil
}

// NewReader decompresses a stream.
func (zstdCodec) NewReader(r io.Reader) io.ReadCloser {
	d, _ := zstd.NewReader(r)
	return zstdReadCloser{d}
}

// NewWriter compresses a stream at the default level.
func (zstdCodec) NewWriter(w io.Writer) io.WriteCloser {
	e, _ := zstd.NewWriter(w)
	return e
}

// NewWriterLevel compresses a stream at a zstd level.
func (zstdCodec) NewWriterLevel(w io.Writer, level int) (io.WriteCloser, error) {
	l := zstd.SpeedDefault
	if level != compress.DefaultCompressionLevel {
		l = zstd.EncoderLevelFromZstd(level)
	}
	return zstd.NewWriter(w, zstd.WithEncoderLevel(l))
}
