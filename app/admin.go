package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// AdminUser returns the user with id, or domain.ErrNotFound. Only the admin
// API calls it; authorising the caller is the edge's job.
func (s *Service) AdminUser(ctx context.Context, id domain.UserID) (domain.User, error) {
	user, err := s.Stores.Users.ByID(ctx, id)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return domain.User{}, fmt.Errorf("app: admin get user: %w", err)
	}
	return user, err
}

// AdminSetTier sets the tier of the user with id and logs the change. Access
// tokens carry the new tier from the user's next refresh on. It returns a
// *domain.ValidationError (field "tier", code "invalid_tier") for a string
// that names no tier, and domain.ErrNotFound for an unknown user.
func (s *Service) AdminSetTier(ctx context.Context, id domain.UserID, tier string) (domain.User, error) {
	t, err := domain.ParseTier(tier)
	if err != nil {
		problems := &domain.ValidationError{}
		problems.Add("tier", "invalid_tier", "The tier must be one of anonymous, free or member.")
		return domain.User{}, problems
	}
	var before, after domain.User
	err = s.Transactor.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		var err error
		if before, err = tx.Users.ByID(ctx, id); err != nil {
			return err
		}
		user := before
		user.Tier, user.UpdatedAt = t, s.Clock.Now()
		after, err = tx.Users.Update(ctx, user)
		return err
	})
	if errors.Is(err, domain.ErrNotFound) {
		return domain.User{}, domain.ErrNotFound
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("app: admin set tier: %w", err)
	}
	s.Logger.InfoContext(ctx, "admin changed tier", "user_id", id, "from", before.Tier.String(), "to", after.Tier.String())
	return after, nil
}
