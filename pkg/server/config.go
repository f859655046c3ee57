package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/silt-io/silt/pkg/api"
	"github.com/silt-io/silt/pkg/diskspace"
	"github.com/silt-io/silt/pkg/tiered"
)

// Defaults for [Config].
const (
	DefaultAddr            = "127.0.0.1:4437"
	DefaultDataDir         = "./silt-data"
	DefaultShutdownTimeout = 30 * time.Second
	// DefaultSubscriberStallTimeout is how long a subscriber may leave a
	// message untaken before the server drops it.
	DefaultSubscriberStallTimeout = 30 * time.Second
)

// Transport defaults for [Config]: what one client may hold of the server
// before it sends a useful byte (docs/security.md).
const (
	// DefaultReadHeaderTimeout bounds the TLS handshake and the reading of
	// a request's headers (slowloris).
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultIdleTimeout closes a keep-alive connection with no request
	// (HTTP/1.1) or no open stream (HTTP/2) for this long.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxHeaderBytes caps a request's headers.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultMaxConcurrentStreams caps the open streams (RPCs, among them
	// subscriptions) of one HTTP/2 connection; clients open another
	// connection for more.
	DefaultMaxConcurrentStreams = 250
	// DefaultTLSPollInterval is how often the certificate files are
	// checked for a change.
	DefaultTLSPollInterval = 5 * time.Second
)

// Config is everything a server is built from.
type Config struct {
	// Addr is the TCP address to listen on ("127.0.0.1:0" picks a port).
	Addr string
	// DataDir holds the hot tier (DataDir/hot) and the history tier
	// (DataDir/segments).
	DataDir string
	// RotateAfter seals events into the history tier once they are this
	// old (0: never by age).
	RotateAfter time.Duration
	// HotMaxBytes seals every hot event once the hot tier holds about this
	// many bytes of events (0: never by size).
	HotMaxBytes uint64
	// RotateUnitBytes bounds one rotation unit (a segment that commits on
	// its own) to about this many bytes of events (0: no bound).
	RotateUnitBytes uint64
	// HistoryInterval is how often the history tier rotates what is due,
	// compacts and enforces retention (0: a quarter of RotateAfter, between
	// 1 s and 15 s; negative: never, only on demand through AdminService).
	HistoryInterval time.Duration
	// ProjectRetention bounds what each named project keeps, on top of
	// each stream's retention settings.
	ProjectRetention map[string]tiered.Retention
	// QueryMaxRange, when positive, rejects queries that do not bound
	// time or ingest_time to at most this span.
	QueryMaxRange time.Duration
	// Sync acknowledges an append only after its group commit is fsynced.
	Sync bool
	// AutoCreate lets an Append create a missing stream with default settings.
	AutoCreate bool
	// CORSOrigins are the browser origins allowed to call the API ("*": any).
	CORSOrigins []string
	// ReadMaxBytes is Read's page cap when a request names none, and
	// SubscribeBatchBytes caps each Subscribe message (both count
	// event.Event.Size; one event always goes).
	ReadMaxBytes, SubscribeBatchBytes int
	// SubscriberStallTimeout drops a Subscribe whose client has not taken
	// a message for this long (0: never).
	SubscriberStallTimeout time.Duration
	// TLSCertFile and TLSKeyFile, when set, serve HTTPS (HTTP/2 through
	// ALPN, and HTTP/1.1) with the PEM certificate chain and key in them
	// instead of cleartext HTTP/1.1 and h2c. The pair is loaded again on
	// Server.ReloadTLS and when the files change; a pair that does not load
	// keeps the previous one.
	TLSCertFile, TLSKeyFile string
	// TLSPollInterval is how often the certificate files are checked for a
	// change (0 or negative: only on Server.ReloadTLS).
	TLSPollInterval time.Duration
	// ReadHeaderTimeout bounds the TLS handshake and the reading of a
	// request's headers.
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes a keep-alive connection with no request
	// (HTTP/1.1) or no open stream (HTTP/2) for this long (0: never).
	IdleTimeout time.Duration
	// MaxHeaderBytes caps a request's headers (HTTP/1.1 request line
	// included; HTTP/2 header list).
	MaxHeaderBytes int
	// MaxConcurrentStreams caps the open streams of one HTTP/2 connection.
	MaxConcurrentStreams int
	// MaxRequestBytes caps one request message of every RPC, on every
	// protocol, after decompression; larger ones answer ResourceExhausted.
	MaxRequestBytes int
	// ShutdownTimeout bounds the graceful stop.
	ShutdownTimeout time.Duration
	// DiskLowWater is the free space, in bytes, that appends leave on the
	// data directory's filesystem, on top of what the storage engine will
	// still write by itself; appends beyond it answer ResourceExhausted
	// (0: diskspace.DefaultLowWater; at least diskspace.Floor).
	DiskLowWater int64
	// Logger receives structured logs.
	Logger *slog.Logger
}

