package event

import (
	"errors"
	"fmt"
	"io/fs"
)

// LostSegment is the error of a read that could not get seqs first..last
// of project/stream out of segment id because of err: a segment file that
// is gone (fs.ErrNotExist) or damaged (ErrCorrupt) is that range lost, as a
// *RangeError wrapping ErrMissingHistory or ErrCorrupt; any other err (a
// canceled read, an I/O error) is returned as it is. Read and Query both
// use it, so a lost segment is the same error whichever reads it.
func LostSegment(project, stream string, first, last uint64, id string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("%w: %w", ErrMissingHistory, err)
	} else if !errors.Is(err, ErrCorrupt) {
		return err
	}
	return &RangeError{Project: project, Stream: stream, FirstSeq: first, LastSeq: last, Where: "segment " + id, Err: err}
}
