package app

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// MFARequiredError is what a sign-in returns instead of tokens when the
// user has a verified second factor and has not presented it yet (the MFA
// gate of the kernel). FinishSignIn takes Challenge with a code.
type MFARequiredError struct {
	// Challenge is the secret of the single-use challenge token, which
	// lives Config.MFAChallengeTTL. It is a credential: it is
	// never logged.
	Challenge string
	// Factors are the kinds of second factor the user can answer with.
	Factors []domain.FactorKind
}

func (e *MFARequiredError) Error() string { return "app: a second factor is required" }

// Errors of the second factor.
var (
	// ErrInvalidMFAChallenge means an MFA challenge token is unknown,
	// already used or expired: the sign-in must start again.
	ErrInvalidMFAChallenge = errors.New("app: mfa challenge unknown, used or expired")
	// ErrInvalidMFACode means a one-time code or recovery code is wrong,
	// or was used already.
	ErrInvalidMFACode = errors.New("app: mfa code wrong or used")
	// ErrAAL2Required means the user has a second factor, and what the
	// caller asked for needs a session that presented it (aal2).
	ErrAAL2Required = errors.New("app: a session signed in with the second factor is required")
	// ErrFactorEnabled means the user has a verified factor of that kind
	// already; disable it first to enrol a new one.
	ErrFactorEnabled = errors.New("app: second factor enabled already")
	// ErrNoFactor means the user has no second factor of that kind.
	ErrNoFactor = errors.New("app: no such second factor")
)

// FinishSignInInput is the answer to an MFA challenge: the challenge
// token and either a one-time code from the authenticator app or one of
// the user's recovery codes.
type FinishSignInInput struct {
	Challenge    string
	Code         string // the authenticator app's current code
	RecoveryCode string // in place of Code, when the app is lost
	Client       Client
}

// FinishSignIn completes a sign-in that the MFA gate held back: it checks
// the code against the user's verified TOTP factor (a code of a time step
// already used is refused) or spends the recovery code, spends the
// challenge, and starts the session with the challenge's methods and the
// second factor's, which reach aal2. Using a recovery code is logged. A
// success resets the user's code limit and the account's login limits.
//
// It returns ErrInvalidMFAChallenge for a challenge that is unknown, used
// or expired, ErrInvalidMFACode for a wrong or used code, a
// *domain.ValidationError when neither code is given, and a
// *domain.RateLimitedError after too many attempts on the challenge or
// the user. A wrong code leaves the challenge usable for another try.
func (a *Auth) FinishSignIn(ctx context.Context, in FinishSignInInput) (Tokens, error) {
	if in.Code == "" && in.RecoveryCode == "" {
		problems := &domain.ValidationError{}
		problems.Add("code", "required", "code (or recovery_code) is required.")
		return Tokens{}, problems
	}
	if !domain.WellFormedOpaqueToken(in.Challenge) {
		return Tokens{}, ErrInvalidMFAChallenge
	}
	hash := domain.HashToken(in.Challenge)
	now := a.clock.Now()
	challenge, err := a.tokens.Find(ctx, domain.TokenMFAChallenge, hash, now)
	if errors.Is(err, domain.ErrNotFound) {
		return Tokens{}, ErrInvalidMFAChallenge
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("app: finish sign-in: %w", err)
	}
	limits := []check{limitMFAChallenge.on(hash), limitMFAUser.on(string(challenge.UserID))}
	if err := a.limits.hit(ctx, now, limits...); err != nil {
		return Tokens{}, err
	}

	var (
		g    grant
		used domain.AuthMethod
	)
	err = a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		user, err := tx.Users.ByID(ctx, challenge.UserID)
		if err != nil {
			return err
		}
		if in.Code != "" {
			used, err = a.factors.acceptCode(ctx, tx, user.ID, in.Code, now)
		} else {
			used, err = spendRecoveryCode(ctx, tx, user.ID, in.RecoveryCode, now)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Tokens.Consume(ctx, domain.TokenMFAChallenge, hash, now); err != nil {
			return err // a concurrent answer spent it first
		}
		g, err = a.kernel.start(ctx, tx, signIn{user: user, methods: domain.WithMethod(challenge.Methods, used), client: in.Client}, now)
		return err
	})
	switch {
	case errors.Is(err, ErrInvalidMFACode):
		return Tokens{}, err
	case errors.Is(err, domain.ErrNotFound):
		return Tokens{}, ErrInvalidMFAChallenge
	case err != nil:
		return Tokens{}, fmt.Errorf("app: finish sign-in: %w", err)
	}
	a.limits.reset(ctx, append(loginLimits(g.user.Email, in.Client), limits[1])...)
	if used == domain.AuthRecoveryCode {
		a.log.WarnContext(ctx, "recovery code used to sign in", "user_id", g.user.ID)
	}
	return a.kernel.issue(ctx, g, now)
}

