package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/silt-io/silt/pkg/diskspace"
	"github.com/silt-io/silt/pkg/hot"
)

// diskReportEvery is how often openHot repeats that it waits for space.
const diskReportEvery = 30 * time.Second

// diskGuards returns the guards of the hot tier's directory and of the
// segments root: one guard when both are on one filesystem (the usual
// case), so a segment's reservation counts against the hot tier's room.
func (s *Server) diskGuards(hotDir, segDir string) (hotGuard, segGuard *diskspace.Guard, err error) {
	for _, dir := range []string{hotDir, segDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, nil, fmt.Errorf("create %s: %w", dir, err)
		}
	}
	opts := diskspace.Options{LowWater: s.cfg.DiskLowWater}
	hotGuard = diskspace.New(hotDir, opts)
	if sameDevice(hotDir, segDir) {
		return hotGuard, hotGuard, nil
	}
	return hotGuard, diskspace.New(segDir, opts), nil
}

// sameDevice reports whether a and b are on one filesystem (when it cannot
// tell, it says yes: one guard for both is the cautious choice).
func sameDevice(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA != nil || errB != nil {
		return true
	}
	sa, okA := fa.Sys().(*syscall.Stat_t)
	sb, okB := fb.Sys().(*syscall.Stat_t)
	return !okA || !okB || sa.Dev == sb.Dev
}

// openHot opens the hot tier. While the disk is too full for Badger to
// replay and flush the WAL of the last run (hot.Open refuses with
// ErrDiskFull rather than fault), it waits for space, logging why, until
// ctx ends: the server starts once space is freed.
func (s *Server) openHot(ctx context.Context, opts hot.Options) (*hot.Store, error) {
	var reported time.Time
	for {
		store, err := hot.Open(opts)
		if err == nil || !diskspace.IsFull(err) {
			return store, err
		}
		if time.Since(reported) >= diskReportEvery {
			s.log.Warn("silt: waiting for disk space to open the hot tier", "err", err)
			reported = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for disk space: %w (%w)", ctx.Err(), err)
		case <-time.After(diskspace.DefaultPollEvery):
		}
	}
}

// hotDir and segmentsDir are where the tiers live under DataDir.
func (c Config) hotDir() string      { return filepath.Join(c.DataDir, "hot") }
func (c Config) segmentsDir() string { return filepath.Join(c.DataDir, "segments") }
