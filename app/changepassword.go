package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// ChangePassword sets a new password for the caller, who proves to know the
// current one, and revokes every other session of theirs; the calling
// session stays. It returns ErrAAL2Required when the user has a second
// factor that the session did not present, domain.ErrInvalidCredentials
// for a wrong current password (or a user without one), a
// *domain.RateLimitedError after too many wrong ones, and a
// *domain.ValidationError (field "new_password") when the policy rejects
// the new one.
func (a *Account) ChangePassword(ctx context.Context, c domain.Claims, current, next string) error {
	user, err := a.users.named(ctx, c)
	if err != nil {
		return err
	}
	if err := requireAAL2(ctx, a.stores, c); err != nil {
		return err
	}
	if err := a.passwords.check(ctx, user, current); err != nil {
		return err
	}
	next = a.passwords.hasher.normalize(next)
	if err := domain.CheckPassword(next, user.Email); err != nil {
		return renameField(err, "password", "new_password")
	}
	encoded, err := a.passwords.hasher.Hash(ctx, next)
	if err != nil {
		return fmt.Errorf("app: change password: %w", err)
	}
	now := a.clock.Now()
	err = a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		if err := setPassword(ctx, tx, user.ID, encoded, false, now); err != nil {
			return err
		}
		_, err := tx.Sessions.RevokeAllForUser(ctx, user.ID, c.SessionID, now)
		return err
	})
	if errors.Is(err, domain.ErrNotFound) {
		return domain.ErrInvalidAccessToken // the user was deleted meanwhile
	}
	if err != nil {
		return fmt.Errorf("app: change password: %w", err)
	}
	return nil
}