// DefaultConfig returns the embedded defaults: loopback, ./silt-data,
// durable acks, auto-create on, any CORS origin, rotation after 1 minute or
// 256 MiB of hot events, cleartext, and the transport limits above.
func DefaultConfig() Config {
	return Config{
		Addr:                   DefaultAddr,
		DataDir:                DefaultDataDir,
		Sync:                   true,
		AutoCreate:             true,
		CORSOrigins:            []string{"*"},
		ShutdownTimeout:        DefaultShutdownTimeout,
		ReadMaxBytes:           api.DefaultReadMaxBytes,
		SubscribeBatchBytes:    api.DefaultSubscribeBatchBytes,
		SubscriberStallTimeout: DefaultSubscriberStallTimeout,
		RotateAfter:            tiered.DefaultRotateAfter,
		HotMaxBytes:            tiered.DefaultHotMaxBytes,
		RotateUnitBytes:        tiered.DefaultUnitBytes,
		DiskLowWater:           diskspace.DefaultLowWater,
		TLSPollInterval:        DefaultTLSPollInterval,
		ReadHeaderTimeout:      DefaultReadHeaderTimeout,
		IdleTimeout:            DefaultIdleTimeout,
		MaxHeaderBytes:         DefaultMaxHeaderBytes,
		MaxConcurrentStreams:   DefaultMaxConcurrentStreams,
		MaxRequestBytes:        api.MaxRequestBytes,
	}
}

// Validate reports what is wrong with c.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr %q: %w", c.Addr, err))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data dir is required"))
	}
	if c.QueryMaxRange < 0 {
		errs = append(errs, fmt.Errorf("query max range %v must not be negative", c.QueryMaxRange))
	}
	if c.RotateAfter < 0 {
		errs = append(errs, fmt.Errorf("rotate after %v must not be negative", c.RotateAfter))
	}
	if c.DiskLowWater < 0 {
		errs = append(errs, fmt.Errorf("disk low-water mark %d must not be negative", c.DiskLowWater))
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("tls needs both a certificate file and a key file"))
	}
	if c.ReadHeaderTimeout <= 0 {
		errs = append(errs, fmt.Errorf("read header timeout %v must be positive", c.ReadHeaderTimeout))
	}
	if c.IdleTimeout < 0 {
		errs = append(errs, fmt.Errorf("idle timeout %v must not be negative", c.IdleTimeout))
	}
	if c.MaxHeaderBytes <= 0 {
		errs = append(errs, fmt.Errorf("max header bytes %d must be positive", c.MaxHeaderBytes))
	}
	if c.MaxConcurrentStreams <= 0 {
		errs = append(errs, fmt.Errorf("max concurrent streams %d must be positive", c.MaxConcurrentStreams))
	}
	if c.MaxRequestBytes <= 0 {
		errs = append(errs, fmt.Errorf("max request bytes %d must be positive", c.MaxRequestBytes))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown timeout %v must be positive", c.ShutdownTimeout))
	}
	return errors.Join(errs...)
}
