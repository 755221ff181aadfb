package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// ErrNoEmail means the user has no email address: an anonymous user has
// nothing to verify.
var ErrNoEmail = errors.New("app: user has no email address")

// Account is what a user does with their own account: read it, verify its
// address, change or reset its password, list and revoke its sessions,
// delete it. Each call but the token-link ones acts for the user the
// verified access-token claims name.
type Account struct {
	stores     domain.Stores
	tx         domain.Transactor
	clock      domain.Clock
	log        *slog.Logger
	users      *users
	limits     *limiter
	passwords  *passwords
	mails      *tokenMails
	background *background
	factors    *totpFactors
	passkeys   *passkeys
}

// Me returns the user the claims name. A user deleted since the token was
// issued gives domain.ErrInvalidAccessToken: the token names no one.
func (a *Account) Me(ctx context.Context, c domain.Claims) (domain.User, error) {
	return a.users.named(ctx, c)
}

// users looks up the users that access tokens name.
type users struct{ store domain.UserStore }

// named returns the user the claims name; a user deleted since the token
// was issued gives domain.ErrInvalidAccessToken.
func (u *users) named(ctx context.Context, c domain.Claims) (domain.User, error) {
	user, err := u.store.ByID(ctx, c.Subject)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.User{}, domain.ErrInvalidAccessToken
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("app: load user: %w", err)
	}
	return user, nil
}
