package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// DeleteAccount deletes the caller's user with its tokens and sessions; the
// email may register again as a new user. A registered user must give their
// password (domain.ErrInvalidCredentials otherwise, and a
// *domain.RateLimitedError after too many wrong ones); an anonymous user has
// none, and their bearer token suffices.
func (s *Service) DeleteAccount(ctx context.Context, c domain.Claims, password string) error {
	user, err := s.user(ctx, c)
	if err != nil {
		return err
	}
	if user.Email != "" {
		if err := s.checkPassword(ctx, user, password); err != nil {
			return err
		}
	}
	err = s.Stores.Users.Delete(ctx, user.ID)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.ErrInvalidAccessToken // deleted by a concurrent request
	}
	if err != nil {
		return fmt.Errorf("app: delete account: %w", err)
	}
	s.Logger.InfoContext(ctx, "account deleted", "user_id", user.ID)
	return nil
}

// SessionInfo is one of a user's active sessions; Current marks the one the
// caller's access token belongs to.
type SessionInfo struct {
	domain.Session
	Current bool
}

// Sessions lists the caller's active sessions, most recently used first. A
// user deleted since the token was issued gives domain.ErrInvalidAccessToken,
// as Me does.
func (s *Service) Sessions(ctx context.Context, c domain.Claims) ([]SessionInfo, error) {
	if _, err := s.user(ctx, c); err != nil {
		return nil, err
	}
	sessions, err := s.Stores.Sessions.ListActive(ctx, c.Subject, s.Clock.Now())
	if err != nil {
		return nil, fmt.Errorf("app: list sessions: %w", err)
	}
	infos := make([]SessionInfo, len(sessions))
	for i, session := range sessions {
		infos[i] = SessionInfo{Session: session, Current: session.ID == c.SessionID}
	}
	return infos, nil
}

// RevokeSession revokes one of the caller's sessions, the current one
// included. It returns domain.ErrNotFound for an id that is not the
// caller's, so no one learns whether another user's session exists.
func (s *Service) RevokeSession(ctx context.Context, c domain.Claims, id domain.SessionID) error {
	session, err := s.Stores.Sessions.ByID(ctx, id)
	if err == nil && session.UserID != c.Subject {
		err = domain.ErrNotFound
	}
	if err == nil {
		err = s.Stores.Sessions.Revoke(ctx, id, s.Clock.Now())
	}
	if errors.Is(err, domain.ErrNotFound) {
		return domain.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("app: revoke session: %w", err)
	}
	return nil
}
