package main

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// env returns a getenv over vars.
func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestConfigDefaultsNeedNoConfiguration(t *testing.T) {
	c, err := loadConfig(env(nil))
	require.NoError(t, err)
	assert.Equal(t, "sqlite://gatehouse.db", c.Database.String())
	assert.Equal(t, ":8080", c.HTTPAddr)
	assert.Equal(t, "http://localhost:8080", c.HTTP.PublicURL)
	assert.Equal(t, 15*time.Minute, c.AccessTokenTTL)
	assert.Equal(t, 720*time.Hour, c.RefreshTokenTTL)
	assert.Equal(t, 10*time.Second, c.RefreshReuseGrace)
	assert.Zero(t, c.SessionMaxAge, "no absolute session lifetime unless asked for")
	assert.Equal(t, 5*time.Minute, c.MFAChallengeTTL)
	assert.Empty(t, c.Secret)
	assert.Empty(t, c.HTTP.TrustedProxies)
	assert.Nil(t, c.Mail.SMTP, "emails go to the log")
	assert.Equal(t, "Gatehouse <no-reply@localhost>", c.Mail.From)
	assert.Empty(t, c.HTTP.AdminAPIKey, "the admin API is off")
	assert.False(t, c.RateLimitsOff)
	assert.Equal(t, 10*time.Minute, c.PruneInterval)
	assert.Equal(t, 2*time.Second, c.ShutdownDelay)
	assert.Equal(t, 10*time.Second, c.ShutdownGrace)
	assert.Equal(t, 10*time.Second, c.HTTP.RequestTimeout)
	assert.Empty(t, c.PprofAddr, "no profiling listener unless asked for")
	assert.Empty(t, c.HTTP.RedirectURLs, "no redirect_to is allowed")
	assert.False(t, c.WebAuthn.Enabled(), "passkeys are off without an RP ID")
}

