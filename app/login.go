package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Login checks the email and password and starts a new session. It returns
// domain.ErrInvalidCredentials alike for an unknown email and a wrong
// password, after the same amount of hashing work, so neither the answer nor
// its timing tells whether an account exists. A password stored in an older
// scheme is rehashed on success.
//
// Attempts are rate limited per account and client and per account (see
// limitLoginClient), counted before the password is checked and reset by a
// success; an unknown email is counted alike. Over the limit it returns a
// *domain.RateLimitedError without checking the password.
func (s *Service) Login(ctx context.Context, email, password string, c Client) (Tokens, error) {
	email = domain.NormalizeEmail(email)
	limits := []check{limitLoginClient.on(email + "|" + c.IP), limitLoginAccount.on(email)}
	if err := s.hit(ctx, s.Clock.Now(), limits...); err != nil {
		return Tokens{}, err
	}
	user, err := s.Stores.Users.ByEmail(ctx, email)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		if _, _, err := s.Hasher.Verify(ctx, s.dummyHash, password); err != nil {
			return Tokens{}, fmt.Errorf("app: login: %w", err)
		}
		return Tokens{}, domain.ErrInvalidCredentials
	case err != nil:
		return Tokens{}, fmt.Errorf("app: login: %w", err)
	}
	match, rehash, err := s.Hasher.Verify(ctx, user.PasswordHash, password)
	if err != nil {
		return Tokens{}, fmt.Errorf("app: login: %w", err)
	}
	if !match {
		return Tokens{}, domain.ErrInvalidCredentials
	}
	s.reset(ctx, limits...)
	if rehash {
		s.upgradeHash(ctx, user, password)
	}

	now := s.Clock.Now()
	session, refresh := s.newSession(user.ID, c, now)
	if session, err = s.Stores.Sessions.Create(ctx, session); err != nil {
		return Tokens{}, fmt.Errorf("app: login: %w", err)
	}
	return s.issue(ctx, user, session.ID, refresh, now)
}

// upgradeHash replaces user's password hash with one in the current scheme.
// A failure only postpones the upgrade to the next login, so it is logged
// and the login goes on.
func (s *Service) upgradeHash(ctx context.Context, user domain.User, password string) {
	hash, err := s.Hasher.Hash(ctx, password)
	if err == nil {
		user.PasswordHash, user.UpdatedAt = hash, s.Clock.Now()
		_, err = s.Stores.Users.Update(ctx, user)
	}
	if err != nil {
		s.Logger.WarnContext(ctx, "password hash upgrade failed", "user_id", user.ID, "error", err)
	}
}
