package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// certificate serves the key pair in two PEM files and loads it again when
// asked (SIGHUP, through Server.ReloadTLS) or when the files change. A load
// that fails keeps the certificate served before it: a half-written or
// mismatched pair never takes a server off the air.
type certificate struct {
	certFile, keyFile string
	log               *slog.Logger
	// current is what handshakes get; it is never nil after newCertificate.
	current atomic.Pointer[tls.Certificate]
	// mu serialises loads and protects seen.
	mu sync.Mutex
	// seen is the files' stamp at the last load attempt, good or bad.
	seen fileStamp
}

// fileStamp is what the poll compares: both files' modification times and
// sizes (an error reads as the zero stamp of that file).
type fileStamp struct {
	certMod, keyMod   int64 // UnixNano
	certSize, keySize int64
}

// newCertificate loads the pair once; a server does not start without it.
func newCertificate(certFile, keyFile string, log *slog.Logger) (*certificate, error) {
	c := &certificate{certFile: certFile, keyFile: keyFile, log: log}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

// get is tls.Config.GetCertificate.
func (c *certificate) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.current.Load(), nil
}

// reload loads the pair again; on failure it logs, keeps the old one and
// returns the error.
func (c *certificate) reload() error {
	if err := c.load(); err != nil {
		c.log.Error("tls: certificate not reloaded, still serving the previous one", "err", err)
		return err
	}
	return nil
}

// load reads, parses and installs the pair.
func (c *certificate) load() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = c.stamp()
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("load tls certificate %s and key %s: %w", c.certFile, c.keyFile, err)
	}
	leaf := pair.Leaf // parsed by LoadX509KeyPair since Go 1.23
	if leaf == nil {
		return errors.New("load tls certificate: no leaf certificate")
	}
	c.current.Store(&pair)
	level := slog.LevelInfo
	if time.Now().After(leaf.NotAfter) {
		level = slog.LevelWarn
	}
	c.log.Log(context.Background(), level, "tls: certificate loaded", "file", c.certFile,
		"subject", leaf.Subject.String(), "serial", fmt.Sprintf("%X", leaf.SerialNumber), "not_after", leaf.NotAfter.UTC())
	return nil
}

// stamp reads both files' stamps.
func (c *certificate) stamp() fileStamp {
	var s fileStamp
	if fi, err := os.Stat(c.certFile); err == nil {
		s.certMod, s.certSize = fi.ModTime().UnixNano(), fi.Size()
	}
	if fi, err := os.Stat(c.keyFile); err == nil {
		s.keyMod, s.keySize = fi.ModTime().UnixNano(), fi.Size()
	}
	return s
}

// changed reports whether the files differ from the last load attempt.
func (c *certificate) changed() bool {
	now := c.stamp()
	c.mu.Lock()
	defer c.mu.Unlock()
	return now != c.seen
}

// watch reloads the pair whenever the files' stamps change, checking every
// interval, until ctx ends. A pair caught half-written fails to load and is
// tried again once the other file changes too.
func (c *certificate) watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if c.changed() {
				_ = c.reload() // logged; the old certificate stays
			}
		}
	}
}
