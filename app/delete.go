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
// none, and their bearer token suffices. A user with a second factor needs
// a session that presented it (ErrAAL2Required otherwise).
func (a *Account) DeleteAccount(ctx context.Context, c domain.Claims, password string) error {
	user, err := a.users.named(ctx, c)
	if err != nil {
		return err
	}
	if err := requireAAL2(ctx, a.stores, c); err != nil {
		return err
	}
	if user.Email != "" {
		if err := a.passwords.check(ctx, user, password); err != nil {
			return err
		}
	}
	err = a.stores.Users.Delete(ctx, user.ID)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.ErrInvalidAccessToken // deleted by a concurrent request
	}
	if err != nil {
		return fmt.Errorf("app: delete account: %w", err)
	}
	a.log.InfoContext(ctx, "account deleted", "user_id", user.ID)
	return nil
}
