// Package app holds Gatehouse's use cases: register, log in, refresh, log
// out and the rest. It depends on domain alone; each flow decides where its
// unit of work starts and ends, and talks to the outside world only through
// the domain's ports. One file per flow.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// ErrAlreadyRegistered means a registration came with the access token of a
// user who is not anonymous, so there is nothing to upgrade.
var ErrAlreadyRegistered = errors.New("app: user is already registered")

// ErrNoEmail means the user has no email address: an anonymous user has
// nothing to verify.
var ErrNoEmail = errors.New("app: user has no email address")

// Config holds what the flows need to know about the deployment.
type Config struct {
	AccessTokenTTL  time.Duration // how long an access token verifies
	RefreshTokenTTL time.Duration // how long a session lives after its last refresh
	PublicURL       string        // base of the links in emails, without a trailing slash
	RateLimitsOff   bool          // disables every rate limit (benchmarks, load tests)
	PruneBatch      int           // rows Prune deletes per statement; 0 means DefaultPruneBatch
	PruneMaxBatches int           // batches of each kind in one Prune run; 0 means DefaultPruneMaxBatches
}

// Deps are the ports the flows run on.
type Deps struct {
	Stores       domain.Stores
	Transactor   domain.Transactor
	Hasher       domain.PasswordHasher
	AccessTokens domain.AccessTokens
	Mailer       domain.Mailer
	RateLimits   domain.RateLimitStore
	Locker       domain.Locker // lets one replica at a time prune; only Prune needs it
	Clock        domain.Clock
	Logger       *slog.Logger
}

// Service runs the use cases. It is safe for concurrent use.
type Service struct {
	Deps
	cfg Config
	// dummyHash is verified when a login names no account, so that an
	// unknown email costs as much time as a wrong password.
	dummyHash string
	// background tracks work that outlives the request that started it.
	background sync.WaitGroup
}

// New returns a Service. It hashes one dummy password, which takes as long
// as a real hash.
func New(ctx context.Context, deps Deps, cfg Config) (*Service, error) {
	if cfg.AccessTokenTTL <= 0 || cfg.RefreshTokenTTL <= 0 {
		return nil, fmt.Errorf("app: token lifetimes must be positive")
	}
	if cfg.PruneBatch < 0 || cfg.PruneMaxBatches < 0 {
		return nil, fmt.Errorf("app: prune batch sizes must not be negative")
	}
	secret, _ := domain.NewOpaqueToken()
	dummy, err := deps.Hasher.Hash(ctx, secret)
	if err != nil {
		return nil, fmt.Errorf("app: hash dummy password: %w", err)
	}
	return &Service{Deps: deps, cfg: cfg, dummyHash: dummy}, nil
}

// Wait blocks until the work requests left running in the background (such
// as the lookup behind a forgotten-password request) has finished. A server
// calls it on shutdown; tests call it to observe that work.
func (s *Service) Wait() { s.background.Wait() }

// backgroundTimeout bounds work that runs after its request has answered.
const backgroundTimeout = 30 * time.Second

// goBackground runs fn after the request that calls it has been answered,
// with the request's values but not its cancellation.
func (s *Service) goBackground(ctx context.Context, name string, fn func(ctx context.Context) error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), backgroundTimeout)
	s.background.Go(func() {
		defer cancel()
		if err := fn(ctx); err != nil {
			s.Logger.ErrorContext(ctx, name+" failed", "error", err)
		}
	})
}

// Client describes where a request comes from; sessions remember it so a
// user can tell their sessions apart.
type Client struct {
	IP        string
	UserAgent string
}

// Tokens are what a successful register, login or refresh hands a client.
type Tokens struct {
	AccessToken  string
	ExpiresIn    time.Duration // the access token's lifetime
	RefreshToken string
	User         domain.User
}

// maxUserAgent is the longest user agent a session keeps; the column holds
// 512 characters.
const maxUserAgent = 512

// newSession builds the session a fresh login starts, with the hash of a new
// refresh token, and returns the token's secret alongside.
func (s *Service) newSession(user domain.UserID, c Client, now time.Time) (domain.Session, string) {
	secret, hash := domain.NewOpaqueToken()
	return domain.Session{
		UserID:     user,
		TokenHash:  hash,
		UserAgent:  truncateRunes(c.UserAgent, maxUserAgent),
		IP:         c.IP,
		CreatedAt:  now,
		LastUsedAt: now,
		ExpiresAt:  now.Add(s.cfg.RefreshTokenTTL),
	}, secret
}

// issue signs an access token for user in session and bundles it with the
// refresh token's secret.
func (s *Service) issue(ctx context.Context, user domain.User, session domain.SessionID, refresh string, now time.Time) (Tokens, error) {
	jti, _ := domain.NewOpaqueToken()
	access, err := s.AccessTokens.Issue(ctx, domain.Claims{
		ID:            jti,
		Subject:       user.ID,
		SessionID:     session,
		Tier:          user.Tier,
		EmailVerified: user.EmailVerified,
		IssuedAt:      now,
		ExpiresAt:     now.Add(s.cfg.AccessTokenTTL),
	})
	if err != nil {
		return Tokens{}, fmt.Errorf("app: issue access token: %w", err)
	}
	return Tokens{AccessToken: access, ExpiresIn: s.cfg.AccessTokenTTL, RefreshToken: refresh, User: user}, nil
}

// truncateRunes cuts s to at most n runes without splitting one.
func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
