package hot

// The committer is the only goroutine that writes to Badger.
//
//	callers ──submit──▶ queue ──▶ run: take a group (≤ MaxGroupRequests, ≤ MaxGroupBytes)
//	                                 │
//	                                 ├─ for each request: validate against the group's staged
//	                                 │  state, then write its keys into the open transaction
//	                                 │  (a new transaction starts first if it would not fit)
//	                                 ├─ write stream metadata and producer state once per
//	                                 │  stream per transaction; commit (synced if Options.Sync)
//	                                 ├─ on success: staged state becomes the cache
//	                                 │  on failure: requests of the transactions that
//	                                 │  committed keep their results, the others get the
//	                                 │  error; the cache is rebuilt from Badger
//	                                 └─ ack every request, then OnCommit per appended stream
//
// When the queue is empty, and every cleanupEvery groups under load, the
// committer deletes a chunk of deleted streams' data or of sealed blocks.

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/silt-io/silt/pkg/event"
)

// opKind says what a request does.
type opKind uint8

const (
	opAppend opKind = iota
	opCreate
	opUpdate
	opDelete
	opSeal
	opRetain
	opCreateProject
	opUpdateProject
	opMarkProjectDeleting
	opRemoveProject
)

// request is one mutation waiting for the committer.
type request struct {
	kind     opKind
	key      nameKey
	settings event.StreamSettings  // create, update
	app      *preparedAppend       // append
	seals    []Seal                // seal
	retains  []Retain              // retain
	project  event.ProjectSettings // create and update project

	// Set by the committer before done is closed.
	info        event.StreamInfo
	projectInfo event.ProjectInfo
	result      event.AppendResult
	err         error
	done        chan struct{}
	// txn is the 1-based index, within its group, of the transaction the
	// request was judged and written in; 0 if it never reached one. Its ack
	// stands only if that transaction committed.
	txn int
}

func newRequest(kind opKind, project, name string) *request {
	return &request{kind: kind, key: nameKey{project, name}, done: make(chan struct{})}
}

// size is what the request counts against MaxGroupBytes.
func (r *request) size() int {
	if r.app != nil {
		return r.app.bytes
	}
	return 0
}

// run is the committer goroutine.
func (s *Store) run() {
	var carry *request
	for {
		first := carry
		carry = nil
		if first == nil {
			var ok bool
			if s.cleanupPending() {
				select {
				case first, ok = <-s.queue:
				default:
					s.cleanupStep()
					continue
				}
			} else {
				first, ok = <-s.queue
			}
			if !ok {
				break
			}
		}
		group := []*request{first}
		bytes := first.size()
	drain:
		for len(group) < s.opts.MaxGroupRequests {
			select {
			case r, ok := <-s.queue:
				if !ok {
					break drain
				}
				if bytes+r.size() > s.opts.MaxGroupBytes {
					carry = r
					break drain
				}
				group = append(group, r)
				bytes += r.size()
			default:
				break drain
			}
		}
		group, carry = s.linger(group, bytes, carry)
		s.lastGroup = len(group)
		if group = s.admit(group); len(group) > 0 {
			s.commitGroup(group)
		}
		// Under steady load the queue is never empty: clean up a chunk
		// every few groups so trimmed and deleted data still goes.
		if s.groups++; s.groups%cleanupEvery == 0 && s.cleanupPending() {
			s.cleanupStep()
		}
	}
	close(s.stopGC)
	<-s.gcDone
	s.readers.Wait()
	s.closeErr = s.db.Close()
	if s.closeErr != nil {
		s.closeErr = fmt.Errorf("close badger: %w", s.closeErr)
	}
	close(s.done)
}

// cleanupEvery is how many groups may commit between two cleanup steps.
const cleanupEvery = 16

// cleanupPending reports whether purges or trims wait.
func (s *Store) cleanupPending() bool { return len(s.purges) > 0 || len(s.trims) > 0 }

// cleanupStep runs one purge step, or else one trim step.
func (s *Store) cleanupStep() {
	if len(s.purges) > 0 {
		s.purgeStep()
		return
	}
	s.trimStep()
}

// linger waits briefly for more requests when the group is much smaller
// than the previous one. With durable acks a group costs one sync whatever
// its size, and callers that were just acked need a moment to send their
// next request; committing the first few alone would spend a whole sync on
// them and make the rest wait for the next one.
func (s *Store) linger(group []*request, bytes int, carry *request) ([]*request, *request) {
	if !s.opts.Sync || carry != nil || s.lastGroup < 8 || len(group) >= s.lastGroup/2 {
		return group, carry
	}
	timer := time.NewTimer(lingerTime)
	defer timer.Stop()
	for len(group) < s.lastGroup && len(group) < s.opts.MaxGroupRequests {
		select {
		case r, ok := <-s.queue:
			if !ok {
				return group, nil
			}
			if bytes+r.size() > s.opts.MaxGroupBytes {
				return group, r
			}
			group = append(group, r)
			bytes += r.size()
		case <-timer.C:
			return group, nil
		}
	}
	return group, nil
}