func TestConfigReadsEveryVariable(t *testing.T) {
	c, err := loadConfig(env(map[string]string{
		"GATEHOUSE_DATABASE_URL":        "postgres://gatehouse@db:5432/gatehouse",
		"GATEHOUSE_HTTP_ADDR":           "127.0.0.1:9000",
		"GATEHOUSE_PUBLIC_URL":          "https://auth.example.com/",
		"GATEHOUSE_ACCESS_TOKEN_TTL":    "5m",
		"GATEHOUSE_REFRESH_TOKEN_TTL":   "24h",
		"GATEHOUSE_REFRESH_REUSE_GRACE": "0s",
		"GATEHOUSE_SESSION_MAX_AGE":     "2160h",
		"GATEHOUSE_MFA_CHALLENGE_TTL":   "2m",
		"GATEHOUSE_SECRET":              "0123456789abcdef0123456789abcdef",
		"GATEHOUSE_LOG_LEVEL":           "DEBUG",
		"GATEHOUSE_TRUSTED_PROXIES":     "10.0.0.0/8, 192.0.2.1,2001:db8::/32",
		"GATEHOUSE_SMTP_URL":            "smtps://mailer:s3cret@smtp.example.com",
		"GATEHOUSE_MAIL_FROM":           "Example Auth <auth@example.com>",
		"GATEHOUSE_ADMIN_API_KEY":       "admin-key-admin-key-admin-key-admin-key",
		"GATEHOUSE_RATE_LIMITS":         "off",
		"GATEHOUSE_PRUNE_INTERVAL":      "off",
		"GATEHOUSE_SHUTDOWN_DELAY":      "0s",
		"GATEHOUSE_SHUTDOWN_GRACE":      "45s",
		"GATEHOUSE_REQUEST_TIMEOUT":     "30s",
		"GATEHOUSE_PPROF_ADDR":          "[::1]:6060",
		"GATEHOUSE_REDIRECT_URLS":       "https://app.example.com/app/ https://app.example.com/done",
		"GATEHOUSE_WEBAUTHN_RP_ID":      "example.com",
	}))
	require.NoError(t, err)
	assert.Equal(t, "postgres", c.Database.Dialect())
	assert.Equal(t, "https://auth.example.com", c.HTTP.PublicURL, "the trailing slash goes")
	assert.Equal(t, 5*time.Minute, c.AccessTokenTTL)
	assert.Equal(t, 24*time.Hour, c.RefreshTokenTTL)
	assert.Zero(t, c.RefreshReuseGrace, "0s: strict")
	assert.Equal(t, 2160*time.Hour, c.SessionMaxAge)
	assert.Equal(t, 2*time.Minute, c.MFAChallengeTTL)
	assert.Equal(t, "DEBUG", c.LogLevel.String())
	assert.Equal(t, []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("2001:db8::/32"),
	}, c.HTTP.TrustedProxies)
	require.NotNil(t, c.Mail.SMTP)
	assert.Equal(t, "smtp.example.com:465", c.Mail.SMTP.Addr())
	assert.True(t, c.Mail.SMTP.ImplicitTLS)
	assert.Equal(t, "Example Auth <auth@example.com>", c.Mail.From)
	assert.Equal(t, "admin-key-admin-key-admin-key-admin-key", c.HTTP.AdminAPIKey)
	assert.True(t, c.RateLimitsOff)
	assert.Zero(t, c.PruneInterval, "off: this replica never prunes")
	assert.Zero(t, c.ShutdownDelay, "no delay is a valid choice")
	assert.Equal(t, 45*time.Second, c.ShutdownGrace)
	assert.Equal(t, 30*time.Second, c.HTTP.RequestTimeout)
	assert.Equal(t, "[::1]:6060", c.PprofAddr)
	assert.Equal(t, []string{"https://app.example.com/app/", "https://app.example.com/done"}, c.HTTP.RedirectURLs)
	assert.Equal(t, "example.com", c.WebAuthn.RPID)
	assert.Equal(t, []string{"https://auth.example.com"}, c.WebAuthn.Origins, "by default the public URL's origin")
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	for name, tc := range map[string]struct {
		vars map[string]string
		want string
	}{
		"postgres needs a secret":   {map[string]string{"GATEHOUSE_DATABASE_URL": "postgres://db/gh"}, "GATEHOUSE_SECRET: required"},
		"bad address":               {map[string]string{"GATEHOUSE_HTTP_ADDR": "8080"}, "GATEHOUSE_HTTP_ADDR"},
		"bad access ttl":            {map[string]string{"GATEHOUSE_ACCESS_TOKEN_TTL": "15"}, "GATEHOUSE_ACCESS_TOKEN_TTL"},
		"negative ttl":              {map[string]string{"GATEHOUSE_REFRESH_TOKEN_TTL": "-1h"}, "GATEHOUSE_REFRESH_TOKEN_TTL"},
		"refresh too short":         {map[string]string{"GATEHOUSE_REFRESH_TOKEN_TTL": "10m"}, "GATEHOUSE_REFRESH_TOKEN_TTL: must be longer"},
		"bad log level":             {map[string]string{"GATEHOUSE_LOG_LEVEL": "verbose"}, "GATEHOUSE_LOG_LEVEL"},
		"bad rate limits":           {map[string]string{"GATEHOUSE_RATE_LIMITS": "maybe"}, "GATEHOUSE_RATE_LIMITS"},
		"bad prune interval":        {map[string]string{"GATEHOUSE_PRUNE_INTERVAL": "hourly"}, "GATEHOUSE_PRUNE_INTERVAL"},
		"bad shutdown delay":        {map[string]string{"GATEHOUSE_SHUTDOWN_DELAY": "2"}, "GATEHOUSE_SHUTDOWN_DELAY"},
		"negative shutdown delay":   {map[string]string{"GATEHOUSE_SHUTDOWN_DELAY": "-1s"}, "GATEHOUSE_SHUTDOWN_DELAY: \"-1s\" must not be negative"},
		"pprof on every interface":  {map[string]string{"GATEHOUSE_PPROF_ADDR": ":6060"}, "GATEHOUSE_PPROF_ADDR: \":6060\" is not a loopback"},
		"pprof on a public address": {map[string]string{"GATEHOUSE_PPROF_ADDR": "192.0.2.1:6060"}, "GATEHOUSE_PPROF_ADDR"},
		"negative reuse grace":      {map[string]string{"GATEHOUSE_REFRESH_REUSE_GRACE": "-1s"}, "GATEHOUSE_REFRESH_REUSE_GRACE: \"-1s\" must not be negative"},
		"long reuse grace":          {map[string]string{"GATEHOUSE_REFRESH_REUSE_GRACE": "1h"}, "GATEHOUSE_REFRESH_REUSE_GRACE: must be at most 5m0s"},
		"bad session max age":       {map[string]string{"GATEHOUSE_SESSION_MAX_AGE": "90d"}, "GATEHOUSE_SESSION_MAX_AGE: \"90d\" is not a Go duration"},
		"short session max age":     {map[string]string{"GATEHOUSE_SESSION_MAX_AGE": "10m"}, "GATEHOUSE_SESSION_MAX_AGE: must be longer than GATEHOUSE_ACCESS_TOKEN_TTL"},
		"hasty mfa challenge":       {map[string]string{"GATEHOUSE_MFA_CHALLENGE_TTL": "30s"}, "GATEHOUSE_MFA_CHALLENGE_TTL: must be from 1m0s to 15m0s"},
		"lasting mfa challenge":     {map[string]string{"GATEHOUSE_MFA_CHALLENGE_TTL": "1h"}, "GATEHOUSE_MFA_CHALLENGE_TTL: must be from 1m0s to 15m0s"},
		"bad shutdown grace":        {map[string]string{"GATEHOUSE_SHUTDOWN_GRACE": "soon"}, "GATEHOUSE_SHUTDOWN_GRACE"},
		"bad rp id":                 {map[string]string{"GATEHOUSE_WEBAUTHN_RP_ID": "https://example.com"}, "GATEHOUSE_WEBAUTHN_RP_ID"},
		"origin off the rp id":      {map[string]string{"GATEHOUSE_WEBAUTHN_RP_ID": "example.com", "GATEHOUSE_WEBAUTHN_ORIGINS": "https://example.net"}, "GATEHOUSE_WEBAUTHN_ORIGINS"},
		"zero shutdown grace":       {map[string]string{"GATEHOUSE_SHUTDOWN_GRACE": "0s"}, "GATEHOUSE_SHUTDOWN_GRACE: \"0s\" must be positive"},
	} {
		_, err := loadConfig(env(tc.vars))
		require.ErrorContains(t, err, tc.want, name)
	}
}

