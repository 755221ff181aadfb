package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// Errors the HTTP edge raises itself, before a use case runs. They are
// mapped to problems by the same table as the domain's.
var (
	errMalformedRequest     = errors.New("httpapi: request body is not a JSON object")
	errNotText              = errors.New("httpapi: request body is not valid UTF-8")
	errDuplicateKey         = errors.New("httpapi: request body names a JSON member twice")
	errUnsupportedMediaType = errors.New("httpapi: request body is not application/json")
	errRequestTooLarge      = errors.New("httpapi: request body too large")
	errMissingToken         = errors.New("httpapi: no access token")
	errTokenInQuery         = errors.New("httpapi: access token in query string")
	errAdminKeyMissing      = errors.New("httpapi: no admin key")
	errAdminKeyInvalid      = errors.New("httpapi: wrong admin key")
	errCrossOrigin          = errors.New("httpapi: form posted from another origin")
	errCookieCrossOrigin    = errors.New("httpapi: cookie-mode request from an origin not allowed")
	errCSRFHeaderMissing    = errors.New("httpapi: cookie-mode request without the CSRF header")
	errUnknownMode          = errors.New("httpapi: unknown token mode")
	errInvalidRedirect      = errors.New("httpapi: redirect_to is not on the allow-list")
	// errWrongPassword is domain.ErrInvalidCredentials from a request that
	// sent a password and no email (a password change, an account
	// deletion), whose problem must not speak of an email.
	errWrongPassword = errors.New("httpapi: wrong password")
)

// problemTypePrefix makes a problem's code into its type URI. A URN names
// the problem without promising a page to read at some host.
const problemTypePrefix = "urn:gatehouse:problem:"

// realm names the protection space of access tokens in WWW-Authenticate
// challenges; adminRealm that of the admin key, a different credential.
const (
	realm      = "gatehouse"
	adminRealm = "gatehouse-admin"
)

// problem is an error as the API shows it (RFC 9457), before it is
// written. challenge, when set, goes out as WWW-Authenticate (RFC 6750);
// retryAfter, when positive, as Retry-After in seconds (RFC 9110).
type problem struct {
	status     int
	code       string
	title      string
	detail     string
	challenge  string
	retryAfter int64
	fields     []domain.FieldProblem
	mfa        *app.MFARequiredError // the challenge of mfa_required, for the body alone
}

// Challenges of the 401s that concern the access token.
const (
	challengeMissing = `Bearer realm="` + realm + `"`
	challengeInvalid = `Bearer realm="` + realm + `", error="invalid_token", error_description="The access token is invalid"`
	challengeExpired = `Bearer realm="` + realm + `", error="invalid_token", error_description="The access token expired"`
	challengeInQuery = `Bearer realm="` + realm + `", error="invalid_token", error_description="Access tokens are accepted only in the Authorization header"`
)

// Challenges of the 401s that concern the admin key.
const (
	challengeAdminMissing = `Bearer realm="` + adminRealm + `"`
	challengeAdminInvalid = `Bearer realm="` + adminRealm + `", error="invalid_token", error_description="The admin key is wrong"`
)

// The problem codes that code outside the table acts on: the error pages
// (writeErrorPage) and the authentication metrics (authOutcomes). Naming
// them once keeps those from drifting away from what the table answers.
const (
	codeInvalidToken        = "invalid_token"
	codeCrossOrigin         = "cross_origin_request"
	codeRateLimited         = "rate_limited"
	codeUnavailable         = "unavailable"
	codeInvalidCredentials  = "invalid_credentials"
	codeInvalidRefreshToken = "invalid_refresh_token"
	codeRefreshTokenReused  = "refresh_token_reused"
	codeMFARequired         = "mfa_required"
	codeInvalidMFAToken     = "invalid_mfa_token"
	codeInvalidMFACode      = "invalid_mfa_code"
	codeInvalidPasskey      = "invalid_passkey"
	codeInvalidCeremony     = "invalid_ceremony"
)

