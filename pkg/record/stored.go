package record

import "time"

// Stored is one hot-tier event as stored: its body (this package's
// encoding) and what its block holds for all its records. A reader that
// decodes bodies into its own form (a query's Arrow columns) takes these.
type Stored struct {
	Seq        uint64
	IngestTime time.Time
	// ContentType is the block's: the event's unless its body names one.
	ContentType string
	// Body aliases the block: valid only during the call it is passed to.
	Body []byte
}
