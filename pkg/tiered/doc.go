// Package tiered is Silt's event log over both tiers: the hot tier
// (package hot) and the history tier of Parquet segments (package segment)
// listed in a manifest (package manifest). It rotates hot events into
// segments, compacts and retains them, and serves Read and the query
// engine's View (package query) as one log, split at one boundary
// (boundary.go).
//
// Rotation protocol, for one project and one ingest day at a time:
//
//  1. In one hot Snapshot, pick each stream's seal point (the last seq
//     ingested before the cutoff, always the end of an append) and stream
//     those events, in (stream, seq) order, into a segment.Writer, which
//     publishes the file atomically (temporary name, fsync, rename, fsync of
//     the directory).
//  2. manifest.Apply adds the segment. This is the commit point: from now on
//     the segment is the source of truth for those seqs.
//  3. hot.Store.Seal moves each stream's ColdSeq up; the hot tier deletes the
//     sealed blocks in the background.
//
// Recovery (Open) makes every crash point safe: temporary files are removed;
// a segment file the manifest does not list (crash between 1 and 2) is
// deleted, its events still being hot; a stream whose ColdSeq is below its
// manifest extent (crash between 2 and 3) is sealed again. Every step is
// idempotent.
//
// Stitched reads: Read takes a hot Snapshot first and acquires a manifest
// Version second. A seal only commits after its segment is in the manifest,
// so whatever the Snapshot no longer serves (seqs up to its ColdSeq) is in
// the Version; seqs up to the Version's extent come from segments and the
// rest from the Snapshot. No seq is read twice or missed, whatever
// rotations run meanwhile, and a segment stays on disk until every Version
// that lists it is released.
package tiered
