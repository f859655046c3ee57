package hot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/skl"

	"github.com/silt-io/silt/pkg/event"
)

// Badger settings this package depends on; see docs/storage.md.
const (
	// badgerMemTableSize is Badger's memtable size. Each memtable is an
	// arena of about 1.3 times this, allocated up front on the Go heap
	// ("Memory at rest" in docs/storage.md). It also fixes the largest
	// transaction Badger accepts (15% of it, where a value in the value log
	// counts as its pointer): the API's largest request is blocks of 4 KiB
	// and more, so it fits (TestStore_Append_LargestRequestFits).
	badgerMemTableSize = 16 << 20
	// badgerNumMemtables is the active memtable plus one being flushed
	// (Badger's default is 5, up to 4 full ones waiting for a flush).
	badgerNumMemtables = 2
	// badgerBlockCacheSize bounds Badger's cache of decompressed table
	// blocks (Badger's default is 256 MiB, which a rotation's scan of
	// single-event blocks fills). Blocks of 4 KiB and more are in the value
	// log and never pass through it.
	badgerBlockCacheSize = 16 << 20
	// badgerValueThreshold sends blocks of 4 KiB and more to the value log,
	// keeping small values (single-event blocks, metadata, producer state) in
	// the LSM tree; measured in docs/storage.md.
	badgerValueThreshold = 4 << 10
	// valuePointerLen is what a value in the value log costs a
	// transaction: Badger counts its pointer.
	valuePointerLen = 12
	// maxValueThreshold is Badger's largest ValueThreshold (LSM-only layout).
	maxValueThreshold = 1 << 20
	// maxBlockBytes is where a request's records are cut into another block.
	maxBlockBytes = 256 << 10
	// maxContentTypeBytes bounds a stream's content type: 256 characters
	// (the API's rule) of up to 4 bytes each.
	maxContentTypeBytes = 4 * 256
	// maxRecordBytes is the largest encoded event; larger ones are event.ErrAppendTooLarge.
	maxRecordBytes = 1 << 20
	// badgerValueLogFileSize is the size of one value-log file, the unit in
	// which the GC frees space (Badger's default is 1 GiB).
	badgerValueLogFileSize = 32 << 20
)

// txnBudget is how much of Badger's transaction limit one of our
// transactions may use: Badger refuses a transaction at 15% of the memtable
// size or at that many bytes divided by its skiplist node size; we stop at
// 90% of both by our own exact accounting of Badger's formula.
var txnBudget = func() budget {
	maxSize := int64(badgerMemTableSize) * 15 / 100
	return budget{size: maxSize * 9 / 10, count: maxSize / int64(skl.MaxNodeSize) * 9 / 10}
}()

// Store is the Badger hot tier. Its methods are safe for concurrent use.
type Store struct {
	// lastGroup is the size of the previous group (committer goroutine only).
	lastGroup int
	opts      Options
	log       *slog.Logger
	db        *badger.DB

	// queue carries requests to the committer; it is closed by Close.
	queue chan *request
	// done is closed when the committer has exited and Badger is closed;
	// closeErr is set before.
	done     chan struct{}
	closeErr error
	// stopGC stops the value-log GC goroutine; gcDone is closed when it has.
	stopGC chan struct{}
	gcDone chan struct{}
	// gcNow wakes the GC goroutine early (after a reclaim); gcMu keeps a
	// GC pass and a reclaim apart.
	gcNow chan struct{}
	gcMu  sync.Mutex

	// mu protects closed. Senders on queue and readers hold it shared while
	// they check closed and send (or register in readers); Close holds it
	// exclusively to set closed and close queue.
	mu      sync.RWMutex
	closed  bool
	readers sync.WaitGroup

	// blocks keeps decompressed blocks for queries (nil: off).
	blocks *blockCache
	// owedCache is what Badger will write without asking (diskspace.go).
	owedCache owedBytes

	// The committer goroutine owns the rest, without a lock.

	// streams is the committed state of every live stream.
	streams map[nameKey]*streamState
	// projects is the committed state of every project.
	projects map[string]*projectState
	// nextID is the next stream id to allocate.
	nextID uint64
	// purges lists deleted stream ids whose data is still in Badger.
	purges []uint64
	// trims lists sealed ranges whose hot blocks are still in Badger.
	trims []trim
	// trimmedBytes counts the block bytes trimmed or purged since the last
	// reclaim (reclaim.go).
	trimmedBytes int64
	// reclaimAgain is set when a reclaim compacted while a snapshot was
	// open: versions newer than its read timestamp survive a compaction,
	// so their value-log bytes were not counted as garbage; the next trim
	// with no snapshot open reclaims again. Committer only.
	reclaimAgain bool
	// snapshots counts open Views (rotations and queries hold them for
	// seconds).
	snapshots atomic.Int64
	// groups counts committed groups.
	groups uint64
	// broken, once set, fails every request: the cache could not be rebuilt,
	// or Badger's memory state is unsafe (see reclaim).
	broken error
	// unusable, once set, fails every read too: Badger's memory state is not
	// safe to read. Atomic, not under mu: senders hold mu while they wait
	// for room in the committer's queue.
	unusable atomic.Pointer[error]
}

// nameKey names a stream.
type nameKey struct{ project, name string }

