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
func (s *Service) Logout(ctx context.Context, refreshToken string) error {
	if !wellFormedToken(refreshToken) {
		return nil
	}
	hash := domain.HashToken(refreshToken)
	session, err := s.Stores.Sessions.ByTokenHash(ctx, hash)
	if errors.Is(err, domain.ErrNotFound) {
		session, err = s.Stores.Sessions.ByRotatedHash(ctx, hash)
	}
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	if err == nil {
		err = s.Stores.Sessions.Revoke(ctx, session.ID, s.Clock.Now())
	}
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return fmt.Errorf("app: logout: %w", err)
	}
	return nil
}
