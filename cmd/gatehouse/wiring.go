package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-auth/gatehouse/adapters/accesstoken"
	"github.com/gatehouse-auth/gatehouse/adapters/entstore"
	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
	"github.com/gatehouse-auth/gatehouse/adapters/mail"
	"github.com/gatehouse-auth/gatehouse/adapters/secretbox"
	"github.com/gatehouse-auth/gatehouse/adapters/totp"
	"github.com/gatehouse-auth/gatehouse/adapters/webauthn"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// audience is the aud claim of every access token Gatehouse issues;
// services that accept them check for it.
const audience = "gatehouse"

// newLogger returns the JSON logger every command writes to w.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// statementTimeout is the server-side statement and lock timeout of the
// database connections of a server whose requests run under
// requestTimeout (see entstore.URL.WithStatementTimeout): a quarter of it
// less, but no more than a second less, so that Postgres ends a stalled
// statement with a rollback it reports, and the report arrives, before
// the request's deadline would cut the statement off with its outcome
// unknown.
func statementTimeout(requestTimeout time.Duration) time.Duration {
	return requestTimeout - min(requestTimeout/4, time.Second)
}

// settleTimeout is how long a refresh whose rotation's outcome was lost
// spends settling it (app.Config.RefreshSettleTimeout): a second more than
// the statement timeout, so that a settling statement that waits ends with
// Postgres's answer, never cut off with its outcome unknown again.
func settleTimeout(requestTimeout time.Duration) time.Duration {
	return statementTimeout(requestTimeout) + time.Second
}

// openMigrated opens the configured database and applies pending
// migrations, which is safe to do from several processes at once.
func openMigrated(ctx context.Context, c config, log *slog.Logger) (*entstore.DB, error) {
	db, err := entstore.OpenURL(ctx, c.Database)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	log.DebugContext(ctx, "database migrated", "dialect", db.Dialect())
	return db, nil
}

// newIssuer returns the access-token issuer over the database's signing
// keys, whose private halves it seals under secret (serviceSecret),
// creating the first key on a new database.
func newIssuer(ctx context.Context, c config, secret string, db *entstore.DB, clock domain.Clock, log *slog.Logger) (*accesstoken.Issuer, error) {
	issuer, err := accesstoken.New(ctx, accesstoken.Config{
		Issuer:   c.HTTP.PublicURL,
		Audience: audience,
		TTL:      c.AccessTokenTTL,
		Secret:   []byte(secret),
		Keys:     db.Standalone().Keys,
		Clock:    clock,
		Logger:   log,
	})
	if errors.Is(err, accesstoken.ErrWrongSecret) {
		return nil, fmt.Errorf("GATEHOUSE_SECRET: %w", err)
	}
	return issuer, err
}

// newTOTP returns the TOTP codes of GATEHOUSE_TOTP_ISSUER and the box
// their keys are sealed in, under secret (serviceSecret).
func newTOTP(c config, secret string) (domain.TOTP, domain.SecretBox, error) {
	box, err := secretbox.New([]byte(secret), "totp")
	if err != nil {
		return nil, nil, fmt.Errorf("GATEHOUSE_SECRET: %w", err)
	}
	return totp.New(c.TOTPIssuer), box, nil
}

// newDevices returns the box that seals device tokens (see
// app.Ports.Devices), under a key of their own derived from secret.
func newDevices(secret string) (domain.SecretBox, error) {
	box, err := secretbox.New([]byte(secret), "device")
	if err != nil {
		return nil, fmt.Errorf("GATEHOUSE_SECRET: %w", err)
	}
	return box, nil
}

// newPasskeys returns the relying party of GATEHOUSE_WEBAUTHN_*, or nil
// when passkeys are off (no RP ID).
func newPasskeys(c config, log *slog.Logger) (domain.Passkeys, error) {
	if !c.WebAuthn.Enabled() {
		return nil, nil
	}
	rp, err := webauthn.New(c.WebAuthn)
	if err != nil {
		return nil, fmt.Errorf("GATEHOUSE_WEBAUTHN_RP_ID: %w", err)
	}
	log.Info("passkeys enabled", "rp_id", c.WebAuthn.RPID, "origins", c.WebAuthn.Origins)
	return rp, nil
}

// serviceSecret returns GATEHOUSE_SECRET or, on the embedded SQLite default
// without one, a secret kept in a file beside the database, so that `make
// run` needs no configuration. The file is created once with mode 0600;
// anyone who can read the database can read it too, which is why a real
// deployment sets GATEHOUSE_SECRET (Postgres requires it).
func serviceSecret(c config, log *slog.Logger) (string, error) {
	if c.Secret != "" {
		return c.Secret, nil
	}
	path := c.Database.SQLitePath() + ".secret"
	secret, _ := domain.NewOpaqueToken()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		_, err = f.WriteString(secret + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", fmt.Errorf("GATEHOUSE_SECRET: write local secret: %w", err)
		}
		log.Warn("GATEHOUSE_SECRET is not set: generated a local secret beside the database; set GATEHOUSE_SECRET for any real deployment", "path", path)
		return secret, nil
	case errors.Is(err, fs.ErrExist):
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("GATEHOUSE_SECRET: read local secret: %w", err)
		}
		secret = strings.TrimSpace(string(b))
		if len(secret) < accesstoken.MinSecretLength {
			return "", fmt.Errorf("GATEHOUSE_SECRET: local secret %s is too short; remove it only together with the database", path)
		}
		log.Warn("GATEHOUSE_SECRET is not set: using the local secret beside the database; set GATEHOUSE_SECRET for any real deployment", "path", path)
		return secret, nil
	default:
		return "", fmt.Errorf("GATEHOUSE_SECRET: create local secret: %w", err)
	}
}

// newMailer returns the mailer for account emails and a function that
// drains it on shutdown: SMTP behind a retrying queue when GATEHOUSE_SMTP_URL
// is set, whose metrics it registers on reg, else the log, which
// development setups read links from. The links lead to the pages of
// httpapi, which owns their routes, under GATEHOUSE_PUBLIC_URL.
func newMailer(c config, clock domain.Clock, log *slog.Logger, reg prometheus.Registerer) (domain.Mailer, func(context.Context) error, error) {
	links := httpapi.EmailLinks(c.HTTP.PublicURL)
	if c.Mail.SMTP == nil {
		log.Warn("GATEHOUSE_SMTP_URL is not set: account emails, with their links, are written to this log")
		return mail.NewLogMailer(log, links), func(context.Context) error { return nil }, nil
	}
	sender, err := mail.NewSMTPSender(*c.Mail.SMTP, c.Mail.From, links, mail.WithClock(clock))
	if err != nil {
		return nil, nil, fmt.Errorf("GATEHOUSE_SMTP_URL: %w", err)
	}
	log.Info("sending account emails over SMTP", "smtp", *c.Mail.SMTP)
	queue := mail.NewQueue(sender, mail.QueueConfig{Logger: log})
	meterMailQueue(reg, queue)
	return queue, queue.Close, nil
}
