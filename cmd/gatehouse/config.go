package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
	"github.com/gatehouse-auth/gatehouse/adapters/mail"
)

// config is Gatehouse's configuration, read from GATEHOUSE_* variables.
type config struct {
	DatabaseURL     string
	HTTPAddr        string
	PublicURL       string // no trailing slash
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	Secret          string // empty: the embedded default keeps a local one
	LogLevel        slog.Level
	TrustedProxies  []netip.Prefix
	SMTP            *mail.SMTPConfig // nil: emails are written to the log
	MailFrom        string
	AdminAPIKey     string // empty: the admin API answers 404
	RateLimitsOff   bool
	PruneInterval   time.Duration // 0: this replica never prunes
	// ShutdownDelay is how long serve goes on serving, not ready, after it
	// is told to stop, so that load balancers take it out of rotation
	// before it stops accepting connections.
	ShutdownDelay time.Duration
	// ShutdownGrace bounds the drain that follows: requests in flight,
	// background work and queued mail.
	ShutdownGrace time.Duration
	// RequestTimeout bounds how long a request may wait for the database
	// or a password hash before it answers 503 (httpapi.Config).
	RequestTimeout time.Duration
	// PprofAddr is the loopback address of the profiling listener
	// (net/http/pprof); empty: there is none.
	PprofAddr string
}

// minAdminKeyLength is the shortest GATEHOUSE_ADMIN_API_KEY accepted, so a
// key cannot be guessed.
const minAdminKeyLength = 32

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
}

// minRequestTimeout and maxRequestTimeout bound GATEHOUSE_REQUEST_TIMEOUT.
// Below the minimum even a healthy database's answer would come too late
// and every request would be a 503; a request held past the maximum holds
// a connection and its memory for a client unlikely to be waiting.
const (
	minRequestTimeout = 100 * time.Millisecond
	maxRequestTimeout = 5 * time.Minute
)

// minSecretLength is the shortest GATEHOUSE_SECRET accepted: 32 bytes, the
// size of the AES-256 key derived from it.
const minSecretLength = 32

