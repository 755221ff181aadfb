package httpapi_test

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
)

// behindProxy trusts the loopback proxy, so tests can give requests
// distinct client IPs with X-Forwarded-For.
func behindProxy(c *httpapi.Config) {
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
}

// from sends a JSON POST as the client at ip.
func (h *harness) from(ip, path, body string) response {
	h.t.Helper()
	req := h.request(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("X-Forwarded-For", ip)
	return h.send(req)
}

// requireRateLimited fails unless r is a 429 rate_limited problem, and
// returns its Retry-After.
func requireRateLimited(t *testing.T, r response) int {
	t.Helper()
	r.requireProblem(t, http.StatusTooManyRequests, "rate_limited")
	after, err := strconv.Atoi(r.header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After %q is whole seconds", r.header.Get("Retry-After"))
	require.GreaterOrEqual(t, after, 1)
	return after
}

func TestLoginIsRateLimitedPerAccountAndClient(t *testing.T) {
	t.Parallel()
	h := newHarness(t, behindProxy)
	h.register("ada@example.com")
	const wrong = `{"email":"ada@example.com","password":"wrong password here"}`
	const right = `{"email":"ada@example.com","password":"` + password + `"}`

	for i := range 10 {
		h.from("203.0.113.1", "/v1/auth/login", wrong).requireProblem(t, http.StatusUnauthorized, "invalid_credentials")
		if i == 0 {
			h.clock.Advance(time.Minute) // the window opened a minute before the 11th attempt
		}
	}
	res := h.from("203.0.113.1", "/v1/auth/login", wrong)

	after := requireRateLimited(t, res)
	assert.Equal(t, 14*60, after, "the rest of the 15-minute window, in seconds")
	requireRateLimited(t, h.from("203.0.113.1", "/v1/auth/login", right)) // even the right password waits
	h.from("203.0.113.2", "/v1/auth/login", wrong).requireProblem(t, http.StatusUnauthorized, "invalid_credentials")
	h.from("203.0.113.2", "/v1/auth/login", right).tokens(t, http.StatusOK)

	h.clock.Advance(time.Duration(after) * time.Second)
	h.from("203.0.113.1", "/v1/auth/login", right).tokens(t, http.StatusOK)
}

func TestRetryAfterIsRoundedUp(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const wrong = `{"email":"ada@example.com","password":"wrong password here"}`

	for range 10 {
		h.post("/v1/auth/login", wrong).requireProblem(t, http.StatusUnauthorized, "invalid_credentials")
	}
	h.clock.Advance(15*time.Minute - 1500*time.Millisecond)
	assert.Equal(t, 2, requireRateLimited(t, h.post("/v1/auth/login", wrong)), "1.5 s left: 2")
	h.clock.Advance(1499 * time.Millisecond)
	assert.Equal(t, 1, requireRateLimited(t, h.post("/v1/auth/login", wrong)), "1 ms left: 1, never 0")
}

func TestForgotPasswordIsRateLimitedPerClient(t *testing.T) {
	t.Parallel()
	h := newHarness(t, behindProxy)

	for i := range 10 {
		res := h.from("203.0.113.1", "/v1/auth/password/forgot", `{"email":"user`+strconv.Itoa(i)+`@example.com"}`)
		require.Equal(t, http.StatusAccepted, res.status, "body: %s", res.body)
	}
	requireRateLimited(t, h.from("203.0.113.1", "/v1/auth/password/forgot", `{"email":"other@example.com"}`))
	assert.Equal(t, http.StatusAccepted, h.from("203.0.113.2", "/v1/auth/password/forgot", `{"email":"other@example.com"}`).status)
}

func TestAnonymousAndRegisterAreRateLimitedPerClient(t *testing.T) {
	t.Parallel()
	h := newHarness(t, behindProxy)

	for range 20 {
		h.from("203.0.113.1", "/v1/auth/anonymous", `{}`).tokens(t, http.StatusCreated)
	}
	requireRateLimited(t, h.from("203.0.113.1", "/v1/auth/anonymous", `{}`))
	h.from("203.0.113.2", "/v1/auth/anonymous", `{}`).tokens(t, http.StatusCreated)

	for i := range 20 {
		h.from("203.0.113.3", "/v1/auth/register", `{"email":"u`+strconv.Itoa(i)+`@example.com","password":"`+password+`"}`).
			tokens(t, http.StatusCreated)
	}
	requireRateLimited(t, h.from("203.0.113.3", "/v1/auth/register", `{"email":"late@example.com","password":"`+password+`"}`))
}

func TestResendVerificationIsRateLimited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")

	for range 5 {
		require.Equal(t, http.StatusAccepted, h.call(http.MethodPost, "/v1/auth/verify-email/resend", ada.AccessToken, "").status)
	}
	requireRateLimited(t, h.call(http.MethodPost, "/v1/auth/verify-email/resend", ada.AccessToken, ""))
}

func TestPasswordChecksOfASignedInUserAreRateLimited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	const wrongChange = `{"current_password":"wrong password here","new_password":"a whole new passphrase"}`

	for range 10 {
		h.call(http.MethodPost, "/v1/auth/password/change", ada.AccessToken, wrongChange).
			requireProblem(t, http.StatusUnauthorized, "invalid_credentials")
	}
	requireRateLimited(t, h.call(http.MethodPost, "/v1/auth/password/change", ada.AccessToken, wrongChange))
	requireRateLimited(t, h.call(http.MethodDelete, "/v1/me", ada.AccessToken, `{"password":"`+password+`"}`))
}
