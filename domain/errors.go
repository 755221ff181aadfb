package domain

import (
	"errors"
	"fmt"
)

// Errors the ports return. Adapters translate their own failures into these,
// so use cases and the HTTP edge never see a driver's error type.
var (
	// ErrNotFound means the thing asked for does not exist (or, for a token
	// or session, is no longer usable).
	ErrNotFound = errors.New("not found")
	// ErrEmailTaken means another user already has that email, in any case.
	ErrEmailTaken = errors.New("email taken")
	// ErrInvalidTier means a string names no tier.
	ErrInvalidTier = errors.New("invalid tier")
	// ErrInvalidTokenKind means a string names no token kind.
	ErrInvalidTokenKind = errors.New("invalid token kind")
	// ErrInvalidAuthMethod means a string names no authentication method.
	ErrInvalidAuthMethod = errors.New("invalid authentication method")
	// ErrInvalidFactorKind means a string names no kind of second factor.
	ErrInvalidFactorKind = errors.New("invalid factor kind")
	// ErrFactorExists means the user has a second factor of that kind
	// already.
	ErrFactorExists = errors.New("factor exists")
	// ErrCodeReplayed means a one-time code of a time step that was
	// already used (or of an earlier one) was presented again.
	ErrCodeReplayed = errors.New("one-time code replayed")
	// ErrPasskeyExists means a passkey with that credential ID is stored
	// already.
	ErrPasskeyExists = errors.New("passkey exists")
	// ErrPasskeyCloned means a passkey's signature counter did not go
	// up: the authenticator may have been cloned, or another replica
	// accepted the same signature.
	ErrPasskeyCloned = errors.New("passkey signature counter did not increase")
	// ErrInvalidPasskey means an authenticator's response to a passkey
	// ceremony does not verify.
	ErrInvalidPasskey = errors.New("passkey response does not verify")
	// ErrInsideUnitOfWork means a standalone store (see Standalone) was
	// called inside a unit of work, which it never joins. Stores refuse
	// the call at once rather than wait for a connection the unit of work
	// may be holding.
	ErrInsideUnitOfWork = errors.New("standalone store used inside a unit of work")
)

// Errors of the authentication flows.
var (
	// ErrInvalidCredentials means the email or the password is wrong; which
	// one is never told.
	ErrInvalidCredentials = errors.New("invalid credentials")
	// ErrInvalidRefreshToken means a refresh token is unknown, expired or
	// belongs to a revoked session.
	ErrInvalidRefreshToken = errors.New("invalid refresh token")
	// ErrRefreshTokenReused means a refresh token that had already been
	// rotated away was presented again; its whole session is now revoked.
	ErrRefreshTokenReused = errors.New("refresh token reused")
	// ErrInvalidAccessToken means an access token is malformed, forged,
	// signed by an unknown key, or meant for another issuer or audience.
	ErrInvalidAccessToken = errors.New("invalid access token")
	// ErrAccessTokenExpired means an otherwise valid access token is past
	// its expiry.
	ErrAccessTokenExpired = errors.New("access token expired")
)

// Errors of the account lifecycle.
var (
	// ErrInvalidToken means a single-use token (email verification or
	// password reset) is unknown, already used, expired or of another kind.
	ErrInvalidToken = errors.New("invalid token")
	// ErrAlreadyVerified means the user's email is verified already.
	ErrAlreadyVerified = errors.New("email already verified")
)

// Errors of the infrastructure behind the ports.
var (
	// ErrUnavailable means that what backs a port (the database) could not
	// be reached or did not answer in time. Trying again later may succeed.
	// A read changed nothing; a write whose connection broke while it
	// committed may or may not have taken effect (see ErrOutcomeUnknown).
	ErrUnavailable = errors.New("unavailable")
	// ErrOutcomeUnknown is the ErrUnavailable of a statement that may
	// have reached the database before the answer was lost (the caller's
	// deadline passed, or the connection broke): a write may or may not
	// have taken effect, and may still take effect later. An error that
	// wraps it wraps ErrUnavailable too. A write refused before it was
	// sent, or rolled back by the database with a report (a server-side
	// timeout), is ErrUnavailable alone: it did not take effect.
	ErrOutcomeUnknown = fmt.Errorf("outcome unknown: %w", ErrUnavailable)
)
