// Command validateproto prints buf/validate/validate.proto from the
// descriptor compiled into the pinned protovalidate Go module, so the schema
// buf compiles against is exactly the one the server validates with. No
// published Go or npm package ships the .proto file itself.
//
// Usage: go run . > ../../proto/buf/validate/validate.proto
package main

import (
	"fmt"
	"os"

	validate "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/jhump/protoreflect/v2/protoprint"
)

func main() {
	var p protoprint.Printer
	if err := p.PrintProtoFile(validate.File_buf_validate_validate_proto, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "validateproto:", err)
		os.Exit(1)
	}
}
