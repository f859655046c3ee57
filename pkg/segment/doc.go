// Package segment reads and writes Silt's history tier: Parquet files, built
// with Arrow (arrow-go pqarrow), each holding the events of many streams of
// one project, sorted by (stream, seq).
//
// A [Writer] turns sorted events into a segment in bounded
// memory, one row group at a time, and publishes it atomically. A [Reader]
// finds a stream's events by seq or ingest time without scanning the file:
// the segment's [Info] (stored in the footer, also returned by the writer for
// the manifest) says which rows and row groups hold each stream. Where
// arrow-go is slow, Read and Scan decode with Silt's own code, the page
// decoders behind internal/pagecodec; the build tag arrowdecode switches
// both to arrow-go's own reader (docs/segments.md).
//
// Invariants of every segment file:
//
//   - Rows are sorted by (stream, seq), strictly increasing: a stream's
//     rows are contiguous, and no (stream, seq) appears twice.
//   - A file at a segment's path is complete: it was written under
//     "<path>.tmp-<random>", fsynced, renamed to path and its directory
//     fsynced. A crash leaves nothing at path, or the whole file. Temporary
//     files are never segments ([IsTemp]); [CleanTemp] removes leftovers.
//   - A segment is immutable once written and holds at least one event.
//   - The footer's key-value metadata "silt.segment" (compact JSON) holds
//     the per-stream ranges and per-row-group (stream, seq) ranges, byte
//     ranges and CRC-32C checksums; Parquet statistics hold the time
//     ranges. [Open] rebuilds from them exactly the Info that the
//     writer returned ([Reader.Info]).
//   - A Reader checks a row group's checksum before it decodes it for the
//     first time, so damaged data gives [ErrCorrupt], not wrong events or
//     a panic.
//   - Read returns events exactly as appended (every field, presence
//     included; times in UTC to the nanosecond) except that empty
//     Attributes, Metrics and Data read back as nil, and an event without a
//     time reads with its ingest time (the writer stores it so; older
//     segments hold null, which readers fill).
//   - Every page of a flat column decodes alone (the format requires it;
//     arrow-go v18.4.1 breaks it for DELTA_BYTE_ARRAY, which the writer
//     therefore does not use), so a seek through the page index decodes
//     only the page holding its row. Map columns have version 1 pages that
//     may split a row, and no page index.
package segment