// lingerTime bounds how long linger waits.
const lingerTime = 500 * time.Microsecond

// commitGroup validates, writes, commits and acks one group.
func (s *Store) commitGroup(group []*request) {
	// Badger is done with the requests' buffers once Commit has returned.
	defer func() {
		for _, r := range group {
			r.app.release()
		}
	}()
	if s.broken != nil {
		for _, r := range group {
			r.err = s.broken
			close(r.done)
		}
		return
	}
	g := &stage{store: s, now: ingestClock(s.opts.Now()), names: make(map[nameKey]*streamState), nextID: s.nextID}
	err := g.run(group)
	if err == nil {
		g.apply()
	} else {
		err = fmt.Errorf("commit group: %w", err)
		s.log.Error("hot: group commit failed; rebuilding the stream cache", "err", err,
			"requests", len(group), "committed_transactions", g.transactions)
		if rerr := s.loadCache(); rerr != nil {
			s.broken = fmt.Errorf("hot store unusable after a failed commit: %w", errors.Join(err, rerr))
			s.log.Error("hot: stream cache rebuild failed", "err", s.broken)
		}
		for _, r := range group {
			if !g.committed(r) && (r.txn > 0 || r.err == nil) {
				r.err = err // judged in, or never reached, a transaction that did not commit
			}
		}
	}
	s.blocks.written(group) // before the acks: a query right after one finds them
	for _, r := range group {
		close(r.done)
	}
	if s.opts.OnCommit == nil {
		return
	}
	if err == nil {
		for _, st := range g.appended {
			if g.names[nameKey{st.project, st.name}] != st {
				continue // deleted later in the group
			}
			s.opts.OnCommit(st.project, st.name, st.lastSeq)
		}
		return
	}
	if s.broken == nil {
		s.notifyCommitted(g, group)
	}
}

// committed reports whether r's transaction committed.
func (g *stage) committed(r *request) bool { return r.txn > 0 && r.txn <= g.transactions }

// notifyCommitted calls OnCommit for every stream that a committed
// transaction of a failed group appended to, with the last seq of the cache
// rebuilt from Badger.
func (s *Store) notifyCommitted(g *stage, group []*request) {
	seen := make(map[nameKey]bool)
	for _, r := range group {
		if r.kind != opAppend || r.err != nil || !g.committed(r) || seen[r.key] {
			continue
		}
		seen[r.key] = true
		if st := s.streams[r.key]; st != nil {
			s.opts.OnCommit(st.project, st.name, st.lastSeq)
		}
	}
}

// ingestClock turns a clock reading into an ingest time: UTC, without a
// monotonic reading, truncated to the microsecond. Microseconds are what
// Parquet readers such as DuckDB keep of a timestamp, so the history tier's
// files read back exactly what the API returns.
func ingestClock(t time.Time) time.Time { return t.Round(0).UTC().Truncate(time.Microsecond) }

// stage is one group's view of stream state: the committed cache plus the
// changes of the group's requests so far. Nothing reaches the cache before
// the group's last transaction committed; if one fails, the cache is rebuilt
// from Badger instead.
type stage struct {
	store *Store
	now   time.Time
	// names holds every stream the group touched: a copy of the cached state
	// with the group's changes, or nil if the group deleted it.
	names map[nameKey]*streamState
	// projects is the same for projects.
	projects map[string]*projectState
	nextID   uint64
	// deleted lists ids the group deleted.
	deleted []uint64
	// trims lists ranges the group sealed.
	trims []trim
	// appended lists streams the group appended to, for OnCommit.
	appended    []*streamState
	appendedSet map[*streamState]bool

	// The open transaction and what it must still write before commit.
	txn          *badger.Txn
	used         budget
	dirty        map[*streamState]map[string]bool // stream -> producer ids to write
	nextIDDirty  bool
	transactions int
}

// budget counts a transaction's size the way Badger's checkSize does.
type budget struct{ size, count int64 }

// entrySize is Badger's estimate for one entry (key, value, metas,
// version), as Txn.checkSize counts it: a value of threshold bytes or more
// goes to the value log and counts as its pointer.
func entrySize(threshold int64, keyLen, valueLen int) int64 {
	if int64(valueLen) >= threshold {
		valueLen = valuePointerLen
	}
	return int64(keyLen+valueLen) + 2 + 10
}

