// Package server composes Silt: the hot and history tiers, the notifier and the API on
// one HTTP server that speaks HTTP/1.1 and HTTP/2 (Connect, gRPC,
// gRPC-Web), with reflection, health, CORS and a graceful stop. HTTP/2 is
// cleartext (h2c) by default and negotiated through ALPN over TLS when the
// config names a certificate (certificate.go); the transport limits of the
// config bound what one client holds before it sends a useful byte.
//
// Lifecycle: New checks the config and starts nothing; Open binds the port
// and opens the store; Serve serves until its context ends and then stops
// gracefully; Run is Open then Serve.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/silt-io/silt/pkg/api"
	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/hot"
	"github.com/silt-io/silt/pkg/notify"
	"github.com/silt-io/silt/pkg/query"
	"github.com/silt-io/silt/pkg/tiered"
)

// Server is one Silt node.
type Server struct {
	cfg      Config
	log      *slog.Logger
	notifier *notify.Notifier
	store    *hot.Store
	history  *tiered.Store
	ln       net.Listener
	http     *http.Server
	// cert is the TLS certificate, nil when serving cleartext.
	cert *certificate
	// stopping is closed when the graceful stop begins; it ends subscriptions.
	stopping chan struct{}
	// healthy is false before Open finishes and once the stop begins.
	healthy atomic.Bool
}

// New returns a server for cfg; it starts nothing.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("server config: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Server{cfg: cfg, log: cfg.Logger, notifier: notify.New(), stopping: make(chan struct{})}, nil
}

