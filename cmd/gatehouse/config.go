package main

import (
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-auth/gatehouse/adapters/accesstoken"
	"github.com/gatehouse-auth/gatehouse/adapters/entstore"
	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
	"github.com/gatehouse-auth/gatehouse/adapters/mail"
	"github.com/gatehouse-auth/gatehouse/adapters/setting"
	"github.com/gatehouse-auth/gatehouse/adapters/totp"
	"github.com/gatehouse-auth/gatehouse/adapters/webauthn"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// config is Gatehouse's configuration, read from GATEHOUSE_* variables.
type config struct {
	Database        entstore.URL
	HTTP            httpapi.Settings
	HTTPAddr        string
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// RefreshReuseGrace is GATEHOUSE_REFRESH_REUSE_GRACE (app.Config).
	RefreshReuseGrace time.Duration
	// SessionMaxAge is GATEHOUSE_SESSION_MAX_AGE (app.Config); 0: none.
	SessionMaxAge time.Duration
	// MFAChallengeTTL is GATEHOUSE_MFA_CHALLENGE_TTL (app.Config).
	MFAChallengeTTL time.Duration
	Secret          string // empty: the embedded default keeps a local one
	TOTPIssuer      string // GATEHOUSE_TOTP_ISSUER
	// WebAuthn is the relying party of passkeys (GATEHOUSE_WEBAUTHN_*);
	// passkeys are off without its RP ID.
	WebAuthn      webauthn.Settings
	LogLevel      slog.Level
	Mail          mail.Settings
	RateLimitsOff bool
	PruneInterval time.Duration // 0: this replica never prunes
	// ShutdownDelay is how long serve goes on serving, not ready, after it
	// is told to stop, so that load balancers take it out of rotation
	// before it stops accepting connections.
	ShutdownDelay time.Duration
	// ShutdownGrace bounds the drain that follows: requests in flight,
	// background work and queued mail.
	ShutdownGrace time.Duration
	// PprofAddr is the loopback address of the profiling listener
	// (net/http/pprof); empty: there is none.
	PprofAddr string
}

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
}

// loadConfig reads and validates the configuration. An error names every
// variable at fault, and never repeats a value that may be secret.
func loadConfig(getenv func(string) string) (config, error) {
	r := setting.NewReader(getenv)
	c := config{
		Database:      entstore.ReadURL(r),
		HTTP:          httpapi.ReadSettings(r),
		Mail:          mail.ReadSettings(r),
		Secret:        accesstoken.ReadSecret(r),
		TOTPIssuer:    totp.ReadIssuer(r),
		HTTPAddr:      readHTTPAddr(r),
		LogLevel:      readLogLevel(r),
		RateLimitsOff: readRateLimitsOff(r),
		PruneInterval: readPruneInterval(r),
		PprofAddr:     readPprofAddr(r),
	}
	c.WebAuthn = webauthn.ReadSettings(r, c.HTTP.PublicURL)
	c.AccessTokenTTL, c.RefreshTokenTTL = readTokenTTLs(r)
	c.RefreshReuseGrace = readRefreshReuseGrace(r)
	c.SessionMaxAge = readSessionMaxAge(r, c.AccessTokenTTL)
	c.MFAChallengeTTL = readMFAChallengeTTL(r)
	c.ShutdownDelay, c.ShutdownGrace = readShutdown(r)
	requireSecretWithPostgres(r, c.Database, c.Secret)
	return c, r.Err()
}

// settingNames returns the name of every variable loadConfig reads, sorted.
func settingNames() []string {
	seen := map[string]bool{}
	_, _ = loadConfig(func(name string) string { seen[name] = true; return "" })
	names := slices.Collect(maps.Keys(seen))
	slices.Sort(names)
	return names
}

// requireSecretWithPostgres records a problem when a Postgres database has
// no GATEHOUSE_SECRET: without one, each replica would make up its own.
func requireSecretWithPostgres(r *setting.Reader, db entstore.URL, secret string) {
	if db.Dialect() == dialect.Postgres && secret == "" {
		r.Fail("GATEHOUSE_SECRET", "required with a Postgres database: it encrypts the signing keys every replica shares")
	}
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

// maxRefreshReuseGrace bounds GATEHOUSE_REFRESH_REUSE_GRACE: a client
// retries a lost refresh within seconds, and a longer grace only widens
// the window in which a stolen spent token still yields its successor.
const maxRefreshReuseGrace = 5 * time.Minute

// readRefreshReuseGrace reads GATEHOUSE_REFRESH_REUSE_GRACE: how long the
// token a refresh spent still gets the same successor.
func readRefreshReuseGrace(r *setting.Reader) time.Duration {
	grace := r.NonNegativeDuration("GATEHOUSE_REFRESH_REUSE_GRACE", 10*time.Second)
	if grace > maxRefreshReuseGrace {
		r.Fail("GATEHOUSE_REFRESH_REUSE_GRACE", "must be at most %s", maxRefreshReuseGrace)
	}
	return grace
}

// readSessionMaxAge reads GATEHOUSE_SESSION_MAX_AGE, a session's absolute
// lifetime: unset means none, and a set one must outlast an access token.
func readSessionMaxAge(r *setting.Reader, access time.Duration) time.Duration {
	if r.String("GATEHOUSE_SESSION_MAX_AGE", "") == "" {
		return 0
	}
	maxAge := r.PositiveDuration("GATEHOUSE_SESSION_MAX_AGE", 0)
	if maxAge != 0 && maxAge <= access {
		r.Fail("GATEHOUSE_SESSION_MAX_AGE", "must be longer than GATEHOUSE_ACCESS_TOKEN_TTL")
	}
	return maxAge
}

// The bounds of GATEHOUSE_MFA_CHALLENGE_TTL: long enough to open an
// authenticator app, short enough that a stolen challenge soon expires.
const (
	minMFAChallengeTTL = time.Minute
	maxMFAChallengeTTL = 15 * time.Minute
)

// readMFAChallengeTTL reads GATEHOUSE_MFA_CHALLENGE_TTL: how long a
// sign-in held back for its second factor may take to finish.
func readMFAChallengeTTL(r *setting.Reader) time.Duration {
	ttl := r.PositiveDuration("GATEHOUSE_MFA_CHALLENGE_TTL", domain.TokenMFAChallenge.TTL())
	if ttl != 0 && (ttl < minMFAChallengeTTL || ttl > maxMFAChallengeTTL) {
		r.Fail("GATEHOUSE_MFA_CHALLENGE_TTL", "must be from %s to %s", minMFAChallengeTTL, maxMFAChallengeTTL)
	}
	return ttl
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
