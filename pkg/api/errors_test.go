package api

import (
	"context"
	"fmt"
	"log/slog"
	"syscall"
	"testing"

	"connectrpc.com/connect"

	"github.com/silt-io/silt/pkg/diskspace"
	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
	"github.com/silt-io/silt/pkg/segment"
)

// TestToConnectError_Codes checks the codes of the store and engine errors
// that carry no detail, wrapped as the stores wrap them.
func TestToConnectError_Codes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		code connect.Code
	}{
		{event.ErrMissingHistory, connect.CodeDataLoss},
		{event.ErrCorrupt, connect.CodeDataLoss},
		{record.ErrCorrupt, connect.CodeDataLoss},
		{segment.ErrCorrupt, connect.CodeDataLoss},
		{&event.RangeError{Project: "p", Stream: "s", FirstSeq: 3, LastSeq: 9, Where: "hot tier", Err: record.ErrCorrupt}, connect.CodeDataLoss},
		{event.ErrResultTooLarge, connect.CodeResourceExhausted},
		{event.ErrClosed, connect.CodeUnavailable},
		{event.ErrDiskFull, connect.CodeResourceExhausted},
		{&diskspace.FullError{Dir: "/d", Free: 1, Mark: 2}, connect.CodeResourceExhausted},
		{syscall.ENOSPC, connect.CodeResourceExhausted},
		{event.ErrAppendTooLarge, connect.CodeInvalidArgument},
		{context.DeadlineExceeded, connect.CodeDeadlineExceeded},
		{context.Canceled, connect.CodeCanceled},
		{fmt.Errorf("something else"), connect.CodeInternal},
	} {
		err := toConnectError(slog.Default(), fmt.Errorf("query p/s: %w", tc.err))
		if got := connect.CodeOf(err); got != tc.code {
			t.Errorf("%v: %v, want %v", tc.err, got, tc.code)
		}
	}
}
