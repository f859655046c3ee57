module github.com/silt-io/silt/cmd/validateproto

go 1.26.0

require (
	buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go v1.36.11-20260209202127-80ab13bee0bf.1
	github.com/jhump/protoreflect/v2 v2.0.0
)

require google.golang.org/protobuf v1.36.12 // indirect
