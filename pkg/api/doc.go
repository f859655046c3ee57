// Package api serves silt.v1 over Connect, gRPC and gRPC-Web: it turns
// protos into domain requests, calls the stores, and maps domain errors to
// Connect codes in one place (errors.go).
//
// The handlers depend on two small interfaces (Streams, Log) and on a
// Waiter for "there is more" signals, never on a concrete store, so the hot
// tier, the stitched hot+cold view and test fakes all fit.
//
// Append reaches the store as packed records only (package record): a
// binary body through the fast path in internal/appendwire, any other
// through the generated decoder and record.Pack (serveAppend).
package api
