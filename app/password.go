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
	hasher normalizingHasher
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

// normalizingHasher is the password hasher every flow uses: next, on
// passwords in the normal form of normalizer, so that a password typed
// with composed or decomposed characters is one password (NIST SP
// 800-63B). Flows normalise a new password themselves before the policy
// judges it, and hash that.
type normalizingHasher struct {
	next       domain.PasswordHasher
	normalizer domain.PasswordNormalizer
}

// normalize returns password in the normal form.
func (h normalizingHasher) normalize(password string) string {
	return h.normalizer.NormalizePassword(password)
}

// Hash returns the encoded hash of password's normal form.
func (h normalizingHasher) Hash(ctx context.Context, password string) (string, error) {
	return h.next.Hash(ctx, h.normalize(password))
}

// Verify reports whether password's normal form matches encoded, as next
// does. A hash stored before passwords were normalised holds the bytes as
// the user typed them, so a password that is not in normal form is tried
// as it is too, when its normal form fails; a match that way asks for a
// rehash, which stores the normal form's hash. Whether the second try runs
// depends on password alone, never on the account, so it tells an
// observer nothing about which accounts exist.
func (h normalizingHasher) Verify(ctx context.Context, encoded, password string) (match, rehash bool, err error) {
	normal := h.normalize(password)
	match, rehash, err = h.next.Verify(ctx, encoded, normal)
	if err != nil || match || normal == password {
		return match, rehash, err
	}
	match, _, err = h.next.Verify(ctx, encoded, password)
	return match, match, err
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
