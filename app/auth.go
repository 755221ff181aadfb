package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Auth is authentication: every way to sign in (register, anonymous,
// login), refreshing and ending sessions, and verifying access tokens.
type Auth struct {
	users        domain.UserStore
	sessions     domain.SessionStore
	tx           domain.Transactor
	hasher       normalizingHasher
	accessTokens domain.AccessTokens
	clock        domain.Clock
	log          *slog.Logger
	limits       *limiter
	mails        *tokenMails
	kernel       *kernel
	tokens       domain.TokenStore // the MFA challenges, read outside a unit of work
	factors      *totpFactors
	passkeys     *passkeys
	stores       domain.Stores // passkeys read outside a unit of work
	devices      *devices
	// dummyHash is verified when a login names no account, so that an
	// unknown email costs as much time as a wrong password.
	dummyHash string
	// settleTimeout bounds a refresh's settle (Config.RefreshSettleTimeout).
	settleTimeout time.Duration
}

// Authenticate verifies an access token and returns its claims. It returns
// domain.ErrAccessTokenExpired or domain.ErrInvalidAccessToken. Access
// tokens are not checked against sessions: one stays valid until it expires
// even after logout, which is why their lifetime is short.
func (a *Auth) Authenticate(ctx context.Context, accessToken string) (domain.Claims, error) {
	return a.accessTokens.Verify(ctx, accessToken, a.clock.Now())
}
