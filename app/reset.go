package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// ForgotPasswordInput is a request for a password-reset email. RedirectTo
// goes into the email as domain.Email.RedirectTo; the caller has checked
// it.
type ForgotPasswordInput struct {
	Email      string
	RedirectTo string
	Client     Client
}

// ForgotPassword answers at once and, in the background, mails a reset link
// if an account has the email: whether one does shows neither in the answer
// nor in its timing. Requests are rate limited per client IP and per
// address, whether or not the address has an account. It returns a
// *domain.ValidationError for a malformed email and a
// *domain.RateLimitedError over a limit.
func (a *Account) ForgotPassword(ctx context.Context, in ForgotPasswordInput) error {
	email := domain.NormalizeEmail(in.Email)
	problems := &domain.ValidationError{}
	checkEmail(problems, email)
	if err := problems.Err(); err != nil {
		return err
	}
	if err := a.limits.hit(ctx, a.clock.Now(), limitForgotIP.on(in.Client.IP), limitForgotAccount.on(email)); err != nil {
		return err
	}
	a.background.run(ctx, "password reset email", func(ctx context.Context) error {
		return a.mailReset(ctx, email, in.RedirectTo)
	})
	return nil
}

// mailReset mails a reset link, with redirectTo, to the account with
// email, if there is one.
func (a *Account) mailReset(ctx context.Context, email, redirectTo string) error {
	user, err := a.stores.Users.ByEmail(ctx, email)
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	now := a.clock.Now()
	var mail domain.Email
	err = a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		mail, err = a.mails.create(ctx, tx, user, domain.TokenPasswordReset, redirectTo, now)
		return err
	})
	if err != nil {
		return err
	}
	a.mails.send(ctx, mail)
	return nil
}

// ResetPassword spends a password-reset token to set the user's password,
// revokes every session of the user and marks the address verified (the
// link reached it). It does not log the user in, but it resets the
// account's login limits, from anywhere and from the client c, so that
// the new password is let in even when someone else's guesses had locked
// the account. It returns
// domain.ErrInvalidToken for a token that is unknown, used, expired or
// meant for something else, and a *domain.ValidationError (field
// "password") when the policy rejects the password; then the token stays
// usable.
func (a *Account) ResetPassword(ctx context.Context, token, password string, c Client) error {
	if !domain.WellFormedOpaqueToken(token) {
		return domain.ErrInvalidToken
	}
	hash := domain.HashToken(token)
	now := a.clock.Now()
	t, err := a.stores.Tokens.Find(ctx, domain.TokenPasswordReset, hash, now)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.ErrInvalidToken
	}
	if err != nil {
		return fmt.Errorf("app: reset password: %w", err)
	}
	user, err := a.stores.Users.ByID(ctx, t.UserID)
	if err != nil {
		return fmt.Errorf("app: reset password: %w", err)
	}
	password = a.passwords.hasher.normalize(password)
	if err := domain.CheckPassword(password, user.Email); err != nil {
		return err
	}
	encoded, err := a.passwords.hasher.Hash(ctx, password)
	if err != nil {
		return fmt.Errorf("app: reset password: %w", err)
	}
	err = a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		if _, err := tx.Tokens.Consume(ctx, domain.TokenPasswordReset, hash, now); err != nil {
			return err
		}
		if err := setPassword(ctx, tx, user.ID, encoded, true, now); err != nil {
			return err
		}
		_, err := tx.Sessions.RevokeAllForUser(ctx, user.ID, "", now)
		return err
	})
	if errors.Is(err, domain.ErrNotFound) {
		return domain.ErrInvalidToken // spent by a concurrent reset, or the user was deleted
	}
	if err != nil {
		return fmt.Errorf("app: reset password: %w", err)
	}
	a.limits.reset(ctx, loginLimits(user.Email, c)...)
	return nil
}
