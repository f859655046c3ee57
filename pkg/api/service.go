package api

import (
	"log/slog"
	"net/http"
	"time"

	"connectrpc.com/connect"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
	"github.com/silt-io/silt/pkg/api/internal/appendwire"
)

// DefaultHeartbeat is the heartbeat interval of an idle subscription.
const DefaultHeartbeat = 15 * time.Second

// Byte caps of reads (event.Event.Size of the events; one event always goes).
const (
	// DefaultReadMaxBytes is a Read page's cap when the request names none.
	DefaultReadMaxBytes = 4 << 20
	// DefaultSubscribeBatchBytes caps each Subscribe message.
	DefaultSubscribeBatchBytes = 1 << 20
)

// Options configure the API; the zero value of each field has a default.
type Options struct {
	// Logger receives internal errors (default: slog.Default()).
	Logger *slog.Logger
	// Authorizer checks every request (default: AllowAll).
	Authorizer Authorizer
	// AutoCreate lets an Append create a missing stream with default settings.
	AutoCreate bool
	// SubscribeBatch caps the events per Subscribe message (default 1000).
	SubscribeBatch int
	// SubscribeBatchBytes caps each Subscribe message, by the events'
	// event.Event.Size (default DefaultSubscribeBatchBytes; one event
	// always goes).
	SubscribeBatchBytes int
	// ReadMaxBytes is a Read's max_bytes when the request names none
	// (default DefaultReadMaxBytes).
	ReadMaxBytes int
	// MaxRequestBytes caps one request message of every RPC, after
	// decompression, on Connect, gRPC and gRPC-Web alike; a larger one
	// answers ResourceExhausted (default MaxRequestBytes).
	MaxRequestBytes int
	// History, when set, serves silt.v1.AdminService.
	History History
	// Query, when set, serves silt.v1.QueryService.
	Query Querier
	// Projects, when set, serves silt.v1.ProjectService.
	Projects Projects
}

// Service implements silt.v1.StreamService, silt.v1.EventService and,
// with Options.History, silt.v1.AdminService, with Options.Query,
// silt.v1.QueryService and, with Options.Projects, silt.v1.ProjectService.
type Service struct {
	streams Streams
	log     Log
	waiter  Waiter
	opts    Options
	// done ends every subscription when the server stops.
	done <-chan struct{}
	// subscriptions and queries run, per project, within its quotas.
	subscriptions, queries *inFlight
}

// New returns the API over the given stores. done, when closed, ends every
// open subscription (a server closes it when it begins to stop).
func New(streams Streams, log Log, waiter Waiter, done <-chan struct{}, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Authorizer == nil {
		opts.Authorizer = AllowAll{}
	}
	if opts.SubscribeBatch <= 0 {
		opts.SubscribeBatch = 1000
	}
	if opts.SubscribeBatchBytes <= 0 {
		opts.SubscribeBatchBytes = DefaultSubscribeBatchBytes
	}
	if opts.ReadMaxBytes <= 0 {
		opts.ReadMaxBytes = DefaultReadMaxBytes
	}
	if opts.MaxRequestBytes <= 0 {
		opts.MaxRequestBytes = MaxRequestBytes
	}
	return &Service{streams: streams, log: log, waiter: waiter, opts: opts, done: done,
		subscriptions: newInFlight("max_concurrent_subscriptions"), queries: newInFlight("max_concurrent_queries")}
}

// Handlers returns the HTTP handlers of the services keyed by path prefix,
// with authorization, validation and the request size cap installed.
func (s *Service) Handlers(extra ...connect.HandlerOption) (map[string]http.Handler, error) {
	vi, err := newValidateInterceptor()
	if err != nil {
		return nil, err
	}
	vi.log = s.opts.Logger
	opts := append([]connect.HandlerOption{
		connect.WithInterceptors(authorizeInterceptor{s.opts.Authorizer}, vi),
		connect.WithReadMaxBytes(s.opts.MaxRequestBytes),
	}, wireOptions()...)
	opts = append(opts, extra...)
	out := make(map[string]http.Handler, 2)
	path, h := siltv1connect.NewStreamServiceHandler(s, opts...)
	out[path] = h
	path, h = siltv1connect.NewEventServiceHandler(s, opts...)
	out[path] = routeAppend(h, connect.NewUnaryHandler(
		siltv1connect.EventServiceAppendProcedure,
		s.serveAppend,
		connect.WithSchema(siltv1.File_silt_v1_event_service_proto.Services().ByName("EventService").Methods().ByName("Append")),
		connect.WithRequestInitializer(initAppendMessage),
		connect.WithHandlerOptions(opts...),
	))
	if s.opts.History != nil {
		path, h = siltv1connect.NewAdminServiceHandler(s, opts...)
		out[path] = h
	}
	if s.opts.Query != nil {
		path, h = siltv1connect.NewQueryServiceHandler(s, opts...)
		out[path] = h
	}
	if s.opts.Projects != nil {
		path, h = siltv1connect.NewProjectServiceHandler(s, opts...)
		out[path] = h
	}
	return out, nil
}

// initAppendMessage gives every appendwire.Message its generated message
// before a codec decodes into it.
func initAppendMessage(_ connect.Spec, msg any) error {
	if m, ok := msg.(*appendwire.Message); ok && m.AppendRequest == nil {
		m.AppendRequest = new(siltv1.AppendRequest)
	}
	return nil
}

// routeAppend serves Append with appendHandler and every other procedure of
// the service with h.
func routeAppend(h, appendHandler http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == siltv1connect.EventServiceAppendProcedure {
			appendHandler.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// code maps an error to the Connect error a client gets (toConnectError).
func (s *Service) code(err error) error { return toConnectError(s.opts.Logger, err) }

var (
	_ siltv1connect.StreamServiceHandler  = (*Service)(nil)
	_ siltv1connect.EventServiceHandler   = (*Service)(nil)
	_ siltv1connect.AdminServiceHandler   = (*Service)(nil)
	_ siltv1connect.QueryServiceHandler   = (*Service)(nil)
	_ siltv1connect.ProjectServiceHandler = (*Service)(nil)
)