// entryBound bounds entrySize for any value of at most maxValueLen bytes:
// one just under the threshold counts more than a pointer.
func entryBound(threshold int64, keyLen, maxValueLen int) int64 {
	return entrySize(threshold, keyLen, int(min(int64(maxValueLen), threshold-1)))
}

// lookup returns the group's view of a stream (nil if missing), copying it
// from the cache on first touch.
func (g *stage) lookup(k nameKey) *streamState {
	if st, ok := g.names[k]; ok {
		return st
	}
	base := g.store.streams[k]
	if base == nil {
		return nil
	}
	st := *base
	st.staged = nil
	g.names[k] = &st
	return &st
}

// create stages a new stream.
func (g *stage) create(k nameKey, set event.StreamSettings) *streamState {
	if set.ContentType == "" {
		set.ContentType = event.ContentTypeJSON
	}
	st := &streamState{
		project: k.project, name: k.name, id: g.nextID, settings: set,
		createTime: g.now, updateTime: g.now, firstSeq: 1,
	}
	g.nextID++
	g.markNextIDDirty()
	g.names[k] = st
	g.markDirty(st, "")
	return st
}

// markDirty records that st's metadata (and producer pid's state, if pid is
// not empty) must be written before the transaction commits, and counts
// what that will cost the transaction the first time: the requests admitted
// after this one must leave room for it.
func (g *stage) markDirty(st *streamState, pid string) {
	thr := g.store.opts.valueThreshold
	if g.dirty == nil {
		g.dirty = make(map[*streamState]map[string]bool)
	}
	ps := g.dirty[st]
	if ps == nil {
		ps = make(map[string]bool)
		g.dirty[st] = ps
		g.used.size += metaEntryBound(thr, len(st.project), len(st.name))
		g.used.count++
	}
	if pid != "" && !ps[pid] {
		ps[pid] = true
		g.used.size += entryBound(thr, 9+len(pid), maxProducerValueLen)
		g.used.count++
	}
}

// markNextIDDirty records that the stream-id counter must be written before
// the transaction commits, counting it the first time as markDirty does.
func (g *stage) markNextIDDirty() {
	if !g.nextIDDirty {
		g.nextIDDirty = true
		g.used.size += entrySize(g.store.opts.valueThreshold, len(nextIDKey), 8)
		g.used.count++
	}
}

// metaEntryBound bounds the transaction cost of the metadata entry of a
// stream whose names are that long, whatever its settings: its key, and a
// value (encodeMeta) of at most 200 bytes beside the content type.
func metaEntryBound(threshold int64, projectLen, nameLen int) int64 {
	return entryBound(threshold, 1+projectLen+nameLen+2*10, 200+maxContentTypeBytes)
}

// run processes the group's requests. An error stops it: the requests of
// the transactions committed so far (r.txn <= g.transactions) stand, the
// rest of the group fails.
func (g *stage) run(group []*request) error {
	defer func() {
		if g.txn != nil {
			g.txn.Discard()
		}
	}()
	for _, r := range group {
		need := estimate(r, g.store.opts.valueThreshold)
		if need.size >= txnBudget.size || need.count >= txnBudget.count {
			r.err = fmt.Errorf("append %d bytes to %s/%s: %w", r.size(), r.key.project, r.key.name, event.ErrAppendTooLarge)
			continue
		}
		if g.txn != nil && (g.used.size+need.size >= txnBudget.size || g.used.count+need.count >= txnBudget.count) {
			if err := g.commit(); err != nil {
				return err
			}
		}
		if g.txn == nil {
			g.txn = g.store.db.NewTransaction(true)
			g.used = budget{}
		}
		r.txn = g.transactions + 1
		var err error
		switch r.kind {
		case opAppend:
			err = g.append(r)
		case opCreate:
			err = g.createStream(r)
		case opUpdate:
			err = g.updateStream(r)
		case opDelete:
			err = g.deleteStream(r)
		case opSeal:
			err = g.seal(r)
		case opRetain:
			err = g.retain(r)
		case opCreateProject:
			err = g.createProject(r)
		case opUpdateProject:
			err = g.updateProject(r)
		case opMarkProjectDeleting:
			err = g.markProjectDeleting(r)
		case opRemoveProject:
			err = g.removeProject(r)
		}
		if err != nil {
			return err
		}
	}
	if g.txn != nil {
		return g.commit()
	}
	return nil
}

