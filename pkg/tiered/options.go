package tiered

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/silt-io/silt/pkg/diskspace"
	"github.com/silt-io/silt/pkg/hot"
	"github.com/silt-io/silt/pkg/segment"
	"github.com/silt-io/silt/pkg/vfs"
)

// Defaults for [Options].
const (
	// DefaultRotateAfter seals hot events once they are this old.
	DefaultRotateAfter = time.Minute
	// DefaultHotMaxBytes seals every hot event once the hot tier holds
	// about this many bytes of events.
	DefaultHotMaxBytes = 256 << 20
	// DefaultUnitBytes bounds what one rotation unit seals: about this many
	// bytes of events (estimated from each stream's average event size).
	DefaultUnitBytes = 32 << 20
	// DefaultCompactMinSegments is how many small segments of one project
	// and day the background compactor waits for before merging them.
	DefaultCompactMinSegments = 4
	// DefaultCompactTargetBytes is the size below which a segment is small,
	// and about the size of a merged segment.
	DefaultCompactTargetBytes = 128 << 20
)

// Options configure a [Store].
type Options struct {
	// Root is the segments directory (the manifest and the Hive-style
	// project=<p>/date=<d>/ folders). Required.
	Root string
	// Hot is the hot tier. Required; the Store does not close it.
	Hot *hot.Store
	// RotateAfter seals events ingested longer ago than this. Zero or
	// negative disables age-based rotation.
	RotateAfter time.Duration
	// HotMaxBytes seals every hot event when the hot tier's events pass
	// this size (estimated from each stream's average event size). Zero
	// disables size-based rotation.
	HotMaxBytes uint64
	// UnitBytes bounds one rotation unit (a segment, committed on its own):
	// it seals about this many bytes of events at most, but always at least
	// the events of one ingest instant. 0 means DefaultUnitBytes; negative
	// means no bound.
	UnitBytes int64
	// CheckEvery is how often the background loop rotates what is due,
	// compacts and enforces retention; zero means a quarter of RotateAfter,
	// between 1 s and 15 s. Negative disables the loop (Rotate, Compact and
	// EnforceRetention still work).
	CheckEvery time.Duration
	// CompactMinSegments is how many small segments of one project and day
	// the background compactor merges at once; 0 means
	// DefaultCompactMinSegments, negative disables background compaction.
	CompactMinSegments int
	// CompactTargetBytes is the size below which a segment is small; 0
	// means DefaultCompactTargetBytes.
	CompactTargetBytes int64
	// ProjectRetention bounds what each named project keeps, on top of
	// each stream's own retention settings.
	ProjectRetention map[string]Retention
	// Writer tunes the segment files (Project is set per segment; FS is
	// the Store's).
	Writer segment.WriterOptions
	// FS is the filesystem of the segments and the manifest (nil:
	// vfs.OS); tests inject faults through it.
	FS vfs.FS
	// Disk, when set, must have room for each segment before a rotation or
	// compaction writes it; otherwise the step fails with an error wrapping
	// event.ErrDiskFull and the background loop tries again next round.
	Disk *diskspace.Guard
	// Logger receives the rotator's logs; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultOptions returns the server's defaults for a root and a hot tier.
func DefaultOptions(root string, h *hot.Store) Options {
	return Options{Root: root, Hot: h, RotateAfter: DefaultRotateAfter, HotMaxBytes: DefaultHotMaxBytes}
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	var errs []error
	if o.Root == "" {
		errs = append(errs, errors.New("Root is required"))
	}
	if o.Hot == nil {
		errs = append(errs, errors.New("Hot is required"))
	}
	if err := o.Writer.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("history options: %w", err)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.FS = vfs.Or(o.FS)
	o.Writer.FS = o.FS
	if o.UnitBytes == 0 {
		o.UnitBytes = DefaultUnitBytes
	}
	if o.CompactMinSegments == 0 {
		o.CompactMinSegments = DefaultCompactMinSegments
	}
	if o.CompactMinSegments == 1 {
		o.CompactMinSegments = 2
	}
	if o.CompactTargetBytes <= 0 {
		o.CompactTargetBytes = DefaultCompactTargetBytes
	}
	if o.CheckEvery == 0 {
		o.CheckEvery = min(max(o.RotateAfter/4, time.Second), 15*time.Second)
	}
	return o
}
