package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Lifetimes of the single-use tokens that emails carry.
const (
	verificationTTL = 24 * time.Hour
	resetTTL        = time.Hour
)

// VerifyEmail spends an email-verification token and marks its user's
// address verified. It returns domain.ErrInvalidToken for a token that is
// unknown, used, expired or meant for something else.
func (s *Service) VerifyEmail(ctx context.Context, token string) (domain.User, error) {
	if !wellFormedToken(token) {
		return domain.User{}, domain.ErrInvalidToken
	}
	now := s.Clock.Now()
	var user domain.User
	err := s.Transactor.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
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
// replaces any earlier one. It returns domain.ErrAlreadyVerified when the
// address is verified, ErrNoEmail for an anonymous user, and a
// *domain.RateLimitedError when the user asked too often.
func (s *Service) ResendVerification(ctx context.Context, c domain.Claims) error {
	user, err := s.user(ctx, c)
	if err != nil {
		return err
	}
	switch {
	case user.Email == "":
		return ErrNoEmail
	case user.EmailVerified:
		return domain.ErrAlreadyVerified
	}
	now := s.Clock.Now()
	if err := s.hit(ctx, now, limitResendAccount.on(string(user.ID))); err != nil {
		return err
	}
	var mail domain.Email
	err = s.Transactor.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		mail, err = s.newVerification(ctx, tx, user, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("app: resend verification: %w", err)
	}
	s.send(ctx, mail)
	return nil
}

// newVerification replaces the user's verification tokens with a new one
// and returns the email that carries it, to send once tx has committed.
func (s *Service) newVerification(ctx context.Context, tx domain.Stores, user domain.User, now time.Time) (domain.Email, error) {
	return s.newTokenEmail(ctx, tx, user, domain.TokenEmailVerification, verificationTTL, now,
		domain.EmailVerifyAddress, "/verify-email")
}

// newTokenEmail replaces the user's tokens of kind with a new one living
// ttl and returns an email of purpose linking to page with it.
func (s *Service) newTokenEmail(ctx context.Context, tx domain.Stores, user domain.User, kind domain.TokenKind,
	ttl time.Duration, now time.Time, purpose domain.EmailPurpose, page string) (domain.Email, error) {
	if _, err := tx.Tokens.DeleteByUser(ctx, user.ID, kind); err != nil {
		return domain.Email{}, err
	}
	secret, hash := domain.NewOpaqueToken()
	t, err := tx.Tokens.Create(ctx, domain.Token{UserID: user.ID, Kind: kind, Hash: hash, ExpiresAt: now.Add(ttl), CreatedAt: now})
	if err != nil {
		return domain.Email{}, err
	}
	return domain.Email{
		To:        user.Email,
		Purpose:   purpose,
		Link:      s.cfg.PublicURL + page + "?" + url.Values{"token": {secret}}.Encode(),
		ExpiresAt: t.ExpiresAt,
	}, nil
}

// send hands e to the mailer. A mail that cannot even be queued is logged:
// the request that caused it has succeeded and stays so.
func (s *Service) send(ctx context.Context, e domain.Email) {
	if err := s.Mailer.Send(ctx, e); err != nil {
		s.Logger.ErrorContext(ctx, "email not queued", "purpose", e.Purpose.String(), "error", err)
	}
}

// user returns the user the claims name; a user deleted since the token was
// issued gives domain.ErrInvalidAccessToken.
func (s *Service) user(ctx context.Context, c domain.Claims) (domain.User, error) {
	user, err := s.Stores.Users.ByID(ctx, c.Subject)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.User{}, domain.ErrInvalidAccessToken
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("app: load user: %w", err)
	}
	return user, nil
}
