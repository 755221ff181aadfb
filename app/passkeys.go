package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Errors of passkeys.
var (
	// ErrPasskeysOff means no relying party is configured: passkeys are
	// not offered.
	ErrPasskeysOff = errors.New("app: passkeys are not configured")
	// ErrInvalidCeremony means a passkey ceremony token is unknown,
	// already used or expired: the ceremony must begin again.
	ErrInvalidCeremony = errors.New("app: passkey ceremony unknown, used or expired")
)

// maxPasskeyName is the longest name a passkey may be given, in
// characters; the schema keeps that many.
const maxPasskeyName = 100

// defaultPasskeyName is the name of a passkey registered without one.
const defaultPasskeyName = "Passkey"

// PasskeyCeremony is a begun passkey ceremony: Token, the single-use
// secret that finishes it (it lives 5 minutes, and is a credential: it is
// never logged), and Options, the JSON the browser's
// navigator.credentials.create or get takes.
type PasskeyCeremony struct {
	Token   string
	Options []byte
}

// PasskeyInfo describes one of a user's passkeys, without its key.
type PasskeyInfo struct {
	ID         domain.PasskeyID
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until its first sign-in
	BackedUp   bool      // synced to other devices, at its last use
}

// passkeys runs the ceremonies, on the relying party (nil when passkeys
// are off), and keeps their state as ceremony tokens.
type passkeys struct {
	rp     domain.Passkeys
	tokens domain.TokenStore // ceremony tokens, spent outside a unit of work
}

// ceremonyState is what a ceremony token keeps: the relying party's state
// and, for a sign-in that answers an MFA challenge, the challenge's hash.
type ceremonyState struct {
	State     []byte `json:"state"`
	Challenge string `json:"challenge,omitempty"`
}

// begin stores the ceremony c of kind for user (empty: no one yet), with
// the hash of the MFA challenge it answers, if any, and returns it with
// its token.
func (p *passkeys) begin(ctx context.Context, kind domain.TokenKind, user domain.UserID, challenge string, c domain.Ceremony, now time.Time) (PasskeyCeremony, error) {
	data, err := json.Marshal(ceremonyState{State: c.State, Challenge: challenge})
	if err != nil {
		return PasskeyCeremony{}, err
	}
	secret, hash := domain.NewOpaqueToken()
	_, err = p.tokens.Create(ctx, domain.Token{
		UserID: user, Kind: kind, Hash: hash, Data: data,
		ExpiresAt: now.Add(kind.TTL()), CreatedAt: now,
	})
	if err != nil {
		return PasskeyCeremony{}, err
	}
	return PasskeyCeremony{Token: secret, Options: c.Options}, nil
}

// spend consumes the ceremony token of kind, so that it finishes at most
// one ceremony, whether or not the answer verifies, and returns it with
// its state. It returns ErrInvalidCeremony for a token that is unknown,
// spent or expired.
func (p *passkeys) spend(ctx context.Context, kind domain.TokenKind, token string, now time.Time) (domain.Token, ceremonyState, error) {
	if !domain.WellFormedOpaqueToken(token) {
		return domain.Token{}, ceremonyState{}, ErrInvalidCeremony
	}
	t, err := p.tokens.Consume(ctx, kind, domain.HashToken(token), now)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.Token{}, ceremonyState{}, ErrInvalidCeremony
	}
	if err != nil {
		return domain.Token{}, ceremonyState{}, err
	}
	var state ceremonyState
	if err := json.Unmarshal(t.Data, &state); err != nil {
		return domain.Token{}, ceremonyState{}, fmt.Errorf("decode ceremony state: %w", err)
	}
	return t, state, nil
}

// passkeyUser returns user as a ceremony sees them, with their
// passkeys, read through tx.
func passkeyUser(ctx context.Context, tx domain.Stores, user domain.User) (domain.PasskeyUser, error) {
	all, err := tx.Passkeys.ByUser(ctx, user.ID)
	if err != nil {
		return domain.PasskeyUser{}, err
	}
	return domain.PasskeyUser{ID: user.ID, Name: user.Email, Passkeys: all}, nil
}

// BeginPasskeyRegistration begins registering a passkey for the caller.
// It returns ErrPasskeysOff when passkeys are not configured, ErrNoEmail
// for an anonymous user, and ErrAAL2Required when the caller has a second
// factor and their session did not present one.
func (a *Account) BeginPasskeyRegistration(ctx context.Context, c domain.Claims) (PasskeyCeremony, error) {
	if a.passkeys.rp == nil {
		return PasskeyCeremony{}, ErrPasskeysOff
	}
	user, err := a.users.named(ctx, c)
	if err != nil {
		return PasskeyCeremony{}, err
	}
	if user.Email == "" {
		return PasskeyCeremony{}, ErrNoEmail
	}
	if err := requireAAL2(ctx, a.stores, c); err != nil {
		if errors.Is(err, ErrAAL2Required) {
			return PasskeyCeremony{}, err
		}
		return PasskeyCeremony{}, fmt.Errorf("app: begin passkey registration: %w", err)
	}
	pu, err := passkeyUser(ctx, a.stores, user)
	if err != nil {
		return PasskeyCeremony{}, fmt.Errorf("app: begin passkey registration: %w", err)
	}
	ceremony, err := a.passkeys.rp.BeginRegistration(pu)
	if err != nil {
		return PasskeyCeremony{}, fmt.Errorf("app: begin passkey registration: %w", err)
	}
	begun, err := a.passkeys.begin(ctx, domain.TokenPasskeyRegistration, user.ID, "", ceremony, a.clock.Now())
	if err != nil {
		return PasskeyCeremony{}, fmt.Errorf("app: begin passkey registration: %w", err)
	}
	return begun, nil
}

