package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// ForgotPassword answers at once and, in the background, mails a reset link
// if an account has the email: whether one does shows neither in the answer
// nor in its timing. Requests are rate limited per client IP and per
// address, whether or not the address has an account. It returns a
// *domain.ValidationError for a malformed email and a
// *domain.RateLimitedError over a limit.
func (s *Service) ForgotPassword(ctx context.Context, email string, c Client) error {
	email = domain.NormalizeEmail(email)
	problems := &domain.ValidationError{}
	checkEmail(problems, email)
	if err := problems.Err(); err != nil {
		return err
	}
	if err := s.hit(ctx, s.Clock.Now(), limitForgotIP.on(c.IP), limitForgotAccount.on(email)); err != nil {
		return err
	}
	s.goBackground(ctx, "password reset email", func(ctx context.Context) error {
		return s.mailReset(ctx, email)
	})
	return nil
}

// mailReset mails a reset link to the account with email, if there is one.
func (s *Service) mailReset(ctx context.Context, email string) error {
	user, err := s.Stores.Users.ByEmail(ctx, email)
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	var mail domain.Email
	err = s.Transactor.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		mail, err = s.newTokenEmail(ctx, tx, user, domain.TokenPasswordReset, resetTTL, now,
			domain.EmailResetPassword, "/reset-password")
		return err
	})
	if err != nil {
		return err
	}
	s.send(ctx, mail)
	return nil
}

// ResetPassword spends a password-reset token to set the user's password,
// revokes every session of the user and marks the address verified (the
// link reached it). It does not log the user in. It returns
// domain.ErrInvalidToken for a token that is unknown, used, expired or
// meant for something else, and a *domain.ValidationError (field
// "password") when the policy rejects the password; then the token stays
// usable.
func (s *Service) ResetPassword(ctx context.Context, token, password string) error {
	if !wellFormedToken(token) {
		return domain.ErrInvalidToken
	}
	hash := domain.HashToken(token)
	now := s.Clock.Now()
	t, err := s.Stores.Tokens.Find(ctx, domain.TokenPasswordReset, hash, now)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.ErrInvalidToken
	}
	if err != nil {
		return fmt.Errorf("app: reset password: %w", err)
	}
	user, err := s.Stores.Users.ByID(ctx, t.UserID)
	if err != nil {
		return fmt.Errorf("app: reset password: %w", err)
	}
	if err := domain.CheckPassword(password, user.Email); err != nil {
		return err
	}
	encoded, err := s.Hasher.Hash(ctx, password)
	if err != nil {
		return fmt.Errorf("app: reset password: %w", err)
	}
	err = s.Transactor.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		if _, err := tx.Tokens.Consume(ctx, domain.TokenPasswordReset, hash, now); err != nil {
			return err
		}
		if err := s.setPassword(ctx, tx, user.ID, encoded, true, now); err != nil {
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
	return nil
}

// ChangePassword sets a new password for the caller, who proves to know the
// current one, and revokes every other session of theirs; the calling
// session stays. It returns domain.ErrInvalidCredentials for a wrong
// current password (or a user without one), a *domain.RateLimitedError after
// too many wrong ones, and a *domain.ValidationError (field "new_password")
// when the policy rejects the new one.
func (s *Service) ChangePassword(ctx context.Context, c domain.Claims, current, next string) error {
	user, err := s.user(ctx, c)
	if err != nil {
		return err
	}
	if err := s.checkPassword(ctx, user, current); err != nil {
		return err
	}
	if err := domain.CheckPassword(next, user.Email); err != nil {
		return renameField(err, "password", "new_password")
	}
	encoded, err := s.Hasher.Hash(ctx, next)
	if err != nil {
		return fmt.Errorf("app: change password: %w", err)
	}
	now := s.Clock.Now()
	err = s.Transactor.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		if err := s.setPassword(ctx, tx, user.ID, encoded, false, now); err != nil {
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

// setPassword stores the encoded hash as the user's password; verified
// also marks the address verified, as a reset link that reached it proves.
func (s *Service) setPassword(ctx context.Context, tx domain.Stores, id domain.UserID, encoded string, verified bool, now time.Time) error {
	user, err := tx.Users.ByID(ctx, id)
	if err != nil {
		return err
	}
	user.PasswordHash, user.UpdatedAt = encoded, now
	user.EmailVerified = user.EmailVerified || verified
	_, err = tx.Users.Update(ctx, user)
	return err
}

// checkPassword returns domain.ErrInvalidCredentials unless password is the
// signed-in user's. Checks count against limitPasswordCheck, and over it
// return a *domain.RateLimitedError without checking.
func (s *Service) checkPassword(ctx context.Context, user domain.User, password string) error {
	limit := limitPasswordCheck.on(string(user.ID))
	if err := s.hit(ctx, s.Clock.Now(), limit); err != nil {
		return err
	}
	if user.PasswordHash == "" {
		return domain.ErrInvalidCredentials
	}
	match, _, err := s.Hasher.Verify(ctx, user.PasswordHash, password)
	if err != nil {
		return fmt.Errorf("app: check password: %w", err)
	}
	if !match {
		return domain.ErrInvalidCredentials
	}
	s.reset(ctx, limit)
	return nil
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
