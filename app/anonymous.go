package app

import (
	"context"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Anonymous creates a user of tier anonymous, with no email or password, and
// starts its session. Registering later with its access token upgrades the
// same user. Creation is rate limited per client IP.
func (a *Auth) Anonymous(ctx context.Context, c Client) (Tokens, error) {
	now := a.clock.Now()
	if err := a.limits.hit(ctx, now, limitAnonymousIP.on(c.IP)); err != nil {
		return Tokens{}, err
	}
	var g grant
	err := a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		user, err := tx.Users.Create(ctx, domain.User{Tier: domain.TierAnonymous, CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return err
		}
		g, err = a.kernel.start(ctx, tx, signIn{user: user, client: c}, now)
		return err
	})
	if err != nil {
		return Tokens{}, fmt.Errorf("app: anonymous: %w", err)
	}
	return a.kernel.issue(ctx, g, now)
}
