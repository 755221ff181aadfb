package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// SessionInfo is one of a user's active sessions; Current marks the one the
// caller's access token belongs to.
type SessionInfo struct {
	domain.Session
	Current bool
}

// Sessions lists the caller's active sessions, most recently used first. A
// user deleted since the token was issued gives domain.ErrInvalidAccessToken,
// as Me does.
func (a *Account) Sessions(ctx context.Context, c domain.Claims) ([]SessionInfo, error) {
	if _, err := a.users.named(ctx, c); err != nil {
		return nil, err
	}
	sessions, err := a.stores.Sessions.ListActive(ctx, c.Subject, a.clock.Now())
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
func (a *Account) RevokeSession(ctx context.Context, c domain.Claims, id domain.SessionID) error {
	session, err := a.stores.Sessions.ByID(ctx, id)
	if err == nil && session.UserID != c.Subject {
		err = domain.ErrNotFound
	}
	if err == nil {
		err = a.stores.Sessions.Revoke(ctx, id, a.clock.Now())
	}
	if errors.Is(err, domain.ErrNotFound) {
		return domain.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("app: revoke session: %w", err)
	}
	return nil
}

// RevokeOtherSessions revokes every session of the caller but the one the
// claims belong to: signing out everywhere else. A user deleted since the
// token was issued gives domain.ErrInvalidAccessToken, as Me does.
func (a *Account) RevokeOtherSessions(ctx context.Context, c domain.Claims) error {
	return a.revokeAll(ctx, c, c.SessionID)
}

// RevokeAllSessions revokes every session of the caller, the current one
// included: signing out everywhere. Access tokens already issued stay
// valid until they expire.
func (a *Account) RevokeAllSessions(ctx context.Context, c domain.Claims) error {
	return a.revokeAll(ctx, c, "")
}

// revokeAll revokes the sessions of the claims' user but except (none when
// empty) and logs how many it revoked.
func (a *Account) revokeAll(ctx context.Context, c domain.Claims, except domain.SessionID) error {
	user, err := a.users.named(ctx, c)
	if err != nil {
		return err
	}
	n, err := a.stores.Sessions.RevokeAllForUser(ctx, user.ID, except, a.clock.Now())
	if err != nil {
		return fmt.Errorf("app: revoke sessions: %w", err)
	}
	a.log.InfoContext(ctx, "sessions revoked", "user_id", user.ID, "count", n, "kept_current", except != "")
	return nil
}