// loadConfig reads and validates the configuration. An error names the
// variable at fault, and never repeats a value that may be secret.
func loadConfig(getenv func(string) string) (config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := config{
		DatabaseURL: get("GATEHOUSE_DATABASE_URL", "sqlite://gatehouse.db"),
		HTTPAddr:    get("GATEHOUSE_HTTP_ADDR", ":8080"),
		Secret:      getenv("GATEHOUSE_SECRET"),
		MailFrom:    get("GATEHOUSE_MAIL_FROM", mail.DefaultFrom),
		AdminAPIKey: getenv("GATEHOUSE_ADMIN_API_KEY"),
	}
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}

	switch scheme, _, _ := strings.Cut(c.DatabaseURL, "://"); scheme {
	case "postgres", "postgresql":
		if c.Secret == "" {
			bad("GATEHOUSE_SECRET", "required with a Postgres database: it encrypts the signing keys every replica shares")
		}
	case "sqlite":
		if sqlitePath(c.DatabaseURL) == "" {
			bad("GATEHOUSE_DATABASE_URL", "sqlite:// needs a file path, as in sqlite://gatehouse.db")
		}
	default:
		bad("GATEHOUSE_DATABASE_URL", "must start with postgres://, postgresql:// or sqlite://")
	}
	if c.Secret != "" && len(c.Secret) < minSecretLength {
		bad("GATEHOUSE_SECRET", "must be at least %d characters long", minSecretLength)
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("GATEHOUSE_HTTP_ADDR", "%q is not host:port (as in :8080 or 127.0.0.1:8080)", c.HTTPAddr)
	}

	public := get("GATEHOUSE_PUBLIC_URL", "http://localhost:8080")
	if u, err := url.Parse(public); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		bad("GATEHOUSE_PUBLIC_URL", "%q is not an absolute http(s) URL without query or fragment", public)
	}
	c.PublicURL = strings.TrimRight(public, "/")

	var err error
	if c.AccessTokenTTL, err = positiveDuration(get("GATEHOUSE_ACCESS_TOKEN_TTL", "15m")); err != nil {
		bad("GATEHOUSE_ACCESS_TOKEN_TTL", "%v", err)
	}
	if c.RefreshTokenTTL, err = positiveDuration(get("GATEHOUSE_REFRESH_TOKEN_TTL", "720h")); err != nil {
		bad("GATEHOUSE_REFRESH_TOKEN_TTL", "%v", err)
	}
	if err == nil && c.RefreshTokenTTL <= c.AccessTokenTTL {
		bad("GATEHOUSE_REFRESH_TOKEN_TTL", "must be longer than GATEHOUSE_ACCESS_TOKEN_TTL")
	}
	if c.ShutdownDelay, err = nonNegativeDuration(get("GATEHOUSE_SHUTDOWN_DELAY", "2s")); err != nil {
		bad("GATEHOUSE_SHUTDOWN_DELAY", "%v", err)
	}
	if c.ShutdownGrace, err = positiveDuration(get("GATEHOUSE_SHUTDOWN_GRACE", "10s")); err != nil {
		bad("GATEHOUSE_SHUTDOWN_GRACE", "%v", err)
	}
	if c.RequestTimeout, err = positiveDuration(get("GATEHOUSE_REQUEST_TIMEOUT", httpapi.DefaultRequestTimeout.String())); err != nil {
		bad("GATEHOUSE_REQUEST_TIMEOUT", "%v", err)
	} else if c.RequestTimeout < minRequestTimeout || c.RequestTimeout > maxRequestTimeout {
		bad("GATEHOUSE_REQUEST_TIMEOUT", "must be from %s to %s", minRequestTimeout, maxRequestTimeout)
	}

	level := get("GATEHOUSE_LOG_LEVEL", "info")
	var ok bool
	if c.LogLevel, ok = logLevels[strings.ToLower(level)]; !ok {
		bad("GATEHOUSE_LOG_LEVEL", "%q is not one of debug, info, warn, error", level)
	}

	if raw := get("GATEHOUSE_SMTP_URL", ""); raw != "" {
		smtp, err := mail.ParseSMTPURL(raw)
		if err != nil {
			bad("GATEHOUSE_SMTP_URL", "%v", err)
		}
		c.SMTP = &smtp
	}
	if addr, err := netmail.ParseAddress(c.MailFrom); err != nil || !strings.Contains(addr.Address, "@") {
		bad("GATEHOUSE_MAIL_FROM", "%q is not an address such as Gatehouse <no-reply@example.com>", c.MailFrom)
	}
	if c.AdminAPIKey != "" && len(c.AdminAPIKey) < minAdminKeyLength {
		bad("GATEHOUSE_ADMIN_API_KEY", "must be at least %d characters long", minAdminKeyLength)
	}
	switch v := strings.ToLower(get("GATEHOUSE_RATE_LIMITS", "on")); v {
	case "on":
	case "off":
		c.RateLimitsOff = true
	default:
		bad("GATEHOUSE_RATE_LIMITS", "%q is neither on nor off", v)
	}
	if v := get("GATEHOUSE_PRUNE_INTERVAL", "10m"); v != "off" {
		var err error
		if c.PruneInterval, err = positiveDuration(v); err != nil {
			bad("GATEHOUSE_PRUNE_INTERVAL", "%v, or off", err)
		}
	}

	if c.PprofAddr = get("GATEHOUSE_PPROF_ADDR", ""); c.PprofAddr != "" && !loopbackAddr(c.PprofAddr) {
		bad("GATEHOUSE_PPROF_ADDR", "%q is not a loopback host:port such as 127.0.0.1:6060: profiles must not be served to the network", c.PprofAddr)
	}

	for _, field := range strings.FieldsFunc(getenv("GATEHOUSE_TRUSTED_PROXIES"), func(r rune) bool { return r == ',' || r == ' ' }) {
		prefix, err := parsePrefix(field)
		if err != nil {
			bad("GATEHOUSE_TRUSTED_PROXIES", "%q is not a CIDR such as 10.0.0.0/8 or an IP address", field)
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix)
	}
	return c, errors.Join(errs...)
}

// positiveDuration parses a Go duration that must be above zero.
func positiveDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a Go duration such as 15m or 720h", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be positive", s)
	}
	return d, nil
}

// nonNegativeDuration parses a Go duration that must not be below zero.
func nonNegativeDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a Go duration such as 0s, 2s or 500ms", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q must not be negative", s)
	}
	return d, nil
}

// loopbackAddr reports whether addr is host:port with a loopback IP or
// localhost as the host.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// parsePrefix accepts a CIDR or a single address (a one-address prefix).
func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(addr, addr.BitLen()), nil
}

// sqlitePath returns the file a sqlite:// URL names: sqlite://gatehouse.db
// is relative, sqlite:///var/lib/gatehouse.db absolute. It returns "" for
// any other URL.
func sqlitePath(databaseURL string) string {
	path, ok := strings.CutPrefix(databaseURL, "sqlite://")
	if !ok {
		return ""
	}
	path, _, _ = strings.Cut(path, "?")
	if path == "" {
		return ""
	}
	return filepath.Clean(path)
}
