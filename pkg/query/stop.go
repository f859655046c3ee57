package query

// stopper lets the loops of a filter over one batch notice that their
// query has ended (its context is done), so that a batch whose rows are
// long or whose filter is dear does not hold the query for the whole of
// its evaluation: the executor looks at the context only between batches.
// Each leaf that does work proportional to its rows' bytes (string
// searches, JSON lookups) ticks it once per row with that work; once a
// tick says the query has ended, the leaf returns at once, leaving the
// selection half evaluated, and the executor drops the batch and returns
// the context's error. A stopper is used by one goroutine; a nil *stopper
// never stops.
type stopper struct {
	done <-chan struct{}
	// work is the work since done was last looked at.
	work int
	// stopped is set once done is closed.
	stopped bool
}

// stopEvery is the work between two looks at done: about the bytes a
// leaf reads, which a linear string search covers in well under a
// millisecond.
const stopEvery = 256 << 10

// rowWork is the work of a row besides its bytes, so that many short
// rows count too.
const rowWork = 64

// newStopper returns a stopper that stops once done is closed.
func newStopper(done <-chan struct{}) *stopper { return &stopper{done: done} }

// tick adds the work of one row of n bytes, and reports whether the
// query has ended. It is small enough to be inlined into the leaves'
// loops; look does the rest.
func (s *stopper) tick(n int) bool {
	if s == nil {
		return false
	}
	if s.work += n + rowWork; s.work < stopEvery {
		return s.stopped
	}
	return s.look()
}

// look starts counting work again, and reports whether done is closed.
func (s *stopper) look() bool {
	s.work = 0
	if !s.stopped {
		select {
		case <-s.done:
			s.stopped = true
		default:
		}
	}
	return s.stopped
}