// estimate bounds what r can add to a transaction of a store whose value
// threshold is threshold, including the stream metadata, producer state and
// stream-id counter written at commit. With math.MaxInt64 it bounds the
// bytes r writes, every value in full.
func estimate(r *request, threshold int64) budget {
	b := budget{size: metaEntryBound(threshold, len(r.key.project), len(r.key.name)) + entrySize(threshold, len(nextIDKey), 8), count: 2}
	projectKeyLen := 1 + len(r.key.project)
	switch r.kind {
	case opDelete:
		b.size += entrySize(threshold, 9, 0)
		b.count++
	case opCreate:
		// The project's implicit record.
		b.size += entrySize(threshold, projectKeyLen, implicitProjectValueLen)
		b.count++
	case opCreateProject, opUpdateProject, opMarkProjectDeleting, opRemoveProject:
		b.size += entryBound(threshold, projectKeyLen, maxProjectValueLen)
		b.count++
	case opSeal, opRetain:
		// One stream meta per seal or retain, of names at most 63+256.
		n := int64(len(r.seals) + len(r.retains))
		b.size += n * metaEntryBound(threshold, 63, 256)
		b.count += n
	case opAppend:
		// The project's implicit record, if the append creates the stream.
		b.size += entrySize(threshold, projectKeyLen, implicitProjectValueLen)
		b.count++
		a := r.app
		for _, c := range a.chunks {
			// The block's value is its header and records: a pointer when
			// the records alone reach the threshold.
			if n := len(c.records()); int64(n) >= threshold {
				b.size += entrySize(threshold, 17, n)
			} else {
				b.size += entryBound(threshold, 17, maxBlockHeaderLen(maxContentTypeBytes)+n)
			}
			b.count++
		}
		b.size += entrySize(threshold, 25, 0)
		b.count++
		if a.producer != nil {
			b.size += entryBound(threshold, 9+len(a.producer.ID), maxProducerValueLen)
			b.count++
		}
	}
	return b
}

// set writes k=v into the open transaction.
func (g *stage) set(k, v []byte) error {
	g.used.size += entrySize(g.store.opts.valueThreshold, len(k), len(v))
	g.used.count++
	if err := g.txn.Set(k, v); err != nil {
		return fmt.Errorf("write key %x: %w", k[:min(len(k), 17)], err)
	}
	return nil
}

// del deletes k in the open transaction.
func (g *stage) del(k []byte) error {
	g.used.size += entrySize(g.store.opts.valueThreshold, len(k), 0)
	g.used.count++
	if err := g.txn.Delete(k); err != nil {
		return fmt.Errorf("delete key %x: %w", k[:min(len(k), 17)], err)
	}
	return nil
}

// commit writes the dirty metadata and producer state and commits the open
// transaction; with Options.Sync, Badger syncs before Commit returns.
func (g *stage) commit() error {
	for st, pids := range g.dirty {
		k := nameKey{st.project, st.name}
		if g.names[k] != st {
			continue // deleted (or deleted and recreated) later in the group
		}
		if err := g.set(streamKey(st.project, st.name), encodeMeta(st)); err != nil {
			return err
		}
		for pid := range pids {
			if err := g.set(producerKey(st.id, pid), encodeProducer(st.producer(pid))); err != nil {
				return err
			}
		}
	}
	if g.nextIDDirty {
		v := make([]byte, 8)
		putBeUint64(v, g.nextID)
		if err := g.set(nextIDKey, v); err != nil {
			return err
		}
	}
	g.dirty, g.nextIDDirty = nil, false
	txn := g.txn
	g.txn = nil
	if fault := g.store.opts.commitFault; fault != nil {
		if err := fault(g.transactions); err != nil {
			txn.Discard()
			return fmt.Errorf("commit transaction: %w", err)
		}
	}
	if err := txn.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	g.transactions++
	return nil
}

// apply makes the group's staged state the committer's cache.
func (g *stage) apply() {
	s := g.store
	for k, st := range g.names {
		if st == nil {
			delete(s.streams, k)
			continue
		}
		if len(st.staged) > 0 {
			merged := make(map[string]*producerState, len(st.producers)+len(st.staged))
			for pid, ps := range st.producers {
				merged[pid] = ps
			}
			for pid, ps := range st.staged {
				merged[pid] = ps
			}
			st.producers = merged
		}
		if st.producers == nil {
			st.producers = make(map[string]*producerState)
		}
		st.staged = nil
		s.streams[k] = st
	}
	for name, p := range g.projects {
		if p == nil {
			delete(s.projects, name)
		} else {
			s.projects[name] = p
		}
	}
	s.nextID = max(s.nextID, g.nextID)
	s.purges = append(s.purges, g.deleted...)
	s.trims = append(s.trims, g.trims...)
}