// totpFactors checks codes against users' TOTP factors.
type totpFactors struct {
	totp    domain.TOTP
	secrets domain.SecretBox
}

// acceptCode checks code against the user's verified TOTP factor in tx
// and records its time step, so that the code, or an older one, is never
// accepted again. It returns ErrInvalidMFACode for a wrong or replayed
// code, and for a user without a verified TOTP factor.
func (f *totpFactors) acceptCode(ctx context.Context, tx domain.Stores, id domain.UserID, code string, now time.Time) (domain.AuthMethod, error) {
	factor, err := totpFactor(ctx, tx, id)
	if errors.Is(err, ErrNoFactor) || err == nil && !factor.Verified() {
		return domain.AuthMethod{}, ErrInvalidMFACode
	}
	if err != nil {
		return domain.AuthMethod{}, err
	}
	if err := f.accept(ctx, tx, factor, code, now); err != nil {
		return domain.AuthMethod{}, err
	}
	return domain.AuthOTP, nil
}

// accept checks code against factor and records its time step (marking
// the factor verified). It returns ErrInvalidMFACode for a wrong or
// replayed code.
func (f *totpFactors) accept(ctx context.Context, tx domain.Stores, factor domain.Factor, code string, now time.Time) error {
	secret, err := f.secrets.Open(factor.Secret)
	if err != nil {
		return fmt.Errorf("open totp secret of factor %s: %w", factor.ID, err)
	}
	step, ok := f.totp.Match(secret, code, now)
	if !ok {
		return ErrInvalidMFACode
	}
	err = tx.Factors.AcceptStep(ctx, factor.ID, step, now)
	if errors.Is(err, domain.ErrCodeReplayed) {
		return ErrInvalidMFACode
	}
	return err
}

// totpFactor returns the user's TOTP factor, verified or not, or
// ErrNoFactor.
func totpFactor(ctx context.Context, tx domain.Stores, id domain.UserID) (domain.Factor, error) {
	all, err := tx.Factors.ByUser(ctx, id)
	if err != nil {
		return domain.Factor{}, err
	}
	for _, f := range all {
		if f.Kind == domain.FactorTOTP {
			return f, nil
		}
	}
	return domain.Factor{}, ErrNoFactor
}

// recoveryCodeCount is how many recovery codes a user gets at a time.
const recoveryCodeCount = 10

// recoveryCodeBytes is the randomness of one recovery code: 80 bits, so
// that its SHA-256 hash, all that is stored, cannot be reversed by trying
// every code.
const recoveryCodeBytes = 10

// newRecoveryCodes replaces the user's recovery codes in tx with new ones
// and returns them, to be shown once: 16 base32 characters each, in four
// groups (XXXX-XXXX-XXXX-XXXX).
func newRecoveryCodes(ctx context.Context, tx domain.Stores, id domain.UserID, now time.Time) ([]string, error) {
	if _, err := tx.Tokens.DeleteByUser(ctx, id, domain.TokenRecoveryCode); err != nil {
		return nil, err
	}
	codes := make([]string, recoveryCodeCount)
	for i := range codes {
		b := make([]byte, recoveryCodeBytes)
		_, _ = rand.Read(b) // crypto/rand.Read never returns an error
		plain := base32.StdEncoding.EncodeToString(b)
		codes[i] = plain[0:4] + "-" + plain[4:8] + "-" + plain[8:12] + "-" + plain[12:16]
		_, err := tx.Tokens.Create(ctx, domain.Token{
			UserID: id, Kind: domain.TokenRecoveryCode, Hash: domain.HashToken(plain),
			ExpiresAt: now.Add(domain.TokenRecoveryCode.TTL()), CreatedAt: now,
		})
		if err != nil {
			return nil, err
		}
	}
	return codes, nil
}

// spendRecoveryCode spends the user's recovery code in tx, written in any
// case and with or without its dashes and spaces. It returns
// ErrInvalidMFACode when the user has no such unused code.
func spendRecoveryCode(ctx context.Context, tx domain.Stores, id domain.UserID, code string, now time.Time) (domain.AuthMethod, error) {
	plain := strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(code))
	hash := domain.HashToken(plain)
	t, err := tx.Tokens.Find(ctx, domain.TokenRecoveryCode, hash, now)
	if errors.Is(err, domain.ErrNotFound) || err == nil && t.UserID != id {
		return domain.AuthMethod{}, ErrInvalidMFACode
	}
	if err != nil {
		return domain.AuthMethod{}, err
	}
	if _, err := tx.Tokens.Consume(ctx, domain.TokenRecoveryCode, hash, now); err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return domain.AuthMethod{}, ErrInvalidMFACode
		}
		return domain.AuthMethod{}, err
	}
	return domain.AuthRecoveryCode, nil
}