// Open binds the listener, then opens the store. It binds first so that a
// server that cannot start (the port is taken) leaves no data directory
// behind.
func (s *Server) Open(ctx context.Context) (err error) {
	var lc net.ListenConfig
	var tlsConfig *tls.Config
	if s.cfg.TLSCertFile != "" {
		if s.cert, err = newCertificate(s.cfg.TLSCertFile, s.cfg.TLSKeyFile, s.log); err != nil {
			return err
		}
		tlsConfig = &tls.Config{
			MinVersion:     tls.VersionTLS12,
			GetCertificate: s.cert.get,
			NextProtos:     []string{"h2", "http/1.1"},
		}
	}
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	defer func() {
		if err != nil {
			_ = ln.Close()
		}
	}()
	hotDisk, segDisk, err := s.diskGuards(s.cfg.hotDir(), s.cfg.segmentsDir())
	if err != nil {
		return err
	}
	opts := hot.DefaultOptions(s.cfg.hotDir())
	opts.Sync = s.cfg.Sync
	opts.Logger = s.log
	opts.OnCommit = func(project, stream string, _ uint64) { s.notifier.Notify(project, stream) }
	opts.Disk = hotDisk
	store, err := s.openHot(ctx, opts)
	if err != nil {
		return fmt.Errorf("open hot store: %w", err)
	}
	s.store = store
	hopts := tiered.DefaultOptions(s.cfg.segmentsDir(), store)
	hopts.Disk = segDisk
	hopts.RotateAfter = s.cfg.RotateAfter
	hopts.HotMaxBytes = s.cfg.HotMaxBytes
	hopts.UnitBytes = -1
	if s.cfg.RotateUnitBytes > 0 {
		hopts.UnitBytes = int64(min(s.cfg.RotateUnitBytes, math.MaxInt64))
	}
	hopts.CheckEvery = s.cfg.HistoryInterval
	hopts.ProjectRetention = s.cfg.ProjectRetention
	hopts.Logger = s.log
	hist, err := tiered.Open(ctx, hopts)
	if err != nil {
		_ = store.Close(ctx)
		return fmt.Errorf("open history tier: %w", err)
	}
	s.history = hist
	s.ln = ln
	handler, err := s.routes()
	if err != nil {
		_ = s.closeStores(ctx)
		return err
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	protocols.SetUnencryptedHTTP2(tlsConfig == nil)
	s.http = &http.Server{
		Handler:           handler,
		Protocols:         protocols,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: s.cfg.MaxConcurrentStreams},
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.healthy.Store(true)
	return nil
}

// Addr is the address the server listens on (after Open).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// ReloadTLS loads the certificate files again (what SIGHUP does). A pair
// that does not load is logged and returned, and the previous one stays.
// Without TLS it does nothing.
func (s *Server) ReloadTLS() error {
	if s.cert == nil {
		return nil
	}
	return s.cert.reload()
}

// Serve serves until ctx ends, then stops gracefully: it ends
// subscriptions, lets in-flight requests (appends among them) finish, and
// closes the store after its queued commits are durable.
func (s *Server) Serve(ctx context.Context) error {
	s.log.Info("silt serving", "addr", s.Addr(), "tls", s.cert != nil, "data", s.cfg.DataDir, "sync", s.cfg.Sync)
	errc := make(chan error, 1)
	var watcher sync.WaitGroup
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer func() { stopWatch(); watcher.Wait() }()
	if s.cert != nil {
		if s.cfg.TLSPollInterval > 0 {
			watcher.Go(func() { s.cert.watch(watchCtx, s.cfg.TLSPollInterval) })
		}
		// The certificate comes from TLSConfig.GetCertificate: no files here.
		go func() { errc <- s.http.ServeTLS(s.ln, "", "") }()
	} else {
		go func() { errc <- s.http.Serve(s.ln) }()
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.log.Info("silt stopping")
	s.healthy.Store(false)
	close(s.stopping)
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.http.Shutdown(stopCtx)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	err = errors.Join(err, s.closeStores(stopCtx))
	s.log.Info("silt stopped", "err", err)
	return err
}

// closeStores stops the rotator, then closes the hot store after its
// queued commits are durable.
func (s *Server) closeStores(ctx context.Context) error {
	var err error
	if cerr := s.history.Close(ctx); cerr != nil {
		err = fmt.Errorf("close history tier: %w", cerr)
	}
	if cerr := s.store.Close(ctx); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close hot store: %w", cerr))
	}
	return err
}

// tiers is the log the API sees: appends go to the hot tier, reads stitch
// both tiers.
type tiers struct {
	hot     *hot.Store
	history *tiered.Store
}

func (t tiers) Append(ctx context.Context, req event.AppendRequest) (event.AppendResult, error) {
	return t.hot.Append(ctx, req)
}

func (t tiers) Read(ctx context.Context, req event.ReadRequest) (event.ReadResult, error) {
	return t.history.Read(ctx, req)
}

// streams is the hot tier's stream catalogue as the API sees it: a delete
// wakes the stream's subscribers, which then end with NotFound instead of
// waiting on a name until something is appended to it again.
type streams struct {
	*hot.Store
	notifier *notify.Notifier
}

func (s streams) DeleteStream(ctx context.Context, project, stream string) error {
	if err := s.Store.DeleteStream(ctx, project, stream); err != nil {
		return err
	}
	s.notifier.Notify(project, stream)
	return nil
}

// projects is the project catalogue as the API sees it: records in the hot
// tier, deletes through the history tier (which removes the streams of
// both tiers), each deleted stream's subscribers woken as by streams.
type projects struct {
	*hot.Store
	history  *tiered.Store
	notifier *notify.Notifier
}

func (p projects) DeleteProject(ctx context.Context, project string) error {
	return p.history.DeleteProject(ctx, project, func(stream string) { p.notifier.Notify(project, stream) })
}

// Run opens the server and serves until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Open(ctx); err != nil {
		return err
	}
	return s.Serve(ctx)
}

// apiOptions are the API's options from the config.
func (s *Server) apiOptions() api.Options {
	return api.Options{
		Logger: s.log, AutoCreate: s.cfg.AutoCreate, History: s.history,
		ReadMaxBytes: s.cfg.ReadMaxBytes, SubscribeBatchBytes: s.cfg.SubscribeBatchBytes,
		MaxRequestBytes: s.cfg.MaxRequestBytes,
		Query:           query.New(s.history, query.Options{MaxTimeRange: s.cfg.QueryMaxRange}),
		Projects:        projects{Store: s.store, history: s.history, notifier: s.notifier},
	}
}
