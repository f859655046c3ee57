package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"buf.build/go/protovalidate"
	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	validatepb "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/pkg/api/internal/appendwire"
	"github.com/silt-io/silt/pkg/api/internal/rules"
)

// validateInterceptor runs the protovalidate rules of every request message
// before any handler sees it: InvalidArgument with a buf.validate.Violations
// detail listing each field that broke a rule.
type validateInterceptor struct {
	v protovalidate.Validator
	// log receives internal errors (default: slog.Default()).
	log *slog.Logger
}

func newValidateInterceptor() (*validateInterceptor, error) {
	v, err := protovalidate.New()
	if err != nil {
		return nil, fmt.Errorf("build validator: %w", err)
	}
	return &validateInterceptor{v: v, log: slog.Default()}, nil
}

// validate checks msg and answers a Connect error when it breaks a rule.
func (i *validateInterceptor) validate(msg any) error {
	return toConnectError(i.log, i.check(msg))
}

// check checks msg: a *violationError when it breaks a rule.
func (i *validateInterceptor) check(msg any) error {
	m, ok := msg.(proto.Message)
	if !ok {
		return nil
	}
	if a, ok := m.(*appendwire.Message); ok {
		if a.Packed() != nil {
			return nil // the fast path took it only because it passed the rules
		}
		m = a.AppendRequest
	}
	if a, ok := m.(*siltv1.AppendRequest); ok && i.appendValid(a) {
		return nil
	}
	err := i.v.Validate(m)
	if err == nil {
		return nil
	}
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		return fmt.Errorf("validate request: %w", err)
	}
	return &violationError{msg: verr.Error(), violations: verr.ToProto()}
}

// appendValid is the fast path for Append: AppendRequest's rules in plain Go
// (see eventrules.go). False means "run the full rules", which then name the
// violations.
func (i *validateInterceptor) appendValid(a *siltv1.AppendRequest) bool {
	if !rules.ProjectName(a.GetProject()) || !rules.StreamName(a.GetStream()) {
		return false
	}
	if n := len(a.GetEvents()); n < 1 || n > rules.MaxAppendEvents {
		return false
	}
	if p := a.GetProducer(); p != nil && !rules.PrintableASCII(p.GetId(), 1, rules.MaxIDLen) {
		return false
	}
	for _, e := range a.GetEvents() {
		if !eventInputValid(e) {
			return false
		}
	}
	return true
}

// fieldViolation is a *violationError about one field.
func fieldViolation(path *validatepb.FieldPath, rule, msg string) error {
	field := protovalidate.FieldPathString(path)
	return &violationError{msg: field + ": " + msg, violations: &validatepb.Violations{Violations: []*validatepb.Violation{{
		Field:   path,
		RuleId:  proto.String(rule),
		Message: proto.String(msg),
	}}}}
}

// fieldPath names a top-level field.
func fieldPath(name string) *validatepb.FieldPath {
	return &validatepb.FieldPath{Elements: []*validatepb.FieldPathElement{{FieldName: proto.String(name)}}}
}

// indexPath names one element of a repeated field, e.g. events[3].
func indexPath(name string, i int) *validatepb.FieldPath {
	return &validatepb.FieldPath{Elements: []*validatepb.FieldPathElement{{
		FieldName: proto.String(name),
		Subscript: &validatepb.FieldPathElement_Index{Index: uint64(i)},
	}}}
}

func (i *validateInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if err := i.validate(req.Any()); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (i *validateInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i *validateInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		return next(ctx, &validatingConn{StreamingHandlerConn: conn, i: i})
	}
}

// validatingConn validates each message a streaming handler receives.
type validatingConn struct {
	connect.StreamingHandlerConn
	i *validateInterceptor
}

func (c *validatingConn) Receive(msg any) error {
	if err := c.StreamingHandlerConn.Receive(msg); err != nil {
		return err
	}
	return c.i.validate(msg)
}