func TestConfigErrorsKeepSecretsOut(t *testing.T) {
	_, err := loadConfig(env(map[string]string{
		"GATEHOUSE_DATABASE_URL":  "mysql://admin:hunter2-db-password@db/x",
		"GATEHOUSE_SECRET":        "tooshort-but-secret",
		"GATEHOUSE_SMTP_URL":      "smtp://user:hunter2-smtp-password@mail.example.com:notaport",
		"GATEHOUSE_ADMIN_API_KEY": "short-admin-secret",
	}))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2-db-password")
	assert.NotContains(t, err.Error(), "tooshort-but-secret")
	assert.NotContains(t, err.Error(), "hunter2-smtp-password")
	assert.NotContains(t, err.Error(), "short-admin-secret")
	assert.Contains(t, err.Error(), "GATEHOUSE_SMTP_URL")
}

// TestConfigReportsEveryProblemAtOnce: the adapters' problems and the
// process's own come back together, each naming its variable, so that one
// failed start shows everything to fix.
func TestConfigReportsEveryProblemAtOnce(t *testing.T) {
	_, err := loadConfig(env(map[string]string{
		"GATEHOUSE_DATABASE_URL":      "sqlite://",      // entstore
		"GATEHOUSE_SECRET":            "short",          // accesstoken
		"GATEHOUSE_REQUEST_TIMEOUT":   "1h",             // httpapi
		"GATEHOUSE_MAIL_FROM":         "not an address", // mail
		"GATEHOUSE_HTTP_ADDR":         "x",              // the process
		"GATEHOUSE_LOG_LEVEL":         "loud",           // the process
		"GATEHOUSE_REFRESH_TOKEN_TTL": "1m",             // the use cases
	}))
	require.Error(t, err)
	for _, want := range []string{
		"GATEHOUSE_DATABASE_URL: sqlite:// needs a file path",
		"GATEHOUSE_SECRET: must be at least 32 characters long",
		"GATEHOUSE_REQUEST_TIMEOUT: must be from 100ms to 5m0s",
		`GATEHOUSE_MAIL_FROM: "not an address" is not an address`,
		`GATEHOUSE_HTTP_ADDR: "x" is not host:port`,
		`GATEHOUSE_LOG_LEVEL: "loud" is not one of`,
		"GATEHOUSE_REFRESH_TOKEN_TTL: must be longer than GATEHOUSE_ACCESS_TOKEN_TTL",
	} {
		assert.ErrorContains(t, err, want)
	}
}

func TestStatementTimeoutEndsBeforeTheRequestDeadline(t *testing.T) {
	for request, want := range map[time.Duration]time.Duration{
		10 * time.Second:       9 * time.Second,
		time.Second:            750 * time.Millisecond,
		2 * time.Second:        1500 * time.Millisecond,
		100 * time.Millisecond: 75 * time.Millisecond,
	} {
		assert.Equal(t, want, statementTimeout(request), "request timeout %s", request)
	}
}
