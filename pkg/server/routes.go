package server

import (
	"net/http"
	"slices"

	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"github.com/rs/cors"

	connectcors "connectrpc.com/cors"

	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
	"github.com/silt-io/silt/pkg/api"
)

// services are the names reflection and health report.
var services = []string{siltv1connect.StreamServiceName, siltv1connect.EventServiceName, siltv1connect.AdminServiceName, siltv1connect.QueryServiceName, siltv1connect.ProjectServiceName}

// routes builds the HTTP handler: the API, reflection, health and /healthz,
// wrapped in CORS.
func (s *Server) routes() (http.Handler, error) {
	mux := http.NewServeMux()
	svc := api.New(streams{Store: s.store, notifier: s.notifier}, tiers{hot: s.store, history: s.history}, s.notifier, s.stopping, s.apiOptions())
	handlers, err := svc.Handlers()
	if err != nil {
		return nil, err
	}
	for path, h := range handlers {
		mux.Handle(path, stallGuard(h, s.cfg.SubscriberStallTimeout, func(r *http.Request) {
			s.log.Warn("subscriber disconnected: it read nothing for the stall timeout", "remote", r.RemoteAddr, "timeout", s.cfg.SubscriberStallTimeout)
		}))
	}
	reflector := grpcreflect.NewStaticReflector(services...)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
	mux.Handle(grpchealth.NewHandler(grpchealth.NewStaticChecker(services...)))
	mux.HandleFunc("GET /healthz", s.healthz)
	return s.cors(mux), nil
}

// healthz answers 200 while serving and 503 once the stop begins.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !s.healthy.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("stopping\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// cors lets browser apps on other origins use Connect, gRPC-Web and
// Connect-Web streaming. A refused origin is logged at debug level with the
// origin, so that "the browser says CORS" can be traced to --cors-origins.
func (s *Server) cors(h http.Handler) http.Handler {
	opts := cors.Options{
		AllowedOrigins: s.cfg.CORSOrigins,
		AllowedMethods: connectcors.AllowedMethods(),
		AllowedHeaders: append(connectcors.AllowedHeaders(), "Authorization"),
		ExposedHeaders: connectcors.ExposedHeaders(),
		MaxAge:         7200,
	}
	if !slices.Contains(s.cfg.CORSOrigins, "*") {
		// The same matching (exact origins, one * wildcard), with a log line
		// where it says no. Requests without an Origin are not cross-origin.
		match := cors.New(cors.Options{AllowedOrigins: s.cfg.CORSOrigins})
		opts.AllowOriginVaryRequestFunc = func(r *http.Request, origin string) (bool, []string) {
			if match.OriginAllowed(r) {
				return true, nil
			}
			if origin != "" {
				s.log.Debug("cors: origin refused", "origin", origin, "method", r.Method, "path", r.URL.Path)
			}
			return false, nil
		}
	}
	return cors.New(opts).Handler(h)
}
