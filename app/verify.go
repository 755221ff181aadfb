package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// VerifyEmail spends an email-verification token and marks its user's
// address verified. It returns domain.ErrInvalidToken for a token that is
// unknown, used, expired or meant for something else.
func (a *Account) VerifyEmail(ctx context.Context, token string) (domain.User, error) {
	if !domain.WellFormedOpaqueToken(token) {
		return domain.User{}, domain.ErrInvalidToken
	}
	now := a.clock.Now()
	var user domain.User
	err := a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		t, err := tx.Tokens.Consume(ctx, domain.TokenEmailVerification, domain.HashToken(token), now)
		if err != nil {
			return err
		}
		if user, err = tx.Users.ByID(ctx, t.UserID); err != nil {
			return err
		}
		user.EmailVerified, user.UpdatedAt = true, now
		user, err = tx.Users.Update(ctx, user)
		return err
	})
	if errors.Is(err, domain.ErrNotFound) {
		return domain.User{}, domain.ErrInvalidToken
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("app: verify email: %w", err)
	}
	return user, nil
}

// ResendVerification mails the caller a new verification link, which
// replaces any earlier one, with redirectTo as its email's
// domain.Email.RedirectTo (checked by the caller; "" for none). It returns domain.ErrAlreadyVerified when the
// address is verified, ErrNoEmail for an anonymous user, and a
// *domain.RateLimitedError when the user asked too often.
func (a *Account) ResendVerification(ctx context.Context, c domain.Claims, redirectTo string) error {
	user, err := a.users.named(ctx, c)
	if err != nil {
		return err
	}
	switch {
	case user.Email == "":
		return ErrNoEmail
	case user.EmailVerified:
		return domain.ErrAlreadyVerified
	}
	now := a.clock.Now()
	if err := a.limits.hit(ctx, now, limitResendAccount.on(string(user.ID))); err != nil {
		return err
	}
	var mail domain.Email
	err = a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		mail, err = a.mails.create(ctx, tx, user, domain.TokenEmailVerification, redirectTo, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("app: resend verification: %w", err)
	}
	a.mails.send(ctx, mail)
	return nil
}
