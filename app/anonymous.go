package app

import (
	"context"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Anonymous creates a user of tier anonymous, with no email or password, and
// starts its session. Registering later with its access token upgrades the
// same user. Creation is rate limited per client IP.
func (s *Service) Anonymous(ctx context.Context, c Client) (Tokens, error) {
	now := s.Clock.Now()
	if err := s.hit(ctx, now, limitAnonymousIP.on(c.IP)); err != nil {
		return Tokens{}, err
	}
	session, refresh := s.newSession("", c, now)
	var user domain.User
	err := s.Transactor.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		var err error
		user, err = tx.Users.Create(ctx, domain.User{Tier: domain.TierAnonymous, CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return err
		}
		session.UserID = user.ID
		session, err = tx.Sessions.Create(ctx, session)
		return err
	})
	if err != nil {
		return Tokens{}, fmt.Errorf("app: anonymous: %w", err)
	}
	return s.issue(ctx, user, session.ID, refresh, now)
}
