// Package event holds Silt's domain types: events, streams, append and read
// requests, and the catalogue of errors every layer speaks, each declared
// with the status code the API answers it with (errors.go).
//
// Invariants that hold for every store implementation:
//
//   - A stream's sequence numbers start at 1 and are gapless: the n-th event
//     ever appended to a stream has Seq n.
//   - An Append commits all of its events or none of them.
//   - IngestTime never decreases along a stream's sequence.
//   - An acknowledged append is durable under the store's sync policy.
//   - A producer (ID, Epoch, Seq) that was acknowledged once is acknowledged
//     again as a duplicate, with the original seq range, and never written twice.
package event
