package diskspace

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/silt-io/silt/pkg/event"
)

// Defaults for [Options].
const (
	// DefaultLowWater is the free space appends leave: room for what the
	// owed bytes do not count (compactions below the base level, Badger's
	// discard and manifest files, the history tier's manifest), enough for
	// a small deployment and small enough for a 64 MiB test filesystem. It
	// holds half a Badger value-log file (16 MiB) and the floor, which the
	// value-log GC needs to rewrite a file once appends have stopped.
	DefaultLowWater = 32 << 20
	// Floor is the free space no write may go below: a few pages for the
	// headers of new Badger files and small commits (seals, trims).
	Floor = 2 << 20
	// DefaultPollEvery is how often [Guard.Wait] looks again.
	DefaultPollEvery = time.Second
)

// Priority says how far a write may go into the reserve.
type Priority int

const (
	// ForAppends keeps the low-water mark free.
	ForAppends Priority = iota
	// Essential keeps only the [Floor] free.
	Essential
)

// Space is a filesystem's size and the bytes an unprivileged writer may
// still use.
type Space struct {
	Free, Total int64
}

// Options configure a [Guard].
type Options struct {
	// LowWater is the free space, after owed bytes, below which appends are
	// refused; 0 means DefaultLowWater. It is raised to Floor if lower.
	LowWater int64
	// Statfs reads the filesystem holding dir; nil means the operating
	// system's statfs. Tests fake free space with it.
	Statfs func(dir string) (Space, error)
	// PollEvery is how often Wait looks again; 0 means DefaultPollEvery.
	PollEvery time.Duration
}

// Guard decides whether a write fits on the filesystem of one directory.
// Its methods are safe for concurrent use, and a nil *Guard admits
// everything.
type Guard struct {
	dir      string
	lowWater int64
	statfs   func(string) (Space, error)
	poll     time.Duration

	// mu protects owed and reserved.
	mu       sync.Mutex
	owed     []func() int64
	reserved int64
}

// New returns a guard for the filesystem holding dir.
func New(dir string, opts Options) *Guard {
	g := &Guard{dir: dir, lowWater: opts.LowWater, statfs: opts.Statfs, poll: opts.PollEvery}
	if g.lowWater == 0 {
		g.lowWater = DefaultLowWater
	}
	g.lowWater = max(g.lowWater, Floor)
	if g.statfs == nil {
		g.statfs = Statfs
	}
	if g.poll <= 0 {
		g.poll = DefaultPollEvery
	}
	return g
}

// Dir is the directory whose filesystem g watches.
func (g *Guard) Dir() string { return g.dir }

// LowWater is the free space appends leave.
func (g *Guard) LowWater() int64 { return g.lowWater }

// Owe registers f, which reports the bytes a component will write later
// without asking (it must be cheap and safe for concurrent use). Every
// check subtracts them from the free space.
func (g *Guard) Owe(f func() int64) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.owed = append(g.owed, f)
}

// Check reports whether n more bytes fit at priority p; if not, the error
// wraps event.ErrDiskFull and says how much is free.
func (g *Guard) Check(n int64, p Priority) error {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.check(n, p)
}

// check is Check with mu held.
func (g *Guard) check(n int64, p Priority) error {
	sp, err := g.statfs(g.dir)
	if errors.Is(err, errors.ErrUnsupported) {
		return nil // no statfs here: nothing to check against
	}
	if err != nil {
		return fmt.Errorf("check free space in %s: %w", g.dir, err)
	}
	var owed int64
	for _, f := range g.owed {
		owed += f()
	}
	mark := g.lowWater
	if p == Essential {
		mark = Floor
	}
	if left := sp.Free - owed - g.reserved - n; left < mark {
		return &FullError{Dir: g.dir, Free: sp.Free, Owed: owed + g.reserved, Need: n, Mark: mark, Essential: p == Essential}
	}
	return nil
}

// Reserve checks n bytes at priority p like Check and, if they fit, counts
// them as spent until release is called: for a write that takes a while
// (a segment), so that the checks of other writers meanwhile see them.
func (g *Guard) Reserve(n int64, p Priority) (release func(), err error) {
	if g == nil {
		return func() {}, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.check(n, p); err != nil {
		return nil, err
	}
	g.reserved += n
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			g.reserved -= n
			g.mu.Unlock()
		})
	}, nil
}

// Wait polls until n bytes fit at priority p or ctx ends; report, when not
// nil, is called with each refusal.
func (g *Guard) Wait(ctx context.Context, n int64, p Priority, report func(error)) error {
	if g == nil {
		return nil
	}
	for {
		err := g.Check(n, p)
		if err == nil || !IsFull(err) {
			return err
		}
		if report != nil {
			report(err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for disk space: %w", errors.Join(ctx.Err(), err))
		case <-time.After(g.poll):
		}
	}
}

// FullError says that a write was refused for lack of space.
type FullError struct {
	// Dir is the directory whose filesystem is full. The message names
	// only its last element ("…/hot"): it reaches clients.
	Dir string
	// Free is what statfs reported available.
	Free int64
	// Owed counts the bytes owed to pending writes and reserved by writes
	// in progress.
	Owed int64
	// Need is the size of the refused write.
	Need int64
	// Mark is the free space the write had to leave: the low-water mark,
	// or the floor for an essential write.
	Mark int64
	// Essential is set when the write was checked against the floor.
	Essential bool
}

// Error implements error.
func (e *FullError) Error() string {
	what := "the low-water mark"
	if e.Essential {
		what = "the floor"
	}
	return fmt.Sprintf("%v: %s free in %s, %s of it owed to pending storage writes, %s asked; %s of %s must stay free",
		event.ErrDiskFull, FormatSize(e.Free), "…"+string(filepath.Separator)+filepath.Base(e.Dir), FormatSize(e.Owed), FormatSize(e.Need), what, FormatSize(e.Mark))
}

// Unwrap returns event.ErrDiskFull.
func (e *FullError) Unwrap() error { return event.ErrDiskFull }

// IsFull reports whether err says the disk is full: a refusal of a Guard,
// or ENOSPC or EDQUOT from the operating system.
func IsFull(err error) bool {
	return errors.Is(err, event.ErrDiskFull) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
