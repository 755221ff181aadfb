package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
)

// TokenKind says what a single-use token proves. A token of one kind is
// never accepted as another. Its zero value is invalid.
type TokenKind struct{ name string }

// The kinds of single-use token.
var (
	TokenEmailVerification = TokenKind{"email_verification"}
	TokenPasswordReset     = TokenKind{"password_reset"}
	// TokenMFAChallenge is what a sign-in that still lacks its second
	// factor hands the client: it finishes that sign-in, with a code.
	TokenMFAChallenge = TokenKind{"mfa_challenge"}
	// TokenRecoveryCode is one of a user's recovery codes, each good for
	// one sign-in in place of a one-time code.
	TokenRecoveryCode = TokenKind{"recovery_code"}
	// TokenPasskeyRegistration is a passkey registration begun by a
	// signed-in user; its Data is the ceremony's state, which finishing
	// the registration needs.
	TokenPasskeyRegistration = TokenKind{"passkey_registration"}
	// TokenPasskeySignIn is a sign-in with a passkey begun without a
	// password (and without a user: it belongs to none until a passkey
	// answers it) or in answer to an MFA challenge; its Data is the
	// ceremony's state.
	TokenPasskeySignIn = TokenKind{"passkey_sign_in"}
)

var tokenKinds = []TokenKind{
	TokenEmailVerification, TokenPasswordReset, TokenMFAChallenge, TokenRecoveryCode,
	TokenPasskeyRegistration, TokenPasskeySignIn,
}

// ParseTokenKind returns the kind named s, or ErrInvalidTokenKind.
func ParseTokenKind(s string) (TokenKind, error) {
	for _, k := range tokenKinds {
		if k.name == s {
			return k, nil
		}
	}
	return TokenKind{}, fmt.Errorf("%w: %q", ErrInvalidTokenKind, s)
}

// String returns the kind's name as stored.
func (k TokenKind) String() string { return k.name }

// Valid reports whether k is one of the defined kinds.
func (k TokenKind) Valid() bool { return k != TokenKind{} }

// TTL returns how long a token of kind k stays usable after it is made:
// 24 hours to verify an email address, since the email may wait a while
// for its reader; 1 hour to reset a password, since the token is as good
// as the password and the person who asked for it is at the keyboard; 5
// minutes to finish a sign-in with a second factor, or a passkey's
// ceremony, which the person does at once; and 10 years for a recovery code, which lives as long
// as its factor in practice (they go together) and is kept on paper.
// It is the one source of these lifetimes, for the tokens and for
// whatever tells users about them. It returns 0 for an invalid kind.
func (k TokenKind) TTL() time.Duration {
	switch k {
	case TokenEmailVerification:
		return 24 * time.Hour
	case TokenPasswordReset:
		return time.Hour
	case TokenMFAChallenge, TokenPasskeyRegistration, TokenPasskeySignIn:
		return 5 * time.Minute
	case TokenRecoveryCode:
		return 10 * 365 * 24 * time.Hour
	}
	return 0
}

// Token is a single-use, expiring token such as an email-verification or a
// password-reset token. Only the hash of the secret is ever stored; the
// secret itself goes to the user and nowhere else.
type Token struct {
	ID string
	// UserID is the user the token belongs to; empty for a token of no
	// user (a passwordless passkey sign-in, before a passkey names one).
	UserID UserID
	Kind   TokenKind
	Hash   string // HashToken of the secret
	// Methods are, for an MFA challenge, how the user has authenticated so
	// far in the sign-in it finishes; nil for other kinds.
	Methods []AuthMethod
	// Data is what the token's flow must keep until it is consumed,
	// opaque to the store (a passkey ceremony's state); nil for most
	// kinds.
	Data      []byte
	ExpiresAt time.Time
	CreatedAt time.Time
}

// opaqueTokenBytes is the randomness in every opaque token: 256 bits.
const opaqueTokenBytes = 32

// NewOpaqueToken returns a fresh random token (32 bytes from crypto/rand,
// base64url without padding) and its hash for storage.
func NewOpaqueToken() (secret, hash string) {
	b := make([]byte, opaqueTokenBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error; it crashes the program instead
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, HashToken(secret)
}

// HashToken returns the SHA-256 of secret as 64 lower-case hex characters,
// the only form in which opaque tokens are stored.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// opaqueTokenLength is the length of every NewOpaqueToken secret.
var opaqueTokenLength = base64.RawURLEncoding.EncodedLen(opaqueTokenBytes)

// WellFormedOpaqueToken reports whether s could be a secret NewOpaqueToken
// made, so that garbage costs no database round trip.
func WellFormedOpaqueToken(s string) bool {
	if len(s) != opaqueTokenLength {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil
}
