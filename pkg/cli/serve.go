package cli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/silt-io/silt/pkg/memtrim"
	"github.com/silt-io/silt/pkg/server"
)

// newServeCommand is `silt serve`.
func newServeCommand() *cobra.Command {
	cfg := server.DefaultConfig()
	retention := projectRetention{}
	cfg.ProjectRetention = retention
	var logLevel, logFormat, origins string
	var memoryLimit uint64
	maxRequestBytes := int64(cfg.MaxRequestBytes)
	trim := memtrim.Options{Interval: memtrim.DefaultInterval}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Silt server (Connect, gRPC and gRPC-Web on one port)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, logFormat)
			if err != nil {
				return err
			}
			cfg.Logger = log
			if memoryLimit > 0 {
				debug.SetMemoryLimit(int64(min(memoryLimit, math.MaxInt64)))
			}
			cfg.CORSOrigins = strings.Split(origins, ",")
			cfg.MaxRequestBytes = int(min(maxRequestBytes, math.MaxInt))
			srv, err := server.New(cfg)
			if err != nil {
				return err
			}
			// The trimmer and the SIGHUP handler live as long as the
			// server, and are waited for.
			ctx, stop := context.WithCancel(cmd.Context())
			var helpers sync.WaitGroup
			if trim.Interval > 0 {
				trim.Logger = log
				helpers.Go(func() { memtrim.Run(ctx, trim) })
			}
			if cfg.TLSCertFile != "" {
				// Registered before the server listens, so that no SIGHUP
				// after "silt serving" takes its default action (exit).
				hup := make(chan os.Signal, 1)
				signal.Notify(hup, syscall.SIGHUP)
				defer signal.Stop(hup)
				helpers.Go(func() { reloadOnHangup(ctx, srv, hup) })
			}
			err = srv.Run(ctx)
			stop()
			helpers.Wait()
			if errors.Is(err, syscall.EADDRINUSE) {
				return fmt.Errorf("%s is already in use (another silt serve?): choose another with --addr or SILT_ADDR", cfg.Addr)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", cfg.Addr, "address to listen on")
	f.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory")
	f.BoolVar(&cfg.Sync, "sync", cfg.Sync, "acknowledge appends only after fsync (false: faster, may lose the last moments on power loss)")
	f.BoolVar(&cfg.AutoCreate, "auto-create", cfg.AutoCreate, "let appends create missing streams")
	f.DurationVar(&cfg.RotateAfter, "rotate-after", cfg.RotateAfter, "seal events into Parquet segments once they are this old (0: never by age)")
	f.Uint64Var(&cfg.HotMaxBytes, "hot-max-bytes", cfg.HotMaxBytes, "seal every hot event once the hot tier holds about this many bytes (0: never by size)")
	f.Uint64Var(&cfg.RotateUnitBytes, "rotate-unit-bytes", cfg.RotateUnitBytes, "seal at most about this many bytes of events per segment, each committed on its own, so a restart mid-rotation loses at most one (0: no bound)")
	f.DurationVar(&cfg.HistoryInterval, "history-interval", cfg.HistoryInterval, "how often to rotate, compact and enforce retention (0: a quarter of --rotate-after, 1s to 15s; negative: never)")
	f.IntVar(&cfg.ReadMaxBytes, "read-max-bytes", cfg.ReadMaxBytes, "a Read page's byte cap when the request names none (events' size; one event always goes)")
	f.IntVar(&cfg.SubscribeBatchBytes, "subscribe-batch-bytes", cfg.SubscribeBatchBytes, "byte cap of each Subscribe message: with the transport's buffers, what a stalled subscriber holds")
	f.DurationVar(&cfg.SubscriberStallTimeout, "subscriber-stall-timeout", cfg.SubscriberStallTimeout, "drop a subscriber that has not taken a message for this long (0: never)")
	f.DurationVar(&cfg.QueryMaxRange, "query-max-range", cfg.QueryMaxRange, "reject queries that do not bound time or ingest_time to at most this span (0: no limit)")
	f.Var(retention, "project-retention", "a project's retention, NAME=MAX_AGE[,MAX_BYTES] (repeatable), e.g. acme=720h or acme=0,10737418240")
	f.Var(sizeFlag{&cfg.DiskLowWater}, "disk-low-water", "refuse appends (ResourceExhausted) once less than this much disk space would stay free, beyond what the storage engine still owes; bytes or a size such as 64MiB (at least 2MiB)")
	f.Uint64Var(&memoryLimit, "memory-limit", 0, "soft limit in bytes on the Go runtime's memory, as GOMEMLIMIT: the garbage collector works harder near it, which bounds resident memory (0: GOMEMLIMIT or none)")
	f.DurationVar(&trim.Interval, "memory-trim-interval", trim.Interval, "how often to look for a quiet heap whose garbage and free pages to return to the OS (0: leave it to the Go runtime)")
	f.StringVar(&cfg.TLSCertFile, "tls-cert", "", "serve HTTPS (HTTP/2 through ALPN, and HTTP/1.1) with this PEM certificate chain; reloaded on SIGHUP and when the file changes")
	f.StringVar(&cfg.TLSKeyFile, "tls-key", "", "the PEM private key of --tls-cert")
	f.DurationVar(&cfg.TLSPollInterval, "tls-poll-interval", cfg.TLSPollInterval, "how often to check --tls-cert and --tls-key for a change (0: only on SIGHUP)")
	f.DurationVar(&cfg.ReadHeaderTimeout, "read-header-timeout", cfg.ReadHeaderTimeout, "close a connection that has not finished its TLS handshake and request headers in this long (slowloris)")
	f.DurationVar(&cfg.IdleTimeout, "idle-timeout", cfg.IdleTimeout, "close a keep-alive connection with no request or open stream for this long (0: never)")
	f.IntVar(&cfg.MaxHeaderBytes, "max-header-bytes", cfg.MaxHeaderBytes, "largest request headers accepted (larger: 431)")
	f.IntVar(&cfg.MaxConcurrentStreams, "max-concurrent-streams", cfg.MaxConcurrentStreams, "most open streams (RPCs, subscriptions among them) on one HTTP/2 connection")
	f.Var(sizeFlag{&maxRequestBytes}, "max-request-bytes", "largest request message of any RPC after decompression (larger: ResourceExhausted); bytes or a size such as 4MiB")
	f.StringVar(&origins, "cors-origins", "*", "comma-separated browser origins allowed to call the API")
	f.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "how long a graceful stop may take")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", "text", "text or json")
	return cmd
}

// reloadOnHangup reloads the server's certificate on every SIGHUP (from
// hup) until ctx ends. A reload that fails is logged by the server, which
// keeps serving the previous certificate. Without TLS, SIGHUP keeps its
// default action.
func reloadOnHangup(ctx context.Context, srv *server.Server, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			_ = srv.ReloadTLS() // logged by the server; the old certificate stays
		}
	}
}
