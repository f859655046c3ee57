// Package hot is Silt's hot tier: the newest events of every stream, kept in
// Badger and written through a single group-committing sequencer.
//
// # Write path
//
// Every mutation (Append, CreateStream, UpdateStream, DeleteStream) becomes a
// request on one queue. The caller's goroutine does the CPU work that needs no
// stream state (event IDs, framing the packed records it is handed, see
// package record, and cutting them into blocks). One committer goroutine owns all stream state: it drains the queue
// (up to [Options.MaxGroupRequests] and [Options.MaxGroupBytes]), validates
// each request against the state as it would be after the earlier requests of
// the same group, writes the whole group into one Badger transaction, makes it
// durable once (db.Sync when [Options.Sync] is set), and only then acks the
// callers and calls [Options.OnCommit]. A request that fails validation is
// rejected alone. A group larger than one Badger transaction commits as
// several; if one of them fails, the requests of the transactions already
// committed are acked with their results, every later request gets the
// error, and the committer's cache is rebuilt from Badger.
//
// # Invariants
//
//   - Only the committer goroutine writes to Badger and touches the stream
//     cache; readers use Badger snapshots and never the cache.
//   - A stream's events, its metadata (last seq, counts) and its producers'
//     state are written in the same Badger transaction, so every snapshot sees
//     them agree.
//   - Seqs start at 1 and are gapless per stream; IngestTime is one value per
//     block and never decreases along a stream.
//   - Stream ids are allocated from a persistent counter and never reused, and
//     all data keys start with the id, so a deleted-and-recreated stream shares
//     nothing with its predecessor.
//   - With Options.Sync, Badger runs with SyncWrites: each commit returns
//     only after its WAL and value-log writes are synced, and readers see a
//     commit only after that. An explicit db.Sync per group is not enough:
//     it syncs only the newest value-log file; see docs/storage.md.
//   - One request never spans two Badger transactions, and its ack stands
//     only if that transaction committed.
//
// See docs/storage.md for the key layout, the block codec and the durability
// argument.
package hot
