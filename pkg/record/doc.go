// Package record is the compact binary encoding of one event that the hot
// store keeps inside its blocks, and the primitives it is built from. It is
// the only package that knows the record's bytes:
//
//   - building: [Pack] packs [event.Event]s into the [event.PackedEvent]s a
//     store takes; the API's fast Append decoder packs straight from the
//     request's wire bytes ([Fields], [AppendTail]), so an appended event is
//     encoded once and never becomes Go maps on the server. The store writes
//     a packed event's body with its id ([AppendPacked]).
//   - reading: [DecodeBody] decodes a body into an [event.Event];
//     [View] splits one into its fields without copying, for a query that
//     turns bodies into columns.
//
// # Record body
//
//	flags        byte: bit 0, FlagHasTime: Time is set; bits 1, 2 and 3,
//	             FlagNoSource, FlagNoSubject, FlagNoPayload: that part is
//	             absent (its strings are empty and readers ignore them)
//	id, type, source, subject   string
//	time         varint unix seconds, uvarint nanoseconds (only with FlagHasTime)
//	attributes   uvarint n, n × (key string, value string)
//	metrics      uvarint n, n × (key string, 8 bytes little-endian float64 bits)
//	contentType  string ("" means the block's)
//	data         string
//
// The presence bits say what is absent, so that records written before
// them (flags 0 or 1) read as they did: a source and a subject, maybe
// empty, and a payload, maybe of zero bytes. A reader gives an event
// without a time its ingest time (package hot).
//
// A string is uvarint(len) followed by the bytes. The body's length prefix,
// seq and ingest time belong to the enclosing block (package hot).
package record
