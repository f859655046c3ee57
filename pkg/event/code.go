package event

import "strconv"

// Code is the status code the API answers an error of the catalogue with
// (see [Error]). The values are gRPC's (google.rpc.Code), which Connect
// shares, so the API converts a Code by value; only the codes the
// catalogue uses are named.
type Code uint32

// The codes of the catalogue.
const (
	CodeInvalidArgument    Code = 3
	CodeNotFound           Code = 5
	CodeAlreadyExists      Code = 6
	CodeResourceExhausted  Code = 8
	CodeFailedPrecondition Code = 9
	CodeAborted            Code = 10
	CodeOutOfRange         Code = 11
	CodeUnavailable        Code = 14
	CodeDataLoss           Code = 15
)

// String returns the code's name as gRPC and docs/api.md spell it
// ("NotFound").
func (c Code) String() string {
	switch c {
	case CodeInvalidArgument:
		return "InvalidArgument"
	case CodeNotFound:
		return "NotFound"
	case CodeAlreadyExists:
		return "AlreadyExists"
	case CodeResourceExhausted:
		return "ResourceExhausted"
	case CodeFailedPrecondition:
		return "FailedPrecondition"
	case CodeAborted:
		return "Aborted"
	case CodeOutOfRange:
		return "OutOfRange"
	case CodeUnavailable:
		return "Unavailable"
	case CodeDataLoss:
		return "DataLoss"
	}
	return "Code(" + strconv.FormatUint(uint64(c), 10) + ")"
}
