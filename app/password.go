package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// passwords checks the passwords of signed-in users, against a rate limit.
type passwords struct {
	hasher domain.PasswordHasher
	limits *limiter
	clock  domain.Clock
}

// check returns domain.ErrInvalidCredentials unless password is the
// signed-in user's. Checks count against limitPasswordCheck, and over it
// return a *domain.RateLimitedError without checking.
func (p *passwords) check(ctx context.Context, user domain.User, password string) error {
	limit := limitPasswordCheck.on(string(user.ID))
	if err := p.limits.hit(ctx, p.clock.Now(), limit); err != nil {
		return err
	}
	if user.PasswordHash == "" {
		return domain.ErrInvalidCredentials
	}
	match, _, err := p.hasher.Verify(ctx, user.PasswordHash, password)
	if err != nil {
		return fmt.Errorf("app: check password: %w", err)
	}
	if !match {
		return domain.ErrInvalidCredentials
	}
	p.limits.reset(ctx, limit)
	return nil
}

// setPassword stores the encoded hash as the user's password; verified
// also marks the address verified, as a reset link that reached it proves.
func setPassword(ctx context.Context, tx domain.Stores, id domain.UserID, encoded string, verified bool, now time.Time) error {
	user, err := tx.Users.ByID(ctx, id)
	if err != nil {
		return err
	}
	user.PasswordHash, user.UpdatedAt = encoded, now
	user.EmailVerified = user.EmailVerified || verified
	_, err = tx.Users.Update(ctx, user)
	return err
}

// renameField renames the field of every problem in a validation error, so
// the error names the request's own field.
func renameField(err error, from, to string) error {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	renamed := &domain.ValidationError{}
	for _, p := range v.Problems {
		if p.Field == from {
			p.Field = to
		}
		renamed.Problems = append(renamed.Problems, p)
	}
	return renamed
}
