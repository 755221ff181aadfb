package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Admin is what an operator does to any user. Authorising the operator is
// the edge's job.
type Admin struct {
	users domain.UserStore
	tx    domain.Transactor
	clock domain.Clock
	log   *slog.Logger
}

// User returns the user with id, or domain.ErrNotFound.
func (a *Admin) User(ctx context.Context, id domain.UserID) (domain.User, error) {
	user, err := a.users.ByID(ctx, id)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return domain.User{}, fmt.Errorf("app: admin get user: %w", err)
	}
	return user, err
}

// errTierCrossesRegistration is returned inside SetTier's unit of work
// when the requested tier would break the rule that a user is anonymous
// exactly when it has no email.
var errTierCrossesRegistration = errors.New("tier crosses registration")

// SetTier sets the tier of the user with id and logs the change. Access
// tokens carry the new tier from the user's next refresh on. A user is
// anonymous exactly when it has no email: registering is the only way in or
// out of that tier. It returns a *domain.ValidationError (field "tier",
// code "invalid_tier") for a string that names no tier or a change across
// that line, and domain.ErrNotFound for an unknown user.
func (a *Admin) SetTier(ctx context.Context, id domain.UserID, tier string) (domain.User, error) {
	t, err := domain.ParseTier(tier)
	if err != nil {
		return domain.User{}, tierProblem("The tier must be one of anonymous, free or member.")
	}
	var before, after domain.User
	err = a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		var err error
		if before, err = tx.Users.ByID(ctx, id); err != nil {
			return err
		}
		if (t == domain.TierAnonymous) != (before.Email == "") {
			return errTierCrossesRegistration
		}
		user := before
		user.Tier, user.UpdatedAt = t, a.clock.Now()
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
	a.log.InfoContext(ctx, "admin changed tier", "user_id", id, "from", before.Tier.String(), "to", after.Tier.String())
	return after, nil
}

// tierProblem is the validation error of a tier the admin API cannot set.
func tierProblem(message string) error {
	problems := &domain.ValidationError{}
	problems.Add("tier", "invalid_tier", message)
	return problems
}

// RemoveFactors removes every second factor of the user with id, their
// passkeys included, with the user's recovery codes, and logs it: the way back in for a user who
// lost both the authenticator and the codes. The user's sessions stay. It
// returns domain.ErrNotFound for an unknown user.
func (a *Admin) RemoveFactors(ctx context.Context, id domain.UserID) error {
	var removed int
	err := a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		if _, err := tx.Users.ByID(ctx, id); err != nil {
			return err
		}
		var err error
		if removed, err = tx.Factors.DeleteByUser(ctx, id); err != nil {
			return err
		}
		passkeys, err := tx.Passkeys.DeleteByUser(ctx, id)
		if err != nil {
			return err
		}
		removed += passkeys
		_, err = tx.Tokens.DeleteByUser(ctx, id, domain.TokenRecoveryCode)
		return err
	})
	if errors.Is(err, domain.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("app: admin remove factors: %w", err)
	}
	a.log.WarnContext(ctx, "admin removed second factors", "user_id", id, "factors", removed)
	return nil
}
