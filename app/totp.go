package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// EnrolTOTP starts enrolling an authenticator app as the caller's second
// factor: it makes a new key, stores it sealed and unverified (replacing
// an unverified one), and returns what the app needs, which is never
// shown again. The factor counts once VerifyTOTP has seen one of its
// codes. It returns ErrNoEmail for an anonymous user and ErrFactorEnabled
// when the caller's TOTP factor is verified already.
func (a *Account) EnrolTOTP(ctx context.Context, c domain.Claims) (domain.TOTPEnrolment, error) {
	user, err := a.users.named(ctx, c)
	if err != nil {
		return domain.TOTPEnrolment{}, err
	}
	if user.Email == "" {
		return domain.TOTPEnrolment{}, ErrNoEmail
	}
	enrolment, err := a.factors.totp.Enrol(user.Email)
	if err != nil {
		return domain.TOTPEnrolment{}, fmt.Errorf("app: enrol totp: %w", err)
	}
	sealed, err := a.factors.secrets.Seal(enrolment.Secret)
	if err != nil {
		return domain.TOTPEnrolment{}, fmt.Errorf("app: enrol totp: %w", err)
	}
	now := a.clock.Now()
	err = a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		old, err := totpFactor(ctx, tx, user.ID)
		switch {
		case err == nil && old.Verified():
			return ErrFactorEnabled
		case err == nil:
			if err := tx.Factors.Delete(ctx, old.ID); err != nil {
				return err
			}
		case !errors.Is(err, ErrNoFactor):
			return err
		}
		_, err = tx.Factors.Create(ctx, domain.Factor{UserID: user.ID, Kind: domain.FactorTOTP, Secret: sealed, CreatedAt: now})
		return err
	})
	if errors.Is(err, ErrFactorEnabled) {
		return domain.TOTPEnrolment{}, err
	}
	if err != nil {
		return domain.TOTPEnrolment{}, fmt.Errorf("app: enrol totp: %w", err)
	}
	enrolment.Secret = nil // sealed and stored; the caller needs the text
	return enrolment, nil
}

// VerifyTOTP checks a code of the caller's TOTP factor. The first code
// that matches verifies an enrolment: from then on every sign-in needs a
// code, and the caller gets their recovery codes, shown this once. Every
// code that matches, the first included, also steps the calling session
// up: it records the one-time code, so the session's next access token is
// aal2. A code of a time step already used is refused.
//
// It returns the new recovery codes (none when the factor was verified
// already), ErrNoFactor when the caller has no TOTP factor,
// ErrInvalidMFACode for a wrong or replayed code, and a
// *domain.RateLimitedError after too many attempts.
func (a *Account) VerifyTOTP(ctx context.Context, c domain.Claims, code string) ([]string, error) {
	user, err := a.users.named(ctx, c)
	if err != nil {
		return nil, err
	}
	now := a.clock.Now()
	limit := limitMFAUser.on(string(user.ID))
	if err := a.limits.hit(ctx, now, limit); err != nil {
		return nil, err
	}
	var codes []string
	err = a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		factor, err := totpFactor(ctx, tx, user.ID)
		if err != nil {
			return err
		}
		if err := a.factors.accept(ctx, tx, factor, code, now); err != nil {
			return err
		}
		if !factor.Verified() {
			if codes, err = newRecoveryCodes(ctx, tx, user.ID, now); err != nil {
				return err
			}
		}
		return tx.Sessions.AddMethod(ctx, c.SessionID, domain.AuthOTP)
	})
	switch {
	case errors.Is(err, ErrNoFactor), errors.Is(err, ErrInvalidMFACode):
		return nil, err
	case errors.Is(err, domain.ErrNotFound):
		return nil, domain.ErrInvalidAccessToken // the calling session is gone
	case err != nil:
		return nil, fmt.Errorf("app: verify totp: %w", err)
	}
	a.limits.reset(ctx, limit)
	if codes != nil {
		a.log.InfoContext(ctx, "second factor enabled", "user_id", user.ID, "kind", domain.FactorTOTP.String())
	}
	return codes, nil
}

// DisableTOTP removes the caller's TOTP factor and their recovery codes;
// sign-ins need a password alone again. It needs an aal2 session when the
// factor is verified (ErrAAL2Required), and returns ErrNoFactor when there
// is none.
func (a *Account) DisableTOTP(ctx context.Context, c domain.Claims) error {
	user, err := a.users.named(ctx, c)
	if err != nil {
		return err
	}
	err = a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		factor, err := totpFactor(ctx, tx, user.ID)
		if err != nil {
			return err
		}
		if factor.Verified() && c.AAL != domain.AAL2 {
			return ErrAAL2Required
		}
		if err := tx.Factors.Delete(ctx, factor.ID); err != nil {
			return err
		}
		_, err = tx.Tokens.DeleteByUser(ctx, user.ID, domain.TokenRecoveryCode)
		return err
	})
	switch {
	case errors.Is(err, ErrNoFactor), errors.Is(err, ErrAAL2Required):
		return err
	case err != nil:
		return fmt.Errorf("app: disable totp: %w", err)
	}
	a.log.InfoContext(ctx, "second factor disabled", "user_id", user.ID, "kind", domain.FactorTOTP.String())
	return nil
}
