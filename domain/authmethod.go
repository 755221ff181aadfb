package domain

import "fmt"

// AuthMethod is one way a user proved who they are when a session started,
// named as in the amr claim of RFC 8176. A session records the methods it
// was started with, so that access tokens can say how strong the sign-in
// was. Its zero value is invalid.
type AuthMethod struct{ name string }

// The methods a session can record. An anonymous session records none: its
// user proved nothing.
var (
	// AuthPassword is a password: something the user knows.
	AuthPassword = AuthMethod{"pwd"}
	// AuthOTP is a one-time code from an authenticator app (TOTP):
	// something the user has.
	AuthOTP = AuthMethod{"otp"}
	// AuthRecoveryCode is one of the recovery codes a user keeps for when
	// the authenticator is lost: something the user has, written down.
	// RFC 8176 names no such method; "recovery" is Gatehouse's own.
	AuthRecoveryCode = AuthMethod{"recovery"}
	// AuthHardwareKey is a passkey (a WebAuthn credential): proof of
	// possession of a key that never leaves the authenticator.
	AuthHardwareKey = AuthMethod{"hwk"}
	// AuthMultiFactor says that the authenticator behind another method
	// verified the user itself (a PIN or a biometric, WebAuthn's UV flag),
	// so that method alone proved something the user knows or is as well
	// as something the user has.
	AuthMultiFactor = AuthMethod{"mfa"}
)

var authMethods = []AuthMethod{AuthPassword, AuthOTP, AuthRecoveryCode, AuthHardwareKey, AuthMultiFactor}

// ParseAuthMethod returns the method named s, or ErrInvalidAuthMethod.
func ParseAuthMethod(s string) (AuthMethod, error) {
	for _, m := range authMethods {
		if m.name == s {
			return m, nil
		}
	}
	return AuthMethod{}, fmt.Errorf("%w: %q", ErrInvalidAuthMethod, s)
}

// String returns the method's amr name, as stored.
func (m AuthMethod) String() string { return m.name }

// AAL is an authenticator assurance level (NIST SP 800-63B), as the aal
// claim of an access token names it.
type AAL string

// The levels a session reaches.
const (
	// AAL1 is a sign-in with one factor, or none (an anonymous user).
	AAL1 AAL = "aal1"
	// AAL2 is a sign-in with two factors of different kinds: something
	// the user knows and something the user has.
	AAL2 AAL = "aal2"
)

// AssuranceOf returns the level that a sign-in with methods reaches: AAL2
// when they hold something the user knows or is (a password, or an
// authenticator's own user verification, mfa) and a possession factor (a
// one-time code, a recovery code or a passkey), AAL1 otherwise. So a
// passkey whose authenticator verified the user ([hwk, mfa]) is aal2 on
// its own, and one after a password ([pwd, hwk]) is too.
func AssuranceOf(methods []AuthMethod) AAL {
	var knows, has bool
	for _, m := range methods {
		switch m {
		case AuthPassword, AuthMultiFactor:
			knows = true
		case AuthOTP, AuthRecoveryCode, AuthHardwareKey:
			has = true
		}
	}
	if knows && has {
		return AAL2
	}
	return AAL1
}

// WithMethod returns methods with m added at the end, unless they hold it
// already; methods itself is never changed.
func WithMethod(methods []AuthMethod, m AuthMethod) []AuthMethod {
	for _, have := range methods {
		if have == m {
			return methods
		}
	}
	return append(methods[:len(methods):len(methods)], m)
}