// FinishPasskeyRegistrationInput is the browser's answer to a passkey
// registration: the ceremony token, the credential (JSON) and the name
// the user gives the passkey (optional).
type FinishPasskeyRegistrationInput struct {
	Ceremony string
	Response []byte
	Name     string
}

// FinishPasskeyRegistration finishes the caller's passkey registration:
// it spends the ceremony token (an answer that does not verify spends it
// too), checks the authenticator's answer and stores the passkey, which
// from then on is a second factor of the caller and signs them in
// without a password.
//
// It returns ErrInvalidCeremony for a ceremony token that is unknown,
// spent, expired or the registration of another user,
// domain.ErrInvalidPasskey for an answer that does not verify (or a
// passkey registered already), ErrAAL2Required as
// BeginPasskeyRegistration does, and a *domain.ValidationError for a name
// over 100 characters.
func (a *Account) FinishPasskeyRegistration(ctx context.Context, c domain.Claims, in FinishPasskeyRegistrationInput) (PasskeyInfo, error) {
	if a.passkeys.rp == nil {
		return PasskeyInfo{}, ErrPasskeysOff
	}
	name := strings.TrimSpace(in.Name)
	if utf8.RuneCountInString(name) > maxPasskeyName {
		problems := &domain.ValidationError{}
		problems.Add("name", "too_long", fmt.Sprintf("name must be at most %d characters.", maxPasskeyName))
		return PasskeyInfo{}, problems
	}
	if name == "" {
		name = defaultPasskeyName
	}
	now := a.clock.Now()
	token, state, err := a.passkeys.spend(ctx, domain.TokenPasskeyRegistration, in.Ceremony, now)
	if errors.Is(err, ErrInvalidCeremony) || err == nil && token.UserID != c.Subject {
		return PasskeyInfo{}, ErrInvalidCeremony
	}
	if err != nil {
		return PasskeyInfo{}, fmt.Errorf("app: finish passkey registration: %w", err)
	}
	var stored domain.Passkey
	err = a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		if err := requireAAL2(ctx, tx, c); err != nil {
			return err
		}
		user, err := tx.Users.ByID(ctx, c.Subject)
		if err != nil {
			return err
		}
		pu, err := passkeyUser(ctx, tx, user)
		if err != nil {
			return err
		}
		p, err := a.passkeys.rp.FinishRegistration(pu, state.State, in.Response)
		if err != nil {
			return err
		}
		p.UserID, p.Name, p.CreatedAt = user.ID, name, now
		stored, err = tx.Passkeys.Create(ctx, p)
		if errors.Is(err, domain.ErrPasskeyExists) {
			return fmt.Errorf("%w: registered already", domain.ErrInvalidPasskey)
		}
		return err
	})
	switch {
	case errors.Is(err, ErrAAL2Required), errors.Is(err, domain.ErrInvalidPasskey):
		a.log.InfoContext(ctx, "passkey registration refused", "user_id", c.Subject, "reason", err.Error())
		return PasskeyInfo{}, err
	case errors.Is(err, domain.ErrNotFound):
		return PasskeyInfo{}, domain.ErrInvalidAccessToken // the user is gone
	case err != nil:
		return PasskeyInfo{}, fmt.Errorf("app: finish passkey registration: %w", err)
	}
	a.log.InfoContext(ctx, "passkey registered", "user_id", c.Subject, "passkey_id", stored.ID)
	return passkeyInfo(stored), nil
}

// Passkeys returns the caller's passkeys, oldest first.
func (a *Account) Passkeys(ctx context.Context, c domain.Claims) ([]PasskeyInfo, error) {
	user, err := a.users.named(ctx, c)
	if err != nil {
		return nil, err
	}
	all, err := a.stores.Passkeys.ByUser(ctx, user.ID)
	if err != nil {
		return nil, fmt.Errorf("app: list passkeys: %w", err)
	}
	infos := make([]PasskeyInfo, len(all))
	for i, p := range all {
		infos[i] = passkeyInfo(p)
	}
	return infos, nil
}

// DeletePasskey removes the caller's passkey with id. Since a passkey is
// a second factor, it needs an aal2 session (ErrAAL2Required) as
// disabling any second factor does. It returns domain.ErrNotFound when
// the caller has no such passkey.
func (a *Account) DeletePasskey(ctx context.Context, c domain.Claims, id domain.PasskeyID) error {
	if _, err := a.users.named(ctx, c); err != nil {
		return err
	}
	err := a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		all, err := tx.Passkeys.ByUser(ctx, c.Subject)
		if err != nil {
			return err
		}
		owned := false
		for _, p := range all {
			owned = owned || p.ID == id
		}
		if !owned {
			return domain.ErrNotFound
		}
		if err := requireAAL2(ctx, tx, c); err != nil {
			return err
		}
		return tx.Passkeys.Delete(ctx, id)
	})
	switch {
	case errors.Is(err, domain.ErrNotFound), errors.Is(err, ErrAAL2Required):
		return err
	case err != nil:
		return fmt.Errorf("app: delete passkey: %w", err)
	}
	a.log.InfoContext(ctx, "passkey deleted", "user_id", c.Subject, "passkey_id", id)
	return nil
}

// passkeyInfo returns what a user may see of p.
func passkeyInfo(p domain.Passkey) PasskeyInfo {
	return PasskeyInfo{ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt, LastUsedAt: p.LastUsedAt, BackedUp: p.BackedUp}
}

// PasskeysEnabled reports whether passkeys are configured; without a
// relying party every passkey flow returns ErrPasskeysOff.
func (a *Auth) PasskeysEnabled() bool { return a.passkeys.rp != nil }