// problems is the one table from errors to problems. The first row whose
// match accepts the error wins; an error no row accepts is an internal
// error. The codes are part of the API contract (API.md): never change one.
// Pages use the same table for their status and log code, and show the
// problem as HTML (see writeErrorPage).
//
// invalid_token names two different failures, as API.md has it: a 401 with
// a challenge for a credential in the Authorization header (an access token
// or the admin key), and a 400 without one for a single-use token from an
// email, which is request data, not a credential.
var problems = []struct {
	match func(error) bool
	p     problem
}{
	{isA[*domain.ValidationError], problem{status: http.StatusBadRequest, code: "validation_failed",
		title: "Invalid request", detail: "Some fields of the request are invalid; see errors."}},
	{is(errUnknownMode), problem{status: http.StatusBadRequest, code: "invalid_mode",
		title: "Invalid mode", detail: "The mode query parameter must be json (the default) or cookie."}},
	{is(errMalformedRequest), problem{status: http.StatusBadRequest, code: "malformed_request",
		title: "Malformed request", detail: "The request body must be a JSON object."}},
	{is(errNotText), problem{status: http.StatusBadRequest, code: "malformed_request",
		title: "Malformed request", detail: "The request body must be valid UTF-8, and every \\u escape of a surrogate half of a pair."}},
	{is(errDuplicateKey), problem{status: http.StatusBadRequest, code: "malformed_request",
		title: "Malformed request", detail: "A JSON object in the request body names a member more than once."}},
	{is(errUnsupportedMediaType), problem{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
		title: "Unsupported media type", detail: "Send the request body as application/json."}},
	{is(errRequestTooLarge), problem{status: http.StatusRequestEntityTooLarge, code: "request_too_large",
		title: "Request too large", detail: "The request body must not exceed 64 KiB."}},
	{is(errInvalidRedirect), problem{status: http.StatusBadRequest, code: "invalid_redirect",
		title: "Redirect not allowed", detail: "redirect_to must be one of the client URLs this server is configured to send browsers back to."}},

	{is(errMissingToken), problem{status: http.StatusUnauthorized, code: codeInvalidToken,
		title: "Authentication required", detail: "Send an access token in the Authorization header: Bearer <token>.",
		challenge: challengeMissing}},
	{is(errTokenInQuery), problem{status: http.StatusUnauthorized, code: codeInvalidToken,
		title: "Access token in query string", detail: "Access tokens are accepted only in the Authorization header, never in the query string.",
		challenge: challengeInQuery}},
	{is(domain.ErrInvalidAccessToken), problem{status: http.StatusUnauthorized, code: codeInvalidToken,
		title: "Invalid access token", detail: "The access token is invalid.",
		challenge: challengeInvalid}},
	{is(domain.ErrAccessTokenExpired), problem{status: http.StatusUnauthorized, code: "token_expired",
		title: "Access token expired", detail: "The access token has expired; refresh it to get a new one.",
		challenge: challengeExpired}},
	{is(errAdminKeyMissing), problem{status: http.StatusUnauthorized, code: codeInvalidToken,
		title: "Admin key required", detail: "Send the admin API key in the Authorization header: Bearer <key>.",
		challenge: challengeAdminMissing}},
	{is(errAdminKeyInvalid), problem{status: http.StatusUnauthorized, code: codeInvalidToken,
		title: "Invalid admin key", detail: "The admin API key is wrong.",
		challenge: challengeAdminInvalid}},
	{is(domain.ErrInvalidToken), problem{status: http.StatusBadRequest, code: codeInvalidToken,
		title: "Invalid or expired token", detail: "The token is unknown, already used or expired; ask for a new email."}},

	{is(errWrongPassword), problem{status: http.StatusUnauthorized, code: codeInvalidCredentials,
		title: "Invalid credentials", detail: "The password is wrong."}},
	{is(domain.ErrInvalidCredentials), problem{status: http.StatusUnauthorized, code: codeInvalidCredentials,
		title: "Invalid credentials", detail: "The email or the password is wrong."}},
	{is(domain.ErrInvalidRefreshToken), problem{status: http.StatusUnauthorized, code: codeInvalidRefreshToken,
		title: "Invalid refresh token", detail: "The refresh token is unknown, expired or revoked; log in again."}},
	{is(domain.ErrRefreshTokenReused), problem{status: http.StatusUnauthorized, code: codeRefreshTokenReused,
		title: "Refresh token reused", detail: "The refresh token had already been used, so its session has been revoked; log in again."}},

	{isA[*app.MFARequiredError], problem{status: http.StatusUnauthorized, code: codeMFARequired,
		title: "Second factor required", detail: "The password is right; finish signing in with mfa_token and one of factors: a code from your authenticator app (or a recovery code) at /v1/auth/mfa/verify, or a passkey through /v1/auth/passkey/begin."}},
	{is(app.ErrInvalidMFAChallenge), problem{status: http.StatusUnauthorized, code: codeInvalidMFAToken,
		title: "Invalid MFA token", detail: "The MFA token is unknown, already used or expired; sign in again."}},
	{is(app.ErrInvalidMFACode), problem{status: http.StatusUnauthorized, code: codeInvalidMFACode,
		title: "Invalid code", detail: "The code is wrong or was used already; use the next code your authenticator app shows."}},
	{is(app.ErrAAL2Required), problem{status: http.StatusForbidden, code: "aal2_required",
		title: "Second factor required", detail: "This account has a second factor: sign in with it (aal2) to do this."}},
	{is(app.ErrFactorEnabled), problem{status: http.StatusConflict, code: "mfa_already_enabled",
		title: "Second factor enabled already", detail: "An authenticator app is enabled already; disable it first to enrol another."}},
	{is(app.ErrInvalidCeremony), problem{status: http.StatusUnauthorized, code: codeInvalidCeremony,
		title: "Invalid passkey ceremony", detail: "The ceremony token is unknown, already used or expired; begin again."}},
	{is(domain.ErrInvalidPasskey), problem{status: http.StatusBadRequest, code: codeInvalidPasskey,
		title: "Passkey refused", detail: "The passkey's answer does not verify for this site; begin again."}},
	{is(app.ErrPasskeysOff), problem{status: http.StatusNotFound, code: "not_found",
		title: "Not found", detail: "Passkeys are not configured."}},
	{is(app.ErrNoFactor), problem{status: http.StatusConflict, code: "mfa_not_enrolled",
		title: "No second factor", detail: "This account has no such second factor; enrol one first."}},

	{is(domain.ErrEmailTaken), problem{status: http.StatusConflict, code: "email_taken",
		title: "Email taken", detail: "An account with this email already exists."}},
	{is(app.ErrAlreadyRegistered), problem{status: http.StatusConflict, code: "already_registered",
		title: "Already registered", detail: "The bearer of this access token is already registered; only an anonymous user can register."}},
	{is(domain.ErrAlreadyVerified), problem{status: http.StatusConflict, code: "already_verified",
		title: "Already verified", detail: "The email address of this account is verified already."}},
	{is(app.ErrNoEmail), problem{status: http.StatusConflict, code: "no_email",
		title: "No email address", detail: "This account has no email address to verify; register it first."}},

	{isA[*domain.RateLimitedError], problem{status: http.StatusTooManyRequests, code: codeRateLimited,
		title: "Too many requests", detail: "Too many attempts; try again after the number of seconds in the Retry-After header."}},
	{is(errCrossOrigin), problem{status: http.StatusForbidden, code: codeCrossOrigin,
		title: "Cross-origin request", detail: "This form is accepted only from Gatehouse's own pages."}},
	{is(errCookieCrossOrigin), problem{status: http.StatusForbidden, code: codeCrossOrigin,
		title: "Cross-origin request", detail: "Cookie mode is accepted only from Gatehouse's own origin and those in GATEHOUSE_CORS_ORIGINS."}},
	{is(errCSRFHeaderMissing), problem{status: http.StatusForbidden, code: "csrf_header_missing",
		title: "CSRF header missing", detail: "A request in cookie mode must carry the X-Gatehouse-CSRF header."}},

	// This instance, or its database, cannot serve the request now; another
	// instance, or the same one a moment later, may. A request that ran out
	// of time waiting for the database or a password hash is one of them.
	{is(errDraining), problem{status: http.StatusServiceUnavailable, code: codeUnavailable,
		title: "Shutting down", detail: "This instance is shutting down; send requests to another one.",
		retryAfter: 1}},
	{is(errNotReady), problem{status: http.StatusServiceUnavailable, code: codeUnavailable,
		title: "Not ready", detail: "This instance cannot serve requests right now; send them to another one.",
		retryAfter: 1}},
	{unavailable, problem{status: http.StatusServiceUnavailable, code: codeUnavailable,
		title: "Service unavailable", detail: "The service cannot handle the request right now; try again after the number of seconds in the Retry-After header.",
		retryAfter: 1}},

	{is(domain.ErrNotFound), problem{status: http.StatusNotFound, code: "not_found",
		title: "Not found", detail: "The requested resource does not exist."}},
	{is(echo.ErrNotFound), problem{status: http.StatusNotFound, code: "not_found",
		title: "Not found", detail: "The requested resource does not exist."}},
	{is(echo.ErrMethodNotAllowed), problem{status: http.StatusMethodNotAllowed, code: "method_not_allowed",
		title: "Method not allowed", detail: "The resource does not support this method; the Allow header lists those it does."}},
}

