// Package webauthn runs the WebAuthn ceremonies of passkeys (registering
// one, signing in with one) with github.com/go-webauthn/webauthn: the
// checks of challenge, origin, relying party ID, flags and signatures. It
// implements domain.Passkeys and keeps nothing: the ceremony's state goes
// back to the caller as JSON, to store until the ceremony finishes.
package webauthn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// ceremonyTimeout is how long the browser is told a ceremony may take,
// and what the library enforces: the ceremony token's lifetime.
var ceremonyTimeout = domain.TokenPasskeySignIn.TTL()

// RelyingParty implements domain.Passkeys for one relying party.
type RelyingParty struct{ w *webauthn.WebAuthn }

var _ domain.Passkeys = (*RelyingParty)(nil)

// New returns the relying party of s, which must be Enabled.
func New(s Settings) (*RelyingParty, error) {
	timeout := webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTimeout, TimeoutUVD: ceremonyTimeout}
	w, err := webauthn.New(&webauthn.Config{
		RPID: s.RPID, RPDisplayName: s.RPName, RPOrigins: s.Origins,
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts:              webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("webauthn: %w", err)
	}
	return &RelyingParty{w: w}, nil
}

// BeginRegistration asks for a discoverable credential (so that it can
// sign in without a password), with user verification preferred and no
// attestation, excluding the user's passkeys.
func (rp *RelyingParty) BeginRegistration(user domain.PasskeyUser) (domain.Ceremony, error) {
	u := webUser{user}
	required := true
	creation, session, err := rp.w.BeginRegistration(u,
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			RequireResidentKey: &required, ResidentKey: protocol.ResidentKeyRequirementRequired,
			UserVerification: protocol.VerificationPreferred,
		}),
		webauthn.WithExclusions(webauthn.Credentials(u.WebAuthnCredentials()).CredentialDescriptors()),
	)
	if err != nil {
		return domain.Ceremony{}, fmt.Errorf("webauthn: begin registration: %w", err)
	}
	return ceremony("begin registration", creation, session)
}

// FinishRegistration checks the attestation response against the state.
func (rp *RelyingParty) FinishRegistration(user domain.PasskeyUser, state, response []byte) (domain.Passkey, error) {
	const op = "finish registration"
	session, err := sessionOf(op, state)
	if err != nil {
		return domain.Passkey{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return domain.Passkey{}, refused(op, err)
	}
	cred, err := rp.w.CreateCredential(webUser{user}, session, parsed)
	if err != nil {
		return domain.Passkey{}, refused(op, err)
	}
	transports := make([]string, len(cred.Transport))
	for i, t := range cred.Transport {
		transports[i] = string(t)
	}
	return domain.Passkey{
		UserID: user.ID, CredentialID: cred.ID, PublicKey: cred.PublicKey,
		SignCount: cred.Authenticator.SignCount, AAGUID: cred.Authenticator.AAGUID, Transports: transports,
		BackupEligible: cred.Flags.BackupEligible, BackedUp: cred.Flags.BackupState,
	}, nil
}

// BeginSignIn allows only the user's passkeys and prefers, but does not
// require, user verification: the password came first.
func (rp *RelyingParty) BeginSignIn(user domain.PasskeyUser) (domain.Ceremony, error) {
	assertion, session, err := rp.w.BeginLogin(webUser{user}, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return domain.Ceremony{}, fmt.Errorf("webauthn: begin sign-in: %w", err)
	}
	return ceremony("begin sign-in", assertion, session)
}

// BeginPasswordless allows any discoverable passkey and requires user
// verification: the passkey is then both factors.
func (rp *RelyingParty) BeginPasswordless() (domain.Ceremony, error) {
	assertion, session, err := rp.w.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return domain.Ceremony{}, fmt.Errorf("webauthn: begin passwordless sign-in: %w", err)
	}
	return ceremony("begin passwordless sign-in", assertion, session)
}

