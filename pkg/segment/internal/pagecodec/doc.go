// Package pagecodec holds pkg/segment's speed codecs for Parquet pages:
// decoders of the column chunks that arrow-go v18.4.1 reads slowly, page
// by page, into plain Go slices, and a zstd codec that reuses its
// encoders. pkg/segment chooses when to use them
// (and its arrowdecode build never does); this package knows Parquet
// pages, not segments.
//
// The whole API (pebble's sstable/colblk is the model: a few exported
// types, everything else unexported):
//
//   - [Int64Chunk] decodes an INT64 chunk of PLAIN or DELTA_BINARY_PACKED
//     version 1 pages into []int64 ([CanReadInt64] says whether it can).
//   - [DictChunk] decodes a dictionary-encoded BYTE_ARRAY chunk of version
//     1 pages into dictionary indices and the dictionary ([CanReadDict]).
//   - [RegisterZstd] makes arrow-go compress and decompress zstd pages
//     with this package's codec: same bytes, far fewer allocations.
//
// Invariants:
//
//   - A decoder returns exactly what arrow-go's column readers return
//     for the same chunk: the same values, nulls and definition levels
//     (FuzzChunks_MatchArrow).
//   - Damaged pages give an error, never a panic, a value the pages do
//     not hold or an index past the dictionary; no count read from a page
//     sizes an allocation beyond the values the chunk's metadata declares
//     (FuzzInt64Chunk_Pages, FuzzDictChunk_Pages).
//   - Nothing happens on import: arrow-go's codec registry changes only
//     when RegisterZstd is called (pkg/segment's Open and NewWriter).
package pagecodec
