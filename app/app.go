// Package app holds Gatehouse's use cases, grouped by capability: Auth
// (every way to sign in, refresh and sign out), Account (what a signed-in
// user does with their own account), Admin (what an operator does to any
// user) and Maintenance (the jobs a replica runs). It depends on domain
// alone; each flow decides where its unit of work starts and ends, and
// talks to the outside world only through the domain's ports. Every
// sign-in ends in one session kernel (signin.go), and every flow has a
// file of its own.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Config holds what the flows need to know about the deployment.
type Config struct {
	AccessTokenTTL  time.Duration // how long an access token verifies
	RefreshTokenTTL time.Duration // how long a session lives after its last refresh
	RateLimitsOff   bool          // disables every rate limit (benchmarks, load tests)
	// RefreshReuseGrace is how long after a rotation the token it spent
	// still gets the same successor, for a client that lost the answer
	// (GATEHOUSE_REFRESH_REUSE_GRACE); 0 makes every second use reuse.
	RefreshReuseGrace time.Duration
	// SessionMaxAge, unless zero, is a session's absolute lifetime
	// (GATEHOUSE_SESSION_MAX_AGE): refreshes never extend a session past
	// it, however active.
	SessionMaxAge time.Duration
	// MFAChallengeTTL is how long the challenge of a sign-in held back
	// for its second factor lives (GATEHOUSE_MFA_CHALLENGE_TTL); zero
	// means domain.TokenMFAChallenge.TTL(), five minutes.
	MFAChallengeTTL time.Duration
	// RefreshSettleTimeout bounds how long a refresh whose rotation's
	// outcome was lost (domain.ErrOutcomeUnknown) spends settling it, past
	// the request's own deadline; zero means DefaultSettleTimeout. It
	// should exceed the database's server-side statement timeout, so that
	// a settling statement ends with the database's answer rather than
	// with its outcome unknown again.
	RefreshSettleTimeout time.Duration
}

// Ports are the ports the use cases run on. New hands each capability only
// the ones it uses; nothing outside app reaches them through an App.
type Ports struct {
	Stores     domain.Stores
	Transactor domain.Transactor
	Standalone domain.Standalone
	Hasher     domain.PasswordHasher
	// Normalizer puts passwords into the normal form that the policy
	// judges and Hasher hashes.
	Normalizer   domain.PasswordNormalizer
	AccessTokens domain.AccessTokens
	Mailer       domain.Mailer
	// TOTP makes and checks authenticator apps' codes, and Secrets seals
	// their keys for storage.
	TOTP    domain.TOTP
	Secrets domain.SecretBox
	// Devices seals device tokens (see Tokens.Device), under a key of
	// their own; nil issues none and lets none past the account-wide
	// login limit.
	Devices domain.SecretBox
	// Passkeys runs passkeys' ceremonies; nil when they are off.
	Passkeys domain.Passkeys
	Clock    domain.Clock
	// Logger receives what the use cases log; nil discards it, as it does
	// for the adapters.
	Logger *slog.Logger
}

// App is every use case, by capability. Its parts are safe for concurrent
// use.
type App struct {
	Auth        *Auth
	Account     *Account
	Admin       *Admin
	Maintenance *Maintenance
	background  *background
}

// New builds the use cases on p. It hashes one dummy password, which takes
// as long as a real hash (see Auth.Login).
func New(ctx context.Context, p Ports, cfg Config) (*App, error) {
	if cfg.AccessTokenTTL <= 0 || cfg.RefreshTokenTTL <= 0 {
		return nil, fmt.Errorf("app: token lifetimes must be positive")
	}
	if cfg.RefreshReuseGrace < 0 || cfg.SessionMaxAge < 0 || cfg.MFAChallengeTTL < 0 {
		return nil, fmt.Errorf("app: the refresh reuse grace, the session max age and the MFA challenge lifetime must not be negative")
	}
	if p.Hasher == nil || p.Normalizer == nil {
		return nil, fmt.Errorf("app: a password hasher and normalizer are required")
	}
	if cfg.RefreshSettleTimeout < 0 {
		return nil, fmt.Errorf("app: the refresh settle timeout must not be negative")
	}
	if cfg.RefreshSettleTimeout == 0 {
		cfg.RefreshSettleTimeout = DefaultSettleTimeout
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	hasher := normalizingHasher{next: p.Hasher, normalizer: p.Normalizer}
	dummy, _ := domain.NewOpaqueToken()
	dummyHash, err := hasher.Hash(ctx, dummy)
	if err != nil {
		return nil, fmt.Errorf("app: hash dummy password: %w", err)
	}
	limits := &limiter{store: p.Standalone.RateLimits, off: cfg.RateLimitsOff, log: p.Logger}
	passwords := &passwords{hasher: hasher, limits: limits, clock: p.Clock}
	mails := &tokenMails{mailer: p.Mailer, log: p.Logger}
	background := &background{log: p.Logger}
	devices := &devices{box: p.Devices}
	kernel := &kernel{
		accessTokens: p.AccessTokens, accessTTL: cfg.AccessTokenTTL, refreshTTL: cfg.RefreshTokenTTL,
		maxAge: cfg.SessionMaxAge, retryGrace: cfg.RefreshReuseGrace, challengeTTL: cfg.MFAChallengeTTL, devices: devices,
	}
	if kernel.challengeTTL == 0 {
		kernel.challengeTTL = domain.TokenMFAChallenge.TTL()
	}
	users := &users{store: p.Stores.Users}
	factors := &totpFactors{totp: p.TOTP, secrets: p.Secrets}
	passkeys := &passkeys{rp: p.Passkeys, tokens: p.Stores.Tokens}
	return &App{
		Auth: &Auth{
			users: p.Stores.Users, sessions: p.Stores.Sessions, tx: p.Transactor, hasher: hasher, accessTokens: p.AccessTokens,
			clock: p.Clock, log: p.Logger, limits: limits, mails: mails, kernel: kernel, dummyHash: dummyHash,
			tokens: p.Stores.Tokens, factors: factors, passkeys: passkeys, stores: p.Stores,
			devices: devices, settleTimeout: cfg.RefreshSettleTimeout,
		},
		Account: &Account{
			stores: p.Stores, tx: p.Transactor, clock: p.Clock, log: p.Logger,
			users: users, limits: limits, passwords: passwords, mails: mails, background: background, factors: factors,
			passkeys: passkeys,
		},
		Admin:       &Admin{users: p.Stores.Users, tx: p.Transactor, clock: p.Clock, log: p.Logger},
		Maintenance: newMaintenance(p),
		background:  background,
	}, nil
}

// Wait blocks until the work requests left running in the background (such
// as the lookup behind a forgotten-password request) has finished. A server
// calls it on shutdown; tests call it to observe that work.
func (a *App) Wait() { a.background.wg.Wait() }
