package hot

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/silt-io/silt/pkg/diskspace"
)

// Defaults for [Options].
const (
	// DefaultMaxGroupRequests caps how many queued requests one group commit takes.
	DefaultMaxGroupRequests = 1024
	// DefaultMaxGroupBytes caps the encoded event bytes of one group commit.
	DefaultMaxGroupBytes = 4 << 20
	// DefaultValueLogGCInterval is how often Badger's value log is garbage-collected.
	DefaultValueLogGCInterval = 5 * time.Minute
	// DefaultQueryCacheBytes is the budget of decompressed hot blocks kept
	// for queries: about 200,000 analytics events.
	DefaultQueryCacheBytes = 64 << 20
	// DefaultListLimit is the page size of ListStreams when the request's Limit is not positive.
	DefaultListLimit = 100
)

// Options configure a [Store]. The zero value of every field but Dir is
// usable; note that the zero Sync is false, so use [DefaultOptions] for
// durable acks.
type Options struct {
	// Dir is the Badger directory; it is created if missing. Required.
	Dir string
	// Sync makes every ack wait until the group that carried it is synced
	// to disk (Badger's WAL and value log), so acknowledged appends survive
	// power loss. Without it an ack follows the commit to Badger's
	// memory-mapped files: it survives a crash of the process, not of the
	// machine.
	Sync bool
	// Logger receives the store's and Badger's warnings and errors;
	// nil means slog.Default().
	Logger *slog.Logger
	// OnCommit, when set, is called by the committer after each durable
	// group commit, once for every stream the group appended to, with the
	// stream's new last seq. It must return quickly (a non-blocking notify):
	// the next group waits for it.
	OnCommit func(project, stream string, lastSeq uint64)
	// Now is the clock for ingest, create and update times; nil means time.Now.
	Now func() time.Time
	// MaxGroupRequests caps the requests of one group; 0 means DefaultMaxGroupRequests.
	MaxGroupRequests int
	// MaxGroupBytes caps the encoded event bytes of one group (a single
	// larger request still commits alone); 0 means DefaultMaxGroupBytes.
	MaxGroupBytes int

	// ValueLogGCInterval is how often the store reclaims value-log space
	// left by deleted streams and trimmed events; 0 means
	// DefaultValueLogGCInterval, negative disables it.
	ValueLogGCInterval time.Duration

	// QueryCacheBytes is the budget of the cache of decompressed blocks
	// that queries of the hot tier read (Snapshot.ScanRecords); 0 means
	// DefaultQueryCacheBytes, negative disables it.
	QueryCacheBytes int64

	// Disk, when set, checks free space before every group commit, value-log
	// GC pass and Open, so a full disk refuses writes with an error wrapping
	// event.ErrDiskFull instead of faulting in Badger's memory-mapped files
	// (see diskspace.go). Nil checks nothing.
	Disk *diskspace.Guard

	// valueThreshold overrides Badger's ValueThreshold; benchmarks use it to
	// measure blocks stored in the LSM tree. Zero means badgerValueThreshold.
	valueThreshold int64
	// valueLogFileSize overrides the size of a value-log file (and so how
	// many trimmed bytes make a reclaim); tests use small ones. Zero means
	// badgerValueLogFileSize.
	valueLogFileSize int64
	// commitFault, when set, is called before each Badger commit with the
	// 0-based index of the transaction within its group; an error fails that
	// commit as Badger's would. Tests inject commit failures with it.
	commitFault func(txn int) error
}

// DefaultOptions returns the options the server uses: durable acks and
// default group limits.
func DefaultOptions(dir string) Options {
	return Options{Dir: dir, Sync: true}
}

// Validate reports whether o can open a store.
func (o Options) Validate() error {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, errors.New("Dir is required"))
	}
	if o.MaxGroupRequests < 0 {
		errs = append(errs, fmt.Errorf("MaxGroupRequests is %d, must not be negative", o.MaxGroupRequests))
	}
	if o.MaxGroupBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxGroupBytes is %d, must not be negative", o.MaxGroupBytes))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("hot options: %w", err)
	}
	return nil
}

// withDefaults fills the zero fields that have defaults.
func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxGroupRequests == 0 {
		o.MaxGroupRequests = DefaultMaxGroupRequests
	}
	if o.MaxGroupBytes == 0 {
		o.MaxGroupBytes = DefaultMaxGroupBytes
	}
	if o.ValueLogGCInterval == 0 {
		o.ValueLogGCInterval = DefaultValueLogGCInterval
	}
	if o.QueryCacheBytes == 0 {
		o.QueryCacheBytes = DefaultQueryCacheBytes
	}
	if o.valueThreshold == 0 {
		o.valueThreshold = badgerValueThreshold
	}
	if o.valueLogFileSize == 0 {
		o.valueLogFileSize = badgerValueLogFileSize
	}
	return o
}
