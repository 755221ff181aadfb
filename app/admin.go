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

// errTierCrossesRegistration is returned inside AdminSetTier's unit of work
// when the requested tier would break the rule that a user is anonymous
// exactly when it has no email.
var errTierCrossesRegistration = errors.New("tier crosses registration")

// AdminSetTier sets the tier of the user with id and logs the change. Access
// tokens carry the new tier from the user's next refresh on. A user is
// anonymous exactly when it has no email: registering is the only way in or
// out of that tier. It returns a *domain.ValidationError (field "tier",
// code "invalid_tier") for a string that names no tier or a change across
// that line, and domain.ErrNotFound for an unknown user.
func (s *Service) AdminSetTier(ctx context.Context, id domain.UserID, tier string) (domain.User, error) {
	t, err := domain.ParseTier(tier)
	if err != nil {
		return domain.User{}, tierProblem("The tier must be one of anonymous, free or member.")
	}
	var before, after domain.User
	err = s.Transactor.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		var err error
		if before, err = tx.Users.ByID(ctx, id); err != nil {
			return err
		}
		if (t == domain.TierAnonymous) != (before.Email == "") {
			return errTierCrossesRegistration
		}
		user := before
		user.Tier, user.UpdatedAt = t, s.Clock.Now()
		after, err = tx.Users.Update(ctx, user)
		return err
	})
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return domain.User{}, domain.ErrNotFound
	case errors.Is(err, errTierCrossesRegistration):
		return domain.User{}, tierProblem("A user is anonymous exactly while it has no email address; registering is the only way in or out of that tier.")
	case err != nil:
		return domain.User{}, fmt.Errorf("app: admin set tier: %w", err)
	}
	s.Logger.InfoContext(ctx, "admin changed tier", "user_id", id, "from", before.Tier.String(), "to", after.Tier.String())
	return after, nil
}

// tierProblem is the validation error of a tier the admin API cannot set.
func tierProblem(message string) error {
	problems := &domain.ValidationError{}
	problems.Add("tier", "invalid_tier", message)
	return problems
}
