package api

import (
	"context"

	"connectrpc.com/connect"
)

// Authorizer is the one place where credentials will be checked: it sees
// every request with its procedure and the project it names, before
// validation and before any handler. Returning an error (ideally a
// *connect.Error with CodeUnauthenticated or CodePermissionDenied) rejects it.
type Authorizer interface {
	Authorize(ctx context.Context, procedure string, header map[string][]string, project string) error
}

// AllowAll is the Authorizer of a server without credentials.
type AllowAll struct{}

// Authorize accepts every request.
func (AllowAll) Authorize(context.Context, string, map[string][]string, string) error { return nil }

// projectNamer is what every silt.v1 request implements.
type projectNamer interface{ GetProject() string }

// authorizeInterceptor calls an Authorizer for every request.
type authorizeInterceptor struct{ a Authorizer }

func (i authorizeInterceptor) check(ctx context.Context, spec connect.Spec, header map[string][]string, msg any) error {
	project := ""
	if p, ok := msg.(projectNamer); ok {
		project = p.GetProject()
	}
	return i.a.Authorize(ctx, spec.Procedure, header, project)
}

func (i authorizeInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if err := i.check(ctx, req.Spec(), req.Header(), req.Any()); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (i authorizeInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i authorizeInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		return next(ctx, &authorizingConn{StreamingHandlerConn: conn, ctx: ctx, i: i})
	}
}

// authorizingConn checks each message a streaming handler receives.
type authorizingConn struct {
	connect.StreamingHandlerConn
	ctx context.Context
	i   authorizeInterceptor
}

func (c *authorizingConn) Receive(msg any) error {
	if err := c.StreamingHandlerConn.Receive(msg); err != nil {
		return err
	}
	return c.i.check(c.ctx, c.Spec(), c.RequestHeader(), msg)
}