// Open opens (or creates) the store in opts.Dir, rebuilds the stream cache
// from Badger and starts the committer.
func Open(opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if err := removeEmptyLogs(opts.Dir, opts.Logger); err != nil {
		return nil, fmt.Errorf("open hot store: %w", err)
	}
	if err := checkOpenSpace(opts); err != nil {
		return nil, fmt.Errorf("open hot store in %s: %w", opts.Dir, err)
	}
	bopts := badger.DefaultOptions(opts.Dir).
		WithLogger(badgerLogger{opts.Logger}).
		// With Sync, Badger syncs its WAL and value log inside every commit
		// (and the old value-log file when it rotates); the committer commits
		// once per group, so that is one sync per group.
		WithSyncWrites(opts.Sync).
		WithDetectConflicts(false).
		WithMemTableSize(badgerMemTableSize).
		WithNumMemtables(badgerNumMemtables).
		WithBlockCacheSize(badgerBlockCacheSize).
		WithValueThreshold(opts.valueThreshold).
		WithValueLogFileSize(opts.valueLogFileSize).
		WithNumVersionsToKeep(1).
		WithMetricsEnabled(false).
		// Damaged bytes fail the read instead of reading as other events
		// or as a gap (verifyTables checks the tables at Open); the cost
		// is measured in docs/storage.md.
		WithChecksumVerificationMode(options.OnBlockRead).
		WithVerifyValueChecksum(true)
	db, err := badger.Open(bopts)
	if err != nil {
		return nil, fmt.Errorf("open badger in %s: %w", opts.Dir, err)
	}
	if err := verifyTables(db); err != nil {
		return nil, errors.Join(fmt.Errorf("open badger in %s: %w", opts.Dir, err), db.Close())
	}
	s := &Store{
		opts:   opts,
		log:    opts.Logger,
		db:     db,
		queue:  make(chan *request, 2*opts.MaxGroupRequests),
		done:   make(chan struct{}),
		stopGC: make(chan struct{}),
		gcDone: make(chan struct{}),
		gcNow:  make(chan struct{}, 1),
		blocks: newBlockCache(opts.QueryCacheBytes),
	}
	if err := s.loadCache(); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	if err := s.adoptProjects(); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	opts.Disk.Owe(s.owed)
	go s.run()
	go s.runValueLogGC()
	return s, nil
}

// Close stops accepting requests, commits and acks every request already
// queued, then closes Badger. If ctx ends first Close returns its error and
// the store finishes closing in the background. Calling Close again waits
// for the same shutdown.
func (s *Store) Close(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.mu.Unlock()
	select {
	case <-s.done:
		return s.closeErr
	case <-ctx.Done():
		return fmt.Errorf("close hot store: %w", ctx.Err())
	}
}

// submit queues r and waits for its ack. If ctx ends while r is queued or
// being committed, submit returns ctx's error and r may still commit.
func (s *Store) submit(ctx context.Context, r *request) error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return event.ErrClosed
	}
	select {
	case s.queue <- r:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// beginRead registers a reader so Close waits for it before closing Badger.
func (s *Store) beginRead() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return event.ErrClosed
	}
	if err := s.unusable.Load(); err != nil {
		return *err
	}
	s.readers.Add(1)
	return nil
}

// endRead ends what beginRead began.
func (s *Store) endRead() { s.readers.Done() }

// loadCache rebuilds the committer's state from Badger.
func (s *Store) loadCache() error {
	streams := make(map[nameKey]*streamState)
	byID := make(map[uint64]*streamState)
	var nextID uint64 = 1
	var purges []uint64
	var trims []trim
	var projects map[string]*projectState
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		if projects, err = loadProjects(txn); err != nil {
			return err
		}
		if item, err := txn.Get(nextIDKey); err == nil {
			if err := item.Value(func(v []byte) error {
				if len(v) != 8 {
					return fmt.Errorf("%w: next id value of %d bytes", errCorrupt, len(v))
				}
				nextID = beUint64(v)
				return nil
			}); err != nil {
				return fmt.Errorf("read next stream id: %w", err)
			}
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("read next stream id: %w", err)
		}
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: []byte{spaceStream}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			project, name, ok := parseStreamKey(item.Key())
			if !ok {
				return fmt.Errorf("load streams: %w: key %x", errCorrupt, item.Key())
			}
			var st *streamState
			if err := item.Value(func(v []byte) (err error) {
				st, err = decodeMeta(project, name, v)
				return err
			}); err != nil {
				return fmt.Errorf("load stream %s/%s: %w", project, name, err)
			}
			st.producers = make(map[string]*producerState)
			if t, ok := pendingTrim(txn, st); ok {
				trims = append(trims, t)
			}
			streams[nameKey{project, name}] = st
			byID[st.id] = st
			nextID = max(nextID, st.id+1)
		}
		it.Close()

		it = txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: []byte{spaceProducer}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()
			if len(k) < 9 {
				return fmt.Errorf("load producers: %w: key %x", errCorrupt, k)
			}
			st := byID[idFromKey(k)]
			if st == nil {
				continue // a deleted stream's, waiting for its purge
			}
			if err := item.Value(func(v []byte) error {
				ps, err := decodeProducer(v)
				st.producers[string(k[9:])] = ps
				return err
			}); err != nil {
				return fmt.Errorf("load producer of %s/%s: %w", st.project, st.name, err)
			}
		}
		it.Close()

		it = txn.NewIterator(badger.IteratorOptions{Prefix: []byte{spaceTombstone}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			id := idFromKey(it.Item().Key())
			purges = append(purges, id)
			nextID = max(nextID, id+1)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rebuild stream cache: %w", err)
	}
	s.streams = streams
	s.projects = projects
	s.nextID = max(s.nextID, nextID)
	s.purges = purges
	s.trims = trims
	return nil
}

// badgerLogger sends Badger's warnings and errors to slog and drops the rest.
type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(f string, a ...any) {
	l.log.Error("badger: "+trimNewline(fmt.Sprintf(f, a...)), "component", "hot")
}

func (l badgerLogger) Warningf(f string, a ...any) {
	l.log.Warn("badger: "+trimNewline(fmt.Sprintf(f, a...)), "component", "hot")
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}

func trimNewline(s string) string {
	for len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	return s
}
