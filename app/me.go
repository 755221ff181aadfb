package app

import (
	"context"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Authenticate verifies an access token and returns its claims. It returns
// domain.ErrAccessTokenExpired or domain.ErrInvalidAccessToken. Access
// tokens are not checked against sessions: one stays valid until it expires
// even after logout, which is why their lifetime is short.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (domain.Claims, error) {
	return s.AccessTokens.Verify(ctx, accessToken, s.Clock.Now())
}

// Me returns the user the claims name. A user deleted since the token was
// issued gives domain.ErrInvalidAccessToken: the token names no one.
func (s *Service) Me(ctx context.Context, c domain.Claims) (domain.User, error) {
	return s.user(ctx, c)
}
