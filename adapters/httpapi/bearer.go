package httpapi

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// requireBearer lets a request through only with a valid access token in
// its Authorization header, and leaves the token's claims for the handler
// (see claimsOf).
func (s *server) requireBearer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		claims, err := s.authenticate(c)
		if err != nil {
			return err
		}
		c.Set(keyClaims, claims)
		return next(c)
	}
}

// claimsOf returns the claims requireBearer verified.
func claimsOf(c echo.Context) domain.Claims {
	claims, _ := c.Get(keyClaims).(domain.Claims)
	return claims
}

// authenticate verifies the request's bearer token. It returns
// errMissingToken without an Authorization header,
// domain.ErrInvalidAccessToken when the header is not a single Bearer
// credential, and whatever app.Auth.Authenticate returns otherwise.
func (s *server) authenticate(c echo.Context) (domain.Claims, error) {
	token, err := bearerToken(c.Request().Header)
	if err != nil {
		return domain.Claims{}, err
	}
	return s.auth.Authenticate(c.Request().Context(), token)
}

// hasAuthorization reports whether the request carries credentials at all.
func hasAuthorization(h http.Header) bool {
	return len(h.Values("Authorization")) > 0
}

// bearerToken returns the token of the Authorization header, which must be
// the Bearer scheme (in any case, RFC 9110) and a token68 (RFC 6750).
// Tokens are taken from this header only, never from the query string or
// the body.
func bearerToken(h http.Header) (string, error) {
	token, present, ok := bearerCredential(h)
	switch {
	case !present:
		return "", errMissingToken
	case !ok || !isToken68(token):
		return "", domain.ErrInvalidAccessToken
	}
	return token, nil
}

// bearerCredential parses the Authorization header for both credentials
// that come in it, access tokens and the admin key, so that they agree on
// what a Bearer credential is: the one Authorization header, of the Bearer
// scheme (in any case, RFC 9110), and what follows the spaces after it.
// present is false without an Authorization header; ok is false for any
// other shape: two headers, another scheme, or nothing after it. What the
// credential itself may look like is for the caller to say.
func bearerCredential(h http.Header) (credential string, present, ok bool) {
	values := h.Values("Authorization")
	switch len(values) {
	case 0:
		return "", false, false
	case 1:
	default:
		return "", true, false
	}
	scheme, credential, found := strings.Cut(values[0], " ")
	credential = strings.TrimLeft(credential, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || credential == "" {
		return "", true, false
	}
	return credential, true, true
}

// isToken68 reports whether s is an RFC 9110 token68:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
// It runs on every authenticated request, over the whole token, hence the
// table.
func isToken68(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		if !token68Chars[body[i]] {
			return false
		}
	}
	return true
}

// token68Chars marks the bytes a token68 may have before its "="s.
var token68Chars = func() (t [256]bool) {
	for b := range t {
		switch c := byte(b); {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			t[b] = true
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
			t[b] = true
		}
	}
	return t
}()
