// Package manifest records which Parquet segments exist and what each
// holds, so that a reader finds the one or two segments (and, through
// segment.Info, the row groups) that hold a stream's seq range without
// opening any other file.
//
// Invariants:
//   - The manifest file is replaced atomically (package durable): after a
//     crash it is the state before or after an Apply, never a mix. A segment
//     is visible only once an Apply that adds it has returned.
//   - Within one Version, the segments of a (project, stream) hold disjoint
//     seq ranges; Apply rejects an edit that would make them overlap.
//   - A Version is immutable. Readers Acquire the current Version and
//     Release it when done; a segment that an Apply removed is handed to
//     Options.Obsolete (by default: its file is deleted) only once no
//     acquired Version refers to it, so compaction never breaks a read in
//     flight.
package manifest
