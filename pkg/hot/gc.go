package hot

import (
	"errors"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// valueLogGCRatio is the share of garbage a value-log file must hold to be rewritten.
const valueLogGCRatio = 0.5

// runValueLogGC reclaims value-log space every Options.ValueLogGCInterval
// until stopGC is closed. Badger's GC rewrites live values through its own
// writes; with Options.Sync those are synced like ours.
func (s *Store) runValueLogGC() {
	defer close(s.gcDone)
	if s.opts.ValueLogGCInterval < 0 {
		<-s.stopGC
		return
	}
	tick := time.NewTicker(s.opts.ValueLogGCInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.stopGC:
			return
		case <-tick.C:
		case <-s.gcNow:
		}
		for {
			if err := s.gcFits(); err != nil {
				s.log.Warn("hot: value log GC postponed", "err", err)
				break
			}
			s.gcMu.Lock()
			err := s.db.RunValueLogGC(valueLogGCRatio)
			s.gcMu.Unlock()
			if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
				break
			}
			if err != nil {
				s.log.Warn("hot: value log GC", "err", err)
				break
			}
			select {
			case <-s.stopGC:
				return
			default:
			}
		}
	}
}
