package domain

import (
	"context"
	"fmt"
	"time"
)

// FactorID identifies a second factor. It is opaque outside the store that
// assigns it.
type FactorID string

// FactorKind says what kind of second factor a Factor is. Its zero value
// is invalid.
type FactorKind struct{ name string }

// The kinds of second factor.
var (
	// FactorTOTP is an authenticator app's time-based one-time codes
	// (RFC 6238).
	FactorTOTP = FactorKind{"totp"}
	// FactorPasskey is a passkey (WebAuthn). Passkeys live in the
	// PasskeyStore, not in the FactorStore, so ParseFactorKind does not
	// accept the name; it names them where the kinds of a user's second
	// factors are listed (an MFA challenge's factors).
	FactorPasskey = FactorKind{"passkey"}
)

var factorKinds = []FactorKind{FactorTOTP}

// ParseFactorKind returns the kind named s, or ErrInvalidFactorKind.
func ParseFactorKind(s string) (FactorKind, error) {
	for _, k := range factorKinds {
		if k.name == s {
			return k, nil
		}
	}
	return FactorKind{}, fmt.Errorf("%w: %q", ErrInvalidFactorKind, s)
}

// String returns the kind's name, as stored and as the API shows it.
func (k FactorKind) String() string { return k.name }

// Factor is a user's second factor. A factor is enrolled unverified and
// counts only once the user has proved it works (VerifiedAt set).
type Factor struct {
	ID     FactorID
	UserID UserID
	Kind   FactorKind
	// Secret is the factor's secret (the TOTP key) sealed by a SecretBox;
	// the plaintext is never stored.
	Secret []byte
	// LastStep is the latest TOTP time step whose code was accepted: a
	// code of that step or an earlier one is a replay. 0 before any.
	LastStep   int64
	CreatedAt  time.Time
	VerifiedAt time.Time // zero while unverified
}

// Verified reports whether the factor has been proved to work.
func (f Factor) Verified() bool { return !f.VerifiedAt.IsZero() }

// FactorStore keeps users' second factors, at most one of each kind per
// user.
type FactorStore interface {
	// Create stores f and returns it with its new ID. The caller sets
	// CreatedAt. It returns ErrFactorExists when the user has a factor of
	// f.Kind already, ErrNotFound when f.UserID names no user, and
	// ErrInvalidFactorKind when f.Kind is not valid.
	Create(ctx context.Context, f Factor) (Factor, error)
	// ByUser returns the user's factors, verified or not, oldest first;
	// none is not an error.
	ByUser(ctx context.Context, id UserID) ([]Factor, error)
	// AcceptStep records that a code of TOTP time step step was accepted
	// for the factor with id, and marks the factor verified at now if it
	// was not, provided step is later than its LastStep. Of concurrent
	// calls with one step exactly one succeeds. It returns ErrCodeReplayed
	// when step is not later than LastStep, and ErrNotFound when there is
	// no such factor.
	AcceptStep(ctx context.Context, id FactorID, step int64, now time.Time) error
	// Delete removes the factor with id. It returns ErrNotFound when there
	// is no such factor.
	Delete(ctx context.Context, id FactorID) error
	// DeleteByUser removes every factor of the user and returns how many
	// it removed.
	DeleteByUser(ctx context.Context, id UserID) (int, error)
}

// SecretBox seals secrets that the service must read back later (TOTP
// keys) under a key of its own, so that a copy of the database alone does
// not yield them.
type SecretBox interface {
	// Seal encrypts and authenticates plaintext.
	Seal(plaintext []byte) ([]byte, error)
	// Open returns the plaintext that Seal sealed, or an error for
	// anything else (tampered, or sealed under another key).
	Open(sealed []byte) ([]byte, error)
}

// TOTPEnrolment is what a user needs to add a new TOTP factor to an
// authenticator app.
type TOTPEnrolment struct {
	Secret []byte // the key, to seal and store
	// Text is the key as an app takes it typed in (base32), URI the
	// otpauth:// URI that carries it with the account's name, and QRCode
	// that URI as an image (a data: URI) for the app's camera.
	Text, URI, QRCode string
}

// TOTP makes and checks the time-based one-time codes of authenticator
// apps: RFC 6238 with SHA-1, 6 digits and 30-second steps.
type TOTP interface {
	// Enrol makes a new key for the account (the user's email).
	Enrol(account string) (TOTPEnrolment, error)
	// Match returns the time step whose code, under secret, is code,
	// trying the step of now and one either side of it (clocks drift), or
	// ok false when none matches.
	Match(secret []byte, code string, now time.Time) (step int64, ok bool)
}
