package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Refresh rotates the session whose current refresh token is refreshToken:
// the token is spent, and the client gets a new one with a fresh access
// token carrying the user's current tier. Presenting a token that was
// already rotated away revokes its whole session and returns
// domain.ErrRefreshTokenReused; an unknown, expired or revoked one returns
// domain.ErrInvalidRefreshToken.
func (a *Auth) Refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	if !domain.WellFormedOpaqueToken(refreshToken) {
		return Tokens{}, domain.ErrInvalidRefreshToken
	}
	presented := domain.HashToken(refreshToken)
	next, nextHash := domain.NewOpaqueToken()
	now := a.clock.Now()

	// A rotation is atomic by itself (SessionStore.Rotate), and it is all
	// a refresh needs from the database, so it runs outside a unit of work.
	session, user, err := a.sessions.Rotate(ctx, domain.Rotation{
		PresentedHash: presented, NextHash: nextHash, Now: now, ExpiresAt: now.Add(a.kernel.refreshTTL),
	})
	if errors.Is(err, domain.ErrNotFound) {
		return Tokens{}, a.refuseRefresh(ctx, presented, now)
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("app: refresh: %w", err)
	}
	return a.kernel.issue(ctx, grant{user: user, session: session, refresh: next}, now)
}

// refuseRefresh returns why the refresh token with hash presented could
// not rotate: domain.ErrRefreshTokenReused, after revoking its session,
// when that session once rotated it away, else
// domain.ErrInvalidRefreshToken (unknown, expired or revoked).
func (a *Auth) refuseRefresh(ctx context.Context, presented string, now time.Time) error {
	var revoked domain.SessionID
	err := a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		var err error
		revoked, err = revokeReused(ctx, tx, presented, now)
		return err
	})
	switch {
	case err != nil:
		return fmt.Errorf("app: refresh: %w", err)
	case revoked == "":
		return domain.ErrInvalidRefreshToken
	}
	a.log.WarnContext(ctx, "refresh token reused; session revoked", "session_id", revoked)
	return domain.ErrRefreshTokenReused
}

// revokeReused revokes the session that once rotated away the token with
// hash and returns its ID, or "" when no session ever had that token.
func revokeReused(ctx context.Context, tx domain.Stores, hash string, now time.Time) (domain.SessionID, error) {
	family, err := tx.Sessions.ByRotatedHash(ctx, hash)
	if errors.Is(err, domain.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return family.ID, tx.Sessions.Revoke(ctx, family.ID, now)
}
