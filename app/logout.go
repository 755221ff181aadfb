package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Logout revokes the session refreshToken belongs to, whether the token is
// its current one or one it rotated away. An unknown token is not an error:
// logging out twice, or after the session expired, succeeds.
func (a *Auth) Logout(ctx context.Context, refreshToken string) error {
	if !domain.WellFormedOpaqueToken(refreshToken) {
		return nil
	}
	hash := domain.HashToken(refreshToken)
	session, err := a.sessions.ByTokenHash(ctx, hash)
	if errors.Is(err, domain.ErrNotFound) {
		session, err = a.sessions.ByRotatedHash(ctx, hash)
	}
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	if err == nil {
		err = a.sessions.Revoke(ctx, session.ID, a.clock.Now())
	}
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return fmt.Errorf("app: logout: %w", err)
	}
	return nil
}
