// Package diskspace treats free disk space as a condition Silt checks
// before it writes, not one it discovers when a write fails.
//
// Badger writes its memtable WAL, its value log and every new table through
// memory-mapped files that it creates sparse (ftruncate, no allocation).
// Storing into a hole of such a mapping on a full filesystem raises SIGBUS,
// which kills the process; no error reaches Go code. So the writers ask a
// [Guard] first:
//
//   - Appends need the free space, less what is owed, to stay at or above
//     the low-water mark after their own bytes ([Guard.Check] with
//     [ForAppends]).
//   - Other writes (stream changes, seals, rotations, the value-log GC)
//     may go below the low-water mark but not below the floor
//     ([Essential]): they are small, or they are what frees space.
//   - Owed bytes are what a component will write later without asking:
//     Badger's unflushed memtables (each becomes a level-0 table) and the
//     compaction of level 0 into the base level. Components report them
//     through [Guard.Owe].
//   - A write larger than one commit (a segment) holds a reservation while
//     it runs ([Guard.Reserve]), so concurrent checks see its bytes as
//     spent.
//
// Nothing is latched: every check reads the filesystem again (statfs), so
// writes resume as soon as space returns.
//
// Errors from a Guard wrap [event.ErrDiskFull]; [IsFull] also recognizes
// the operating system's ENOSPC and EDQUOT, for writes that ran out of
// space anyway.
package diskspace
