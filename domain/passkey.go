package domain

import (
	"context"
	"time"
)

// PasskeyID identifies a passkey. It is opaque outside the store that
// assigns it.
type PasskeyID string

// Passkey is a WebAuthn credential a user registered: a key pair whose
// private half never leaves the authenticator, usable to sign in without
// a password or as the second factor after one. Nothing in it is secret;
// what it proves comes from the authenticator's signatures.
type Passkey struct {
	ID     PasskeyID
	UserID UserID
	// CredentialID is the authenticator's ID of the credential, unique
	// among all passkeys, and PublicKey its COSE public key.
	CredentialID []byte
	PublicKey    []byte
	// SignCount is the authenticator's signature counter as last seen: a
	// counter that does not go up is the sign of a cloned authenticator
	// (see PasskeyStore.RecordUse). Authenticators that keep no counter
	// always report 0.
	SignCount uint32
	// AAGUID names the authenticator's model (16 bytes, zero when the
	// authenticator does not say), and Transports how the browser
	// reached it ("internal", "usb", "hybrid", ...).
	AAGUID     []byte
	Transports []string
	// BackupEligible says whether the credential may be synced to other
	// devices, which never changes, and BackedUp whether it was at its
	// last use.
	BackupEligible bool
	BackedUp       bool
	Name           string // the user's label for it
	CreatedAt      time.Time
	LastUsedAt     time.Time // zero until its first sign-in
}

// PasskeyStore keeps users' passkeys.
type PasskeyStore interface {
	// Create stores p and returns it with its new ID. The caller sets
	// CreatedAt. It returns ErrPasskeyExists when a passkey with
	// p.CredentialID is stored already (for any user), and ErrNotFound
	// when p.UserID names no user. Transports read back in their order,
	// and as nil when there are none.
	Create(ctx context.Context, p Passkey) (Passkey, error)
	// ByUser returns the user's passkeys, oldest first; none is not an
	// error.
	ByUser(ctx context.Context, id UserID) ([]Passkey, error)
	// RecordUse records a sign-in with the passkey with id at now: it
	// sets its SignCount to signCount, BackedUp to backedUp and
	// LastUsedAt to now, provided signCount is greater than the stored
	// count, or both are 0 (an authenticator without a counter). Of
	// concurrent calls with one count exactly one succeeds, so two
	// replicas cannot both accept a cloned authenticator's signature. It
	// returns ErrPasskeyCloned when the count did not go up, and
	// ErrNotFound when there is no such passkey.
	RecordUse(ctx context.Context, id PasskeyID, signCount uint32, backedUp bool, now time.Time) error
	// Delete removes the passkey with id. It returns ErrNotFound when
	// there is no such passkey.
	Delete(ctx context.Context, id PasskeyID) error
	// DeleteByUser removes every passkey of the user and returns how many
	// it removed.
	DeleteByUser(ctx context.Context, id UserID) (int, error)
}

// PasskeyUser is a user as a passkey ceremony sees them.
type PasskeyUser struct {
	ID UserID
	// Name is what authenticators show the credential under: the
	// user's email.
	Name string
	// Passkeys are the user's registered passkeys: a registration
	// excludes them, a sign-in as the second factor accepts only them.
	Passkeys []Passkey
}

// Ceremony is the beginning of a WebAuthn ceremony: Options, JSON for the
// browser's navigator.credentials.create or get (the publicKey member and
// what goes with it), and State, opaque, which the relying party keeps
// until the ceremony finishes and must not let the client change.
type Ceremony struct {
	Options []byte
	State   []byte
}

// PasskeyAssertion is a sign-in a passkey's signature proved: the stored
// passkey that signed, with SignCount and BackedUp as the authenticator
// reports them now (to record with PasskeyStore.RecordUse), and whether
// the authenticator verified the user (a PIN or a biometric).
type PasskeyAssertion struct {
	Passkey      Passkey
	UserVerified bool
}

// Passkeys runs the WebAuthn ceremonies of a relying party: the checks
// of challenge, origin, relying party ID, flags and signatures. It keeps
// nothing; the caller stores a Ceremony's State and the passkeys.
type Passkeys interface {
	// BeginRegistration starts registering a new discoverable passkey
	// for user, excluding the ones they have.
	BeginRegistration(user PasskeyUser) (Ceremony, error)
	// FinishRegistration checks the authenticator's response (the
	// browser's credential as JSON) to the registration whose state is
	// state and returns the new passkey, without ID, Name or timestamps.
	// It returns ErrInvalidPasskey when the response does not verify
	// (another challenge, origin or relying party, a bad attestation).
	FinishRegistration(user PasskeyUser, state, response []byte) (Passkey, error)
	// BeginSignIn starts a sign-in with one of user's passkeys, as the
	// second factor: the authenticator need not verify the user.
	BeginSignIn(user PasskeyUser) (Ceremony, error)
	// BeginPasswordless starts a sign-in with a discoverable passkey of
	// any user, who must be verified by the authenticator.
	BeginPasswordless() (Ceremony, error)
	// FinishSignIn checks the authenticator's response (JSON) to the
	// sign-in whose state is state. It calls owner with the ID of the
	// user the sign-in is for (the one BeginSignIn named, or the one the
	// discoverable passkey names) and checks the response against that
	// user's passkeys. It returns ErrInvalidPasskey when the response
	// does not verify (another challenge, origin or relying party, a
	// passkey the user does not have, no user verification where it was
	// required, a bad signature), and owner's error as it is.
	FinishSignIn(state, response []byte, owner func(UserID) (PasskeyUser, error)) (PasskeyAssertion, error)
}
