package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// FactorInfo describes one of a user's second factors, without its
// secret.
type FactorInfo struct {
	Kind      domain.FactorKind
	Verified  bool
	CreatedAt time.Time
}

// Factors returns the caller's second factors, verified or not: the TOTP
// factor, then each passkey (which is verified by its registration).
func (a *Account) Factors(ctx context.Context, c domain.Claims) ([]FactorInfo, error) {
	user, err := a.users.named(ctx, c)
	if err != nil {
		return nil, err
	}
	all, err := a.stores.Factors.ByUser(ctx, user.ID)
	if err != nil {
		return nil, fmt.Errorf("app: list factors: %w", err)
	}
	passkeys, err := a.stores.Passkeys.ByUser(ctx, user.ID)
	if err != nil {
		return nil, fmt.Errorf("app: list factors: %w", err)
	}
	infos := make([]FactorInfo, 0, len(all)+len(passkeys))
	for _, f := range all {
		infos = append(infos, FactorInfo{Kind: f.Kind, Verified: f.Verified(), CreatedAt: f.CreatedAt})
	}
	for _, p := range passkeys {
		infos = append(infos, FactorInfo{Kind: domain.FactorPasskey, Verified: true, CreatedAt: p.CreatedAt})
	}
	return infos, nil
}

// RegenerateRecoveryCodes replaces the caller's recovery codes with new
// ones, shown this once. It needs an aal2 session (ErrAAL2Required), and
// returns ErrNoFactor when the caller has no verified second factor.
func (a *Account) RegenerateRecoveryCodes(ctx context.Context, c domain.Claims) ([]string, error) {
	user, err := a.users.named(ctx, c)
	if err != nil {
		return nil, err
	}
	var codes []string
	err = a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		factors, err := verifiedFactors(ctx, tx, user.ID)
		switch {
		case err != nil:
			return err
		case len(factors) == 0:
			return ErrNoFactor
		case c.AAL != domain.AAL2:
			return ErrAAL2Required
		}
		codes, err = newRecoveryCodes(ctx, tx, user.ID, a.clock.Now())
		return err
	})
	switch {
	case errors.Is(err, ErrNoFactor), errors.Is(err, ErrAAL2Required):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("app: regenerate recovery codes: %w", err)
	}
	a.log.InfoContext(ctx, "recovery codes regenerated", "user_id", user.ID)
	return codes, nil
}

// requireAAL2 returns ErrAAL2Required when the caller's user has a
// verified second factor and the caller's session did not present it:
// what needs it must not be open to whoever has the password alone.
func requireAAL2(ctx context.Context, tx domain.Stores, c domain.Claims) error {
	if c.AAL == domain.AAL2 {
		return nil
	}
	factors, err := verifiedFactors(ctx, tx, c.Subject)
	if err != nil {
		return err
	}
	if len(factors) > 0 {
		return ErrAAL2Required
	}
	return nil
}
