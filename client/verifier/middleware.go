package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// contextKey is the type of the request-context key of the Claims.
type contextKey struct{}

// ClaimsFrom returns the claims Middleware put in ctx, or false when it
// put none (the request did not pass through it).
func ClaimsFrom(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(contextKey{}).(*Claims)
	return c, ok
}

// WithClaims returns a copy of ctx that carries c, as Middleware makes it:
// for middleware of other frameworks, and for handlers' unit tests.
func WithClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, contextKey{}, c)
}

// Middleware admits a request only with a valid access token in its
// Authorization header (Bearer), and hands it to next with the token's
// Claims in its context (see ClaimsFrom). Otherwise it answers 401
// invalid_token or token_expired, with a WWW-Authenticate challenge
// (RFC 6750), or 503 unavailable when the JWKS cannot be had.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearer(r)
		if !ok {
			v.refuse(w, refusalMissing)
			return
		}
		c, err := v.Verify(r.Context(), token)
		if err != nil {
			v.refuse(w, refusalFor(err))
			return
		}
		next.ServeHTTP(w, r.WithContext(WithClaims(r.Context(), c)))
	})
}

// RequireTier returns middleware that admits a request whose claims are
// of tier or above (see Claims.AtLeast), and answers 403
// insufficient_tier otherwise. It goes after Middleware, which put the
// claims there; a request without claims is refused with 401.
func (v *Verifier) RequireTier(tier string) func(http.Handler) http.Handler {
	return v.require(func(c *Claims) *refusal {
		if c.AtLeast(tier) {
			return nil
		}
		return &refusal{status: http.StatusForbidden, code: "insufficient_tier", title: "Tier too low",
			detail:    "This needs an account of tier " + tier + " or above.",
			challenge: `error="insufficient_scope", error_description="This needs tier ` + tier + ` or above"`}
	})
}

// RequireAAL2 returns middleware that admits a request whose claims are
// aal2 (a sign-in with a second factor), and answers 403 aal2_required,
// Gatehouse's own code, otherwise. It goes after Middleware.
func (v *Verifier) RequireAAL2() func(http.Handler) http.Handler {
	return v.require(func(c *Claims) *refusal {
		if c.AAL == "aal2" {
			return nil
		}
		return &refusal{status: http.StatusForbidden, code: "aal2_required", title: "Second factor required",
			detail: "Sign in with your second factor (aal2) to do this."}
	})
}

// require returns middleware that refuses what check refuses.
func (v *Verifier) require(check func(*Claims) *refusal) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, ok := ClaimsFrom(r.Context())
			if !ok {
				v.refuse(w, refusalMissing)
				return
			}
			if no := check(c); no != nil {
				v.refuse(w, no)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// bearer returns the token of an Authorization: Bearer header.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}

// refusal is a problem the middleware answers with. challenge is the part
// of WWW-Authenticate after the realm; empty for none.
type refusal struct {
	status                  int
	code, title, detail     string
	challenge               string
	noChallenge, retryLater bool
}

var (
	refusalMissing = &refusal{status: http.StatusUnauthorized, code: "invalid_token", title: "Authentication required",
		detail: "Send an access token in the Authorization header: Bearer <token>."}
	refusalInvalid = &refusal{status: http.StatusUnauthorized, code: "invalid_token", title: "Invalid access token",
		detail: "The access token is invalid.", challenge: `error="invalid_token", error_description="The access token is invalid"`}
	refusalExpired = &refusal{status: http.StatusUnauthorized, code: "token_expired", title: "Access token expired",
		detail:    "The access token has expired; refresh it to get a new one.",
		challenge: `error="invalid_token", error_description="The access token expired"`}
	refusalUnavailable = &refusal{status: http.StatusServiceUnavailable, code: "unavailable", title: "Service unavailable",
		detail: "The keys that verify access tokens cannot be fetched right now; try again.", noChallenge: true, retryLater: true}
)

// refusalFor returns the refusal of an error of Verify.
func refusalFor(err error) *refusal {
	switch {
	case errors.Is(err, ErrTokenExpired):
		return refusalExpired
	case errors.Is(err, ErrKeysUnavailable):
		return refusalUnavailable
	}
	return refusalInvalid
}

// refuse writes r as an RFC 9457 problem, shaped as Gatehouse's.
func (v *Verifier) refuse(w http.ResponseWriter, r *refusal) {
	h := w.Header()
	if !r.noChallenge {
		challenge := `Bearer realm="` + v.realm + `"`
		if r.challenge != "" {
			challenge += ", " + r.challenge
		}
		h.Set("WWW-Authenticate", challenge)
	}
	if r.retryLater {
		h.Set("Retry-After", "1")
	}
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(r.status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "urn:gatehouse:problem:" + r.code, "title": r.title, "status": r.status,
		"detail": r.detail, "code": r.code,
	})
}
