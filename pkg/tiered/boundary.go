package tiered

import (
	"fmt"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/hot"
	"github.com/silt-io/silt/pkg/manifest"
)

// The boundary between the tiers, for a stream x of a hot Snapshot and a
// manifest Version acquired after it: segments of the Version hold seqs
// x.FirstSeq..x.ColdSeq (and maybe more, sealed after the Snapshot), the
// Snapshot serves x.ColdSeq+1..x.LastSeq. Read, Subscribe and the query
// planner all split a stream here.

// hotOnly reports whether the Snapshot serves every seq of x from seq on.
func hotOnly(x hot.Extent, from uint64) bool {
	return x.ColdSeq < x.FirstSeq || max(from, x.FirstSeq) > x.ColdSeq
}

// sealedIn returns the last seq of x the Version's segments hold, failing
// with event.ErrMissingHistory, as the range they lack, unless they hold
// every seq x says was sealed.
func sealedIn(v *manifest.Version, x hot.Extent) (uint64, error) {
	_, last, ok := v.Extent(x.Project, x.Stream, x.ID)
	if !ok || last < x.ColdSeq {
		return 0, &event.RangeError{Project: x.Project, Stream: x.Stream, FirstSeq: last + 1, LastSeq: x.ColdSeq, Where: "history tier",
			Err: fmt.Errorf("%w: sealed up to %d, segments hold up to %d", event.ErrMissingHistory, x.ColdSeq, last)}
	}
	return last, nil
}
