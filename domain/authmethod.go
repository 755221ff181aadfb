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
	AuthPassword = AuthMethod{"pwd"}
)

var authMethods = []AuthMethod{AuthPassword}

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