// FinishSignIn checks the assertion against the state and the passkeys
// of the user it is for: the one the state names, or, for a passwordless
// sign-in, the one the passkey's user handle names.
func (rp *RelyingParty) FinishSignIn(state, response []byte, owner func(domain.UserID) (domain.PasskeyUser, error)) (domain.PasskeyAssertion, error) {
	const op = "finish sign-in"
	session, err := sessionOf(op, state)
	if err != nil {
		return domain.PasskeyAssertion{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return domain.PasskeyAssertion{}, refused(op, err)
	}
	id := session.UserID
	if len(id) == 0 {
		id = parsed.Response.UserHandle
	}
	if len(id) == 0 {
		return domain.PasskeyAssertion{}, refused(op, errors.New("no user handle"))
	}
	user, err := owner(domain.UserID(id))
	if err != nil {
		return domain.PasskeyAssertion{}, err
	}
	u := webUser{user}
	if len(session.UserID) > 0 {
		_, err = rp.w.ValidateLogin(u, session, parsed)
	} else {
		_, _, err = rp.w.ValidatePasskeyLogin(func(_, _ []byte) (webauthn.User, error) { return u, nil }, session, parsed)
	}
	if err != nil {
		return domain.PasskeyAssertion{}, refused(op, err)
	}
	flags := parsed.Response.AuthenticatorData.Flags
	if session.UserVerification == protocol.VerificationRequired && !flags.HasUserVerified() {
		return domain.PasskeyAssertion{}, refused(op, errors.New("the user was not verified")) // the library checks this too
	}
	for _, p := range user.Passkeys {
		if bytes.Equal(p.CredentialID, parsed.RawID) {
			p.SignCount, p.BackedUp = parsed.Response.AuthenticatorData.Counter, flags.HasBackupState()
			return domain.PasskeyAssertion{Passkey: p, UserVerified: flags.HasUserVerified()}, nil
		}
	}
	return domain.PasskeyAssertion{}, refused(op, errors.New("not one of the user's passkeys"))
}

// ceremony returns options (what the browser takes) and session (what
// finishing takes) as JSON.
func ceremony(op string, options any, session *webauthn.SessionData) (domain.Ceremony, error) {
	o, err := json.Marshal(options)
	if err != nil {
		return domain.Ceremony{}, fmt.Errorf("webauthn: %s: encode options: %w", op, err)
	}
	s, err := json.Marshal(session)
	if err != nil {
		return domain.Ceremony{}, fmt.Errorf("webauthn: %s: encode state: %w", op, err)
	}
	return domain.Ceremony{Options: o, State: s}, nil
}

// sessionOf decodes the state of a ceremony that op finishes.
func sessionOf(op string, state []byte) (webauthn.SessionData, error) {
	var session webauthn.SessionData
	if err := json.Unmarshal(state, &session); err != nil {
		return webauthn.SessionData{}, fmt.Errorf("webauthn: %s: decode state: %w", op, err)
	}
	return session, nil
}

// refused wraps why op refused a response in domain.ErrInvalidPasskey,
// with the library's detail, which names the check that failed and holds
// no secret.
func refused(op string, err error) error {
	var perr *protocol.Error
	if errors.As(err, &perr) && perr.DevInfo != "" {
		return fmt.Errorf("webauthn: %s: %w: %s (%s)", op, domain.ErrInvalidPasskey, perr.Details, perr.DevInfo)
	}
	return fmt.Errorf("webauthn: %s: %w: %v", op, domain.ErrInvalidPasskey, err)
}

// webUser is a domain.PasskeyUser as the library sees a user. Its
// WebAuthn user handle is the user's ID, which says nothing about them.
type webUser struct{ domain.PasskeyUser }

// WebAuthnID returns the user handle: the user's ID.
func (u webUser) WebAuthnID() []byte { return []byte(u.ID) }

// WebAuthnName returns the account name authenticators show: the email.
func (u webUser) WebAuthnName() string { return u.Name }

// WebAuthnDisplayName returns the name authenticators show beside it:
// the email too, since Gatehouse keeps no other name.
func (u webUser) WebAuthnDisplayName() string { return u.Name }

// WebAuthnCredentials returns the user's passkeys as the library's
// credential records.
func (u webUser) WebAuthnCredentials() []webauthn.Credential {
	creds := make([]webauthn.Credential, len(u.Passkeys))
	for i, p := range u.Passkeys {
		transports := make([]protocol.AuthenticatorTransport, len(p.Transports))
		for j, t := range p.Transports {
			transports[j] = protocol.AuthenticatorTransport(t)
		}
		creds[i] = webauthn.Credential{
			ID: p.CredentialID, PublicKey: p.PublicKey, AttestationType: "none", Transport: transports,
			Flags:         webauthn.CredentialFlags{UserPresent: true, BackupEligible: p.BackupEligible, BackupState: p.BackedUp},
			Authenticator: webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount},
		}
	}
	return creds
}
