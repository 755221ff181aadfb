package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// BeginPasskeySignInInput begins a sign-in with a passkey: without a
// password when Challenge is empty (any discoverable passkey, whose
// authenticator must verify the user), or as the second factor of the
// sign-in whose MFA challenge Challenge is (one of that user's passkeys).
type BeginPasskeySignInInput struct {
	Challenge string
	Client    Client
}

// BeginPasskeySignIn begins a sign-in with a passkey and returns its
// ceremony. It returns ErrPasskeysOff when passkeys are not configured,
// ErrInvalidMFAChallenge for a challenge that is unknown, used or
// expired, ErrNoFactor when the challenge's user has no passkey, and a
// *domain.RateLimitedError after too many passwordless sign-ins begun
// from the client's IP.
func (a *Auth) BeginPasskeySignIn(ctx context.Context, in BeginPasskeySignInInput) (PasskeyCeremony, error) {
	if a.passkeys.rp == nil {
		return PasskeyCeremony{}, ErrPasskeysOff
	}
	now := a.clock.Now()
	if in.Challenge == "" {
		if err := a.limits.hit(ctx, now, limitPasskeyIP.on(in.Client.IP)); err != nil {
			return PasskeyCeremony{}, err
		}
		ceremony, err := a.passkeys.rp.BeginPasswordless()
		if err != nil {
			return PasskeyCeremony{}, fmt.Errorf("app: begin passkey sign-in: %w", err)
		}
		begun, err := a.passkeys.begin(ctx, domain.TokenPasskeySignIn, "", "", ceremony, now)
		if err != nil {
			return PasskeyCeremony{}, fmt.Errorf("app: begin passkey sign-in: %w", err)
		}
		return begun, nil
	}

	if !domain.WellFormedOpaqueToken(in.Challenge) {
		return PasskeyCeremony{}, ErrInvalidMFAChallenge
	}
	hash := domain.HashToken(in.Challenge)
	challenge, err := a.tokens.Find(ctx, domain.TokenMFAChallenge, hash, now)
	if errors.Is(err, domain.ErrNotFound) {
		return PasskeyCeremony{}, ErrInvalidMFAChallenge
	}
	if err != nil {
		return PasskeyCeremony{}, fmt.Errorf("app: begin passkey sign-in: %w", err)
	}
	user, err := a.users.ByID(ctx, challenge.UserID)
	if errors.Is(err, domain.ErrNotFound) {
		return PasskeyCeremony{}, ErrInvalidMFAChallenge
	}
	if err != nil {
		return PasskeyCeremony{}, fmt.Errorf("app: begin passkey sign-in: %w", err)
	}
	pu, err := passkeyUser(ctx, a.stores, user)
	if err != nil {
		return PasskeyCeremony{}, fmt.Errorf("app: begin passkey sign-in: %w", err)
	}
	if len(pu.Passkeys) == 0 {
		return PasskeyCeremony{}, ErrNoFactor
	}
	ceremony, err := a.passkeys.rp.BeginSignIn(pu)
	if err != nil {
		return PasskeyCeremony{}, fmt.Errorf("app: begin passkey sign-in: %w", err)
	}
	begun, err := a.passkeys.begin(ctx, domain.TokenPasskeySignIn, user.ID, hash, ceremony, now)
	if err != nil {
		return PasskeyCeremony{}, fmt.Errorf("app: begin passkey sign-in: %w", err)
	}
	return begun, nil
}

// FinishPasskeySignInInput is the browser's answer to a passkey sign-in:
// the ceremony token and the credential (JSON).
type FinishPasskeySignInInput struct {
	Ceremony string
	Response []byte
	Client   Client
}

