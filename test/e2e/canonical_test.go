package e2e_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testCanonicalInput sends bodies whose bytes encoding/json would read in
// more than one way, and passwords in two Unicode forms, as raw bytes to
// the real server.
func testCanonicalInput(t *testing.T, c *client) {
	t.Run("invalid UTF-8 is refused before decoding", func(t *testing.T) {
		email, pw := newEmail("utf8"), newPassword()
		// Each invalid byte would have decoded to U+FFFD: the second body
		// would have logged in with the first one's password.
		c.post(t, "/v1/auth/register", `{"email":"`+email+`","password":"`+pw+"\xff\xff\xff"+`"}`).
			problem(t, http.StatusBadRequest, "malformed_request")
		c.post(t, "/v1/auth/login", `{"email":"`+email+`","password":"`+pw+"\xfe\xc0\x80"+`"}`).
			problem(t, http.StatusBadRequest, "malformed_request")
		c.post(t, "/v1/auth/register", `{"email":"ab`+"\xff"+`cd@example.com","password":"`+pw+`"}`).
			problem(t, http.StatusBadRequest, "malformed_request")
		c.post(t, "/v1/auth/register", `{"email":"`+email+`","password":"`+pw+`\ud800"}`).
			problem(t, http.StatusBadRequest, "malformed_request")
		// Nothing was stored under the replaced forms either.
		c.post(t, "/v1/auth/login", credentials(email, pw+"\ufffd\ufffd\ufffd")).
			problem(t, http.StatusUnauthorized, "invalid_credentials")
		c.post(t, "/v1/auth/login", credentials("ab\ufffdcd@example.com", pw)).
			problem(t, http.StatusUnauthorized, "invalid_credentials")
	})

	t.Run("duplicate members are refused", func(t *testing.T) {
		a, b, pw := newEmail("dup-a"), newEmail("dup-b"), newPassword()
		for _, body := range []string{
			`{"email":"` + a + `","email":"` + b + `","password":"` + pw + `"}`,
			`{"email":"` + a + `","password":"` + pw + `","password":"` + pw + `"}`,
			`{"email":"` + a + `","password":"` + pw + `","x":{"y":1,"y":2}}`,
		} {
			p := c.post(t, "/v1/auth/register", body).problem(t, http.StatusBadRequest, "malformed_request")
			assert.Contains(t, p.Detail, "more than once")
		}
		for _, email := range []string{a, b} {
			c.post(t, "/v1/auth/login", credentials(email, pw)).
				problem(t, http.StatusUnauthorized, "invalid_credentials")
		}
	})

	t.Run("email domains must be host names", func(t *testing.T) {
		pw := newPassword()
		for _, email := range []string{"a@[127.0.0.1]", "a@[IPv6:::1]", "a@127.0.0.1", "a@exa_mple.com"} {
			p := c.post(t, "/v1/auth/register", credentials(email, pw)).problem(t, http.StatusBadRequest, "validation_failed")
			assert.Equal(t, []string{"email:invalid_email"}, p.fieldErrors(), email)
			c.post(t, "/v1/auth/password/forgot", `{"email":"`+email+`"}`).problem(t, http.StatusBadRequest, "validation_failed")
		}
		c.post(t, "/v1/auth/login", credentials("a@[127.0.0.1]", pw)).
			problem(t, http.StatusUnauthorized, "invalid_credentials")
		c.register(t, "a-"+newEmail("idn")[:8]+"@xn--bcher-kva.example", pw)
	})

	t.Run("passwords are one password in either Unicode form", func(t *testing.T) {
		const composed, decomposed = "\u00e9t\u00e9 \u00e0 ", "e\u0301te\u0301 a\u0300 "
		suffix := newPassword()
		email := newEmail("nfc")
		c.register(t, email, composed+suffix)
		c.login(t, email, decomposed+suffix)

		other := newEmail("nfd")
		reg := c.register(t, other, decomposed+suffix)
		c.login(t, other, composed+suffix)

		// A change to a decomposed password logs in composed.
		newPW := decomposed + newPassword()
		change := `{"current_password":"` + composed + suffix + `","new_password":"` + newPW + `"}`
		req := withBearer(c.newRequest(t, http.MethodPost, "/v1/auth/password/change", change), reg.AccessToken)
		require.Equal(t, http.StatusNoContent, c.do(t, req).status)
		c.login(t, other, composed+newPW[len(decomposed):])

		// Four characters, eight code points as typed: too short.
		p := c.post(t, "/v1/auth/register", credentials(newEmail("nfc-short"), "e\u0301e\u0301e\u0301e\u0301")).
			problem(t, http.StatusBadRequest, "validation_failed")
		assert.Equal(t, []string{"password:too_short"}, p.fieldErrors())
	})

	t.Run("Strict-Transport-Security on an https public URL", func(t *testing.T) {
		require.Contains(t, publicURL, "https://")
		for _, r := range []response{
			c.get(t, "/healthz", ""),
			c.post(t, "/v1/auth/login", `{`),
			c.get(t, "/v1/me", ""),
		} {
			assert.Equal(t, "max-age=31536000", r.header.Get("Strict-Transport-Security"), "a %d", r.status)
		}
	})
}

// testPlainHTTPHasNoHSTS starts a server whose public URL is plain HTTP,
// as in local development: it must not send Strict-Transport-Security,
// which would lock browsers out of a host that has no HTTPS.
func testPlainHTTPHasNoHSTS(t *testing.T, b backend) {
	srv := startLinkedServer(t, b.database(t))
	require.Contains(t, srv.baseURL, "http://")
	c := newClient(t, srv)
	for _, r := range []response{
		c.get(t, "/healthz", ""),
		c.post(t, "/v1/auth/login", `{`),
	} {
		assert.Empty(t, r.header.Get("Strict-Transport-Security"), "a %d", r.status)
		assert.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"), "the other headers are there")
	}
}
