package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
	"github.com/gatehouse-auth/gatehouse/adapters/nfc"
	"github.com/gatehouse-auth/gatehouse/adapters/password"
	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// serveHooks are the two places where this package's tests reach into
// serve, to hold it in states they must observe; serve itself runs with
// none.
type serveHooks struct {
	// hasher, when set, wraps the password hasher: a test holds a login in
	// flight with it.
	hasher func(domain.PasswordHasher) domain.PasswordHasher
	// delay, when set, replaces the timer of the shutdown delay: a test
	// ends the delay once it has seen the draining server.
	delay func(time.Duration) <-chan time.Time
}

// readTimeout bounds how long a request, its body included, may take to
// arrive.
const readTimeout = 30 * time.Second

// serve runs the HTTP service until ctx ends, then shuts it down (see
// serveWith).
func serve(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	return serveWith(ctx, getenv, stdout, serveHooks{})
}

// serveWith runs the HTTP service until ctx ends. Then, in this order, it
// answers readiness probes with 503 while serving on for the shutdown delay
// (GATEHOUSE_SHUTDOWN_DELAY), so that load balancers stop sending requests
// before the listener closes; stops accepting connections and waits for
// the requests in flight; waits for the work they left running in the
// background; delivers the mail that work queued; and closes the database.
// The grace (GATEHOUSE_SHUTDOWN_GRACE) is one deadline for the three waits
// after the delay (requests, background work, mail), so that delay plus
// grace bounds a stop.
func serveWith(ctx context.Context, getenv func(string) string, stdout io.Writer, hooks serveHooks) error {
	c, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logs := newLogBuffer(stdout, logFlushInterval)
	defer logs.Close() // last, after everything else has logged its end
	log := newLogger(logs, c.LogLevel)
	timed := c
	timed.Database = c.Database.WithStatementTimeout(statementTimeout(c.HTTP.RequestTimeout))
	db, err := openMigrated(ctx, timed, log)
	if err != nil {
		return err
	}
	defer db.Close()
	metrics := newRegistry(db.SQL())

	clock := domain.SystemClock{}
	secret, err := serviceSecret(c, log)
	if err != nil {
		return err
	}
	issuer, err := newIssuer(ctx, c, secret, db, clock, log)
	if err != nil {
		return err
	}
	devices, err := newDevices(secret)
	if err != nil {
		return err
	}
	codes, totpSecrets, err := newTOTP(c, secret)
	if err != nil {
		return err
	}
	passkeys, err := newPasskeys(c, log)
	if err != nil {
		return err
	}
	mailer, closeMailer, err := newMailer(c, clock, log, metrics)
	if err != nil {
		return err
	}
	if c.RateLimitsOff {
		log.Warn("GATEHOUSE_RATE_LIMITS=off: every rate limit is disabled; use this only for benchmarks and load tests")
	}
	hasher := meterHasher(metrics, password.NewHasher(password.Config{}))
	if hooks.hasher != nil {
		hasher = hooks.hasher(hasher)
	}
	usecases, err := app.New(ctx, app.Ports{
		Stores:       db.Stores(),
		Transactor:   db,
		Standalone:   db.Standalone(),
		Hasher:       hasher,
		Normalizer:   nfc.Normalizer{},
		AccessTokens: issuer,
		Mailer:       mailer,
		TOTP:         codes,
		Secrets:      totpSecrets,
		Devices:      devices,
		Passkeys:     passkeys,
		Clock:        clock,
		Logger:       log,
	}, app.Config{
		AccessTokenTTL: c.AccessTokenTTL, RefreshTokenTTL: c.RefreshTokenTTL, RateLimitsOff: c.RateLimitsOff,
		RefreshReuseGrace: c.RefreshReuseGrace, SessionMaxAge: c.SessionMaxAge, MFAChallengeTTL: c.MFAChallengeTTL,
		RefreshSettleTimeout: settleTimeout(c.HTTP.RequestTimeout),
	})
	if err != nil {
		return err
	}
	if c.PruneInterval > 0 {
		pruneCtx, stopPruning := context.WithCancel(ctx)
		pruned := make(chan struct{})
		go func() { defer close(pruned); pruneEvery(pruneCtx, usecases.Maintenance, c.PruneInterval) }()
		// Deferred after db.Close, so it runs before it: a run in progress
		// stops between batches and releases its lock while the DB is open.
		defer func() { stopPruning(); <-pruned }()
	}

	if c.PprofAddr != "" {
		stopPprof, err := startPprof(c.PprofAddr, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}

	// Start-up is done, and with it the dummy password hash (app.New),
	// whose argon2 memory would otherwise stay resident until the
	// runtime's scavenger gets round to it: an idle replica should be small.
	debug.FreeOSMemory()

	ln, err := net.Listen("tcp", c.HTTPAddr)
	if err != nil {
		return fmt.Errorf("GATEHOUSE_HTTP_ADDR: %w", err)
	}
	draining := make(chan struct{})
	srv := &http.Server{
		Handler: httpapi.New(httpapi.Config{
			Auth: usecases.Auth, Account: usecases.Account, Admin: usecases.Admin, KeySet: issuer, Logger: log,
			TrustedProxies: c.HTTP.TrustedProxies,
			PublicURL:      c.HTTP.PublicURL, AdminAPIKey: c.HTTP.AdminAPIKey,
			CORSOrigins: c.HTTP.CORSOrigins,
			Ready:       db.Ping, Draining: draining, Metrics: metrics,
			RequestTimeout: c.HTTP.RequestTimeout,
			RedirectURLs:   c.HTTP.RedirectURLs,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       readTimeout,
		// Past the request's own deadline, with time to write its 503,
		// and never shorter than the time a body may take to arrive.
		WriteTimeout: max(readTimeout, c.HTTP.RequestTimeout+20*time.Second),
		IdleTimeout:  2 * time.Minute,
	}
	log.Info("listening", "addr", ln.Addr().String(), "version", version, "database", db.Dialect())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}

	close(draining) // readiness answers 503 from now on
	log.Info("shutting down", "delay", c.ShutdownDelay.String(), "grace", c.ShutdownGrace.String())
	after := time.After
	if hooks.delay != nil {
		after = hooks.delay
	}
	select {
	case <-after(c.ShutdownDelay):
	case err := <-served:
		return err
	}

	drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.ShutdownGrace)
	defer cancel()
	// In-flight requests first, then the work they left running, then the
	// mail that work queued; the database closes last (deferred above).
	err = srv.Shutdown(drain)
	if err != nil {
		_ = srv.Close() // cut the requests that outlived the grace
		err = fmt.Errorf("requests still in flight when GATEHOUSE_SHUTDOWN_GRACE (%s) ran out: %w", c.ShutdownGrace, err)
	}
	if waitErr := waitContext(drain, usecases.Wait); err == nil && waitErr != nil {
		err = fmt.Errorf("background work still running when GATEHOUSE_SHUTDOWN_GRACE (%s) ran out: %w", c.ShutdownGrace, waitErr)
	}
	if mailErr := closeMailer(drain); err == nil {
		err = mailErr
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// waitContext runs wait and returns when it does, or with ctx's error when
// ctx ends first; wait then goes on in the background.
func waitContext(ctx context.Context, wait func()) error {
	done := make(chan struct{})
	go func() { defer close(done); wait() }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