// FinishPasskeySignIn finishes a sign-in with a passkey. It spends the
// ceremony token (an answer that does not verify spends it too), checks
// the authenticator's answer, records the passkey's signature counter,
// which must have gone up (otherwise the authenticator may be a clone:
// the sign-in is refused and logged), and starts the session through the
// kernel.
//
// Without a password, the session records [hwk, mfa] (the authenticator
// verified the user, as it must here), which is aal2. As the second
// factor it spends the MFA challenge, like FinishSignIn, and records the
// challenge's methods and hwk ([pwd, hwk], aal2); its attempts count
// against the challenge's and the user's limits, and a success resets the
// user's. Either way a success resets the account's login limits, as a
// password login does.
//
// It returns ErrInvalidCeremony for a ceremony token that is unknown,
// spent or expired, ErrInvalidMFAChallenge when the challenge it answers
// is spent or expired, domain.ErrInvalidPasskey for an answer that does
// not verify (or of a clone), and a *domain.RateLimitedError.
func (a *Auth) FinishPasskeySignIn(ctx context.Context, in FinishPasskeySignInInput) (Tokens, error) {
	if a.passkeys.rp == nil {
		return Tokens{}, ErrPasskeysOff
	}
	now := a.clock.Now()
	ceremony, state, err := a.passkeys.spend(ctx, domain.TokenPasskeySignIn, in.Ceremony, now)
	if errors.Is(err, ErrInvalidCeremony) {
		return Tokens{}, err
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("app: finish passkey sign-in: %w", err)
	}

	var (
		challenge domain.Token
		limits    []check
	)
	if state.Challenge != "" {
		challenge, err = a.tokens.Find(ctx, domain.TokenMFAChallenge, state.Challenge, now)
		if errors.Is(err, domain.ErrNotFound) || err == nil && challenge.UserID != ceremony.UserID {
			return Tokens{}, ErrInvalidMFAChallenge
		}
		if err != nil {
			return Tokens{}, fmt.Errorf("app: finish passkey sign-in: %w", err)
		}
		limits = []check{limitMFAChallenge.on(state.Challenge), limitMFAUser.on(string(challenge.UserID))}
		if err := a.limits.hit(ctx, now, limits...); err != nil {
			return Tokens{}, err
		}
	}

	var (
		g    grant
		used domain.PasskeyID
	)
	err = a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		var user domain.User
		owner := func(id domain.UserID) (domain.PasskeyUser, error) {
			if state.Challenge != "" && id != challenge.UserID {
				return domain.PasskeyUser{}, fmt.Errorf("%w: not the challenge's user", domain.ErrInvalidPasskey)
			}
			var err error
			user, err = tx.Users.ByID(ctx, id)
			if errors.Is(err, domain.ErrNotFound) {
				return domain.PasskeyUser{}, fmt.Errorf("%w: the passkey names no user", domain.ErrInvalidPasskey)
			}
			if err != nil {
				return domain.PasskeyUser{}, err
			}
			return passkeyUser(ctx, tx, user)
		}
		assertion, err := a.passkeys.rp.FinishSignIn(state.State, in.Response, owner)
		if err != nil {
			return err
		}
		methods := []domain.AuthMethod{domain.AuthHardwareKey, domain.AuthMultiFactor}
		if state.Challenge != "" {
			methods = domain.WithMethod(challenge.Methods, domain.AuthHardwareKey)
		} else if !assertion.UserVerified {
			return fmt.Errorf("%w: the authenticator did not verify the user", domain.ErrInvalidPasskey)
		}
		used = assertion.Passkey.ID
		err = tx.Passkeys.RecordUse(ctx, assertion.Passkey.ID, assertion.Passkey.SignCount, assertion.Passkey.BackedUp, now)
		if err != nil {
			return err
		}
		if state.Challenge != "" {
			if _, err := tx.Tokens.Consume(ctx, domain.TokenMFAChallenge, state.Challenge, now); err != nil {
				return err // a concurrent answer spent it first
			}
		}
		g, err = a.kernel.start(ctx, tx, signIn{user: user, methods: methods, client: in.Client}, now)
		return err
	})
	switch {
	case errors.Is(err, domain.ErrPasskeyCloned):
		a.log.WarnContext(ctx, "passkey sign-in refused: its signature counter did not increase, the authenticator may be cloned",
			"passkey_id", used)
		return Tokens{}, fmt.Errorf("%w: %w", domain.ErrInvalidPasskey, err)
	case errors.Is(err, domain.ErrInvalidPasskey):
		a.log.InfoContext(ctx, "passkey sign-in refused", "reason", err.Error())
		return Tokens{}, err
	case errors.Is(err, domain.ErrNotFound):
		return Tokens{}, ErrInvalidMFAChallenge // the challenge was spent meanwhile
	case err != nil:
		return Tokens{}, fmt.Errorf("app: finish passkey sign-in: %w", err)
	}
	reset := loginLimits(g.user.Email, in.Client)
	if state.Challenge != "" {
		reset = append(reset, limits[1])
	}
	a.limits.reset(ctx, reset...)
	return a.kernel.issue(ctx, g, now)
}
