package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
	"github.com/gatehouse-auth/gatehouse/adapters/password"
	"github.com/gatehouse-auth/gatehouse/app"
)

// shutdownGrace bounds how long in-flight requests may take to finish once
// the process is asked to stop.
const shutdownGrace = 10 * time.Second

// serve runs the HTTP service until ctx ends, then drains it.
func serve(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	c, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stdout, c.LogLevel)
	db, err := openMigrated(ctx, c, log)
	if err != nil {
		return err
	}
	defer db.Close()

	clock := systemClock{}
	issuer, err := newIssuer(ctx, c, db, clock, log)
	if err != nil {
		return err
	}
	mailer, closeMailer, err := newMailer(c, clock, log)
	if err != nil {
		return err
	}
	if c.RateLimitsOff {
		log.Warn("GATEHOUSE_RATE_LIMITS=off: every rate limit is disabled; use this only for benchmarks and load tests")
	}
	svc, err := app.New(ctx, app.Deps{
		Stores:       db.Stores(),
		Transactor:   db,
		Hasher:       password.NewHasher(password.Config{}),
		AccessTokens: issuer,
		Mailer:       mailer,
		RateLimits:   db.RateLimits(),
		Clock:        clock,
		Logger:       log,
	}, app.Config{
		AccessTokenTTL: c.AccessTokenTTL, RefreshTokenTTL: c.RefreshTokenTTL,
		PublicURL: c.PublicURL, RateLimitsOff: c.RateLimitsOff,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", c.HTTPAddr)
	if err != nil {
		return fmt.Errorf("GATEHOUSE_HTTP_ADDR: %w", err)
	}
	srv := &http.Server{
		Handler: httpapi.New(httpapi.Config{
			Service: svc, KeySet: issuer, Logger: log, TrustedProxies: c.TrustedProxies,
			PublicURL: c.PublicURL, AdminAPIKey: c.AdminAPIKey,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	log.Info("listening", "addr", ln.Addr().String(), "version", version, "database", db.Dialect())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", shutdownGrace.String())
	drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	// In-flight requests first, then the work they left running, then the
	// mail that work queued.
	err = srv.Shutdown(drain)
	svc.Wait()
	if mailErr := closeMailer(drain); err == nil {
		err = mailErr
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
