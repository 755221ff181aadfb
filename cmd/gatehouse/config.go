package main

import (
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-auth/gatehouse/adapters/accesstoken"
	"github.com/gatehouse-auth/gatehouse/adapters/entstore"
	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
	"github.com/gatehouse-auth/gatehouse/adapters/mail"
	"github.com/gatehouse-auth/gatehouse/adapters/setting"
)

// config is Gatehouse's configuration, read from GATEHOUSE_* variables.
type config struct {
	Database        entstore.URL
	HTTPAddr        string
	PublicURL       string // no trailing slash
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	Secret          string // empty: the embedded default keeps a local one
	LogLevel        slog.Level
	TrustedProxies  []netip.Prefix
	Mail            mail.Settings
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

// loadConfig reads and validates the configuration. An error names every
// variable at fault, and never repeats a value that may be secret.
func loadConfig(getenv func(string) string) (config, error) {
	r := setting.NewReader(getenv)
	c := config{
		Database:      entstore.ReadURL(r),
		Mail:          mail.ReadSettings(r),
		Secret:        accesstoken.ReadSecret(r),
		HTTPAddr:      readHTTPAddr(r),
		LogLevel:      readLogLevel(r),
		RateLimitsOff: readRateLimitsOff(r),
		PruneInterval: readPruneInterval(r),
		PprofAddr:     readPprofAddr(r),
	}
	c.PublicURL, c.TrustedProxies, c.AdminAPIKey, c.RequestTimeout = readHTTP(r)
	c.AccessTokenTTL, c.RefreshTokenTTL = readTokenTTLs(r)
	c.ShutdownDelay, c.ShutdownGrace = readShutdown(r)
	requireSecretWithPostgres(r, c.Database, c.Secret)
	return c, r.Err()
}

// requireSecretWithPostgres records a problem when a Postgres database has
// no GATEHOUSE_SECRET: without one, each replica would make up its own.
func requireSecretWithPostgres(r *setting.Reader, db entstore.URL, secret string) {
	if db.Dialect() == dialect.Postgres && secret == "" {
		r.Fail("GATEHOUSE_SECRET", "required with a Postgres database: it encrypts the signing keys every replica shares")
	}
}

// readHTTP reads the settings of the HTTP edge: GATEHOUSE_PUBLIC_URL,
// GATEHOUSE_TRUSTED_PROXIES, GATEHOUSE_ADMIN_API_KEY and
// GATEHOUSE_REQUEST_TIMEOUT.
func readHTTP(r *setting.Reader) (publicURL string, proxies []netip.Prefix, adminKey string, timeout time.Duration) {
	public := r.String("GATEHOUSE_PUBLIC_URL", "http://localhost:8080")
	if u, err := url.Parse(public); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		r.Fail("GATEHOUSE_PUBLIC_URL", "%q is not an absolute http(s) URL without query or fragment", public)
	}
	publicURL = strings.TrimRight(public, "/")

	for _, field := range strings.FieldsFunc(r.String("GATEHOUSE_TRUSTED_PROXIES", ""), func(r rune) bool { return r == ',' || r == ' ' }) {
		prefix, err := parsePrefix(field)
		if err != nil {
			r.Fail("GATEHOUSE_TRUSTED_PROXIES", "%q is not a CIDR such as 10.0.0.0/8 or an IP address", field)
			continue
		}
		proxies = append(proxies, prefix)
	}

	if adminKey = r.Secret("GATEHOUSE_ADMIN_API_KEY"); adminKey != "" && len(adminKey) < minAdminKeyLength {
		r.Fail("GATEHOUSE_ADMIN_API_KEY", "must be at least %d characters long", minAdminKeyLength)
	}

	timeout = r.PositiveDuration("GATEHOUSE_REQUEST_TIMEOUT", httpapi.DefaultRequestTimeout)
	if timeout != 0 && (timeout < minRequestTimeout || timeout > maxRequestTimeout) {
		r.Fail("GATEHOUSE_REQUEST_TIMEOUT", "must be from %s to %s", minRequestTimeout, maxRequestTimeout)
	}
	return publicURL, proxies, adminKey, timeout
}

// readHTTPAddr reads GATEHOUSE_HTTP_ADDR, the address serve listens on.
func readHTTPAddr(r *setting.Reader) string {
	addr := r.String("GATEHOUSE_HTTP_ADDR", ":8080")
	if _, _, err := net.SplitHostPort(addr); err != nil {
		r.Fail("GATEHOUSE_HTTP_ADDR", "%q is not host:port (as in :8080 or 127.0.0.1:8080)", addr)
	}
	return addr
}

// readLogLevel reads GATEHOUSE_LOG_LEVEL.
func readLogLevel(r *setting.Reader) slog.Level {
	s := r.String("GATEHOUSE_LOG_LEVEL", "info")
	level, ok := logLevels[strings.ToLower(s)]
	if !ok {
		r.Fail("GATEHOUSE_LOG_LEVEL", "%q is not one of debug, info, warn, error", s)
	}
	return level
}

// readTokenTTLs reads GATEHOUSE_ACCESS_TOKEN_TTL and
// GATEHOUSE_REFRESH_TOKEN_TTL, which the use cases share with the access
// token issuer, and checks that a session outlives its access tokens.
func readTokenTTLs(r *setting.Reader) (access, refresh time.Duration) {
	access = r.PositiveDuration("GATEHOUSE_ACCESS_TOKEN_TTL", 15*time.Minute)
	refresh = r.PositiveDuration("GATEHOUSE_REFRESH_TOKEN_TTL", 720*time.Hour)
	if refresh != 0 && refresh <= access {
		r.Fail("GATEHOUSE_REFRESH_TOKEN_TTL", "must be longer than GATEHOUSE_ACCESS_TOKEN_TTL")
	}
	return access, refresh
}

// readRateLimitsOff reads GATEHOUSE_RATE_LIMITS: whether every limit is
// off.
func readRateLimitsOff(r *setting.Reader) bool {
	switch v := strings.ToLower(r.String("GATEHOUSE_RATE_LIMITS", "on")); v {
	case "on":
	case "off":
		return true
	default:
		r.Fail("GATEHOUSE_RATE_LIMITS", "%q is neither on nor off", v)
	}
	return false
}

// readPruneInterval reads GATEHOUSE_PRUNE_INTERVAL; off is zero.
func readPruneInterval(r *setting.Reader) time.Duration {
	const name = "GATEHOUSE_PRUNE_INTERVAL"
	v := r.String(name, "10m")
	if v == "off" {
		return 0
	}
	d, err := setting.ParsePositiveDuration(v)
	if err != nil {
		r.Fail(name, "%v, or off", err)
	}
	return d
}

// readShutdown reads GATEHOUSE_SHUTDOWN_DELAY and GATEHOUSE_SHUTDOWN_GRACE.
func readShutdown(r *setting.Reader) (delay, grace time.Duration) {
	return r.NonNegativeDuration("GATEHOUSE_SHUTDOWN_DELAY", 2*time.Second),
		r.PositiveDuration("GATEHOUSE_SHUTDOWN_GRACE", 10*time.Second)
}

// readPprofAddr reads GATEHOUSE_PPROF_ADDR, which must stay on loopback.
func readPprofAddr(r *setting.Reader) string {
	addr := r.String("GATEHOUSE_PPROF_ADDR", "")
	if addr != "" && !loopbackAddr(addr) {
		r.Fail("GATEHOUSE_PPROF_ADDR", "%q is not a loopback host:port such as 127.0.0.1:6060: profiles must not be served to the network", addr)
	}
	return addr
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