// internalError is the problem of every error the table does not know. It
// says nothing about the cause, which is logged instead.
var internalError = problem{status: http.StatusInternalServerError, code: "internal_error",
	title: "Internal server error", detail: "The server failed to handle the request. Try again later; quote the X-Request-ID response header when reporting it."}

// problemFor returns the problem that answers err.
func problemFor(err error) problem {
	for _, row := range problems {
		if row.match(err) {
			p := row.p
			if v, ok := errors.AsType[*domain.ValidationError](err); ok {
				p.fields = v.Problems
			}
			if v, ok := errors.AsType[*domain.RateLimitedError](err); ok {
				p.retryAfter = retryAfterSeconds(v.RetryAfter)
			}
			if v, ok := errors.AsType[*app.MFARequiredError](err); ok {
				p.mfa = v
			}
			return p
		}
	}
	return internalError
}

// retryAfterSeconds is d in whole seconds, rounded up so that a client
// that waits that long is not refused again for the same reason (a
// request racing it, or a clock of another replica, may still differ by
// a moment), and at least 1.
func retryAfterSeconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second > 0 {
		s++
	}
	return max(1, s)
}

// unavailable matches the errors of a database that cannot be reached and
// of a request that ran out of time (see deadline).
func unavailable(err error) bool {
	return errors.Is(err, domain.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

// is matches errors that are target or wrap it.
func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

// isA matches errors of type E or that wrap one.
func isA[E error](err error) bool {
	_, ok := errors.AsType[E](err)
	return ok
}

// writeError sends p as the request's route shows errors: as an error page
// on a page, as a problem everywhere else.
func writeError(c echo.Context, p problem) {
	if isPage(c) {
		writeErrorPage(c, p)
		return
	}
	writeProblem(c, p)
}

// writeProblem sends p as application/problem+json, unless the handler has
// already started its response.
func writeProblem(c echo.Context, p problem) {
	if c.Response().Committed {
		return
	}
	setProblemHeaders(c.Response().Header(), p)
	body, err := json.Marshal(toProblemDTO(p))
	if err != nil { // a problemDTO always marshals; keep the status anyway
		body = nil
	}
	_ = c.Blob(p.status, "application/problem+json", body)
}

// setProblemHeaders sets the headers p asks for, whether it goes out as
// JSON or as a page.
func setProblemHeaders(h http.Header, p problem) {
	if p.challenge != "" {
		h.Set("WWW-Authenticate", p.challenge)
	}
	if p.retryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(p.retryAfter, 10))
	}
}
