package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// secureCookie is the refresh cookie's name on a server reached over
// HTTPS.
const secureCookie = "__Host-gatehouse-refresh"

// cookieRequest builds a cookie-mode request to path, as the app's own
// page sends it: the CSRF header, and fetch metadata saying same-origin.
// A non-empty refresh cookie goes along.
func (h *harness) cookieRequest(path, body, cookie string) *http.Request {
	h.t.Helper()
	var req *http.Request
	if body == "" {
		req = h.request(http.MethodPost, path+"?mode=cookie", nil)
	} else {
		req = h.request(http.MethodPost, path+"?mode=cookie", strings.NewReader(body))
	}
	req.Header.Set("X-Gatehouse-CSRF", "1")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: secureCookie, Value: cookie})
	}
	return req
}

// refreshCookie returns the one cookie named name that r sets.
func refreshCookie(t *testing.T, r response, name string) *http.Cookie {
	t.Helper()
	var found []*http.Cookie
	for _, v := range r.header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(v)
		require.NoError(t, err)
		if c.Name == name {
			found = append(found, c)
		}
	}
	require.Len(t, found, 1, "one Set-Cookie named %s", name)
	return found[0]
}

// requireNoRefreshToken fails if the body of r has a refresh_token member.
func requireNoRefreshToken(t *testing.T, r response) {
	t.Helper()
	var body map[string]any
	require.NoError(t, json.Unmarshal(r.body, &body))
	require.NotContains(t, body, "refresh_token", "in cookie mode the body holds no refresh token")
}

func TestCookieModeKeepsTheRefreshTokenInAnHttpOnlyCookie(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	r := h.send(h.cookieRequest("/v1/auth/register", `{"email":"cookie@example.com","password":"`+password+`"}`, ""))
	reg := r.tokens(t, http.StatusCreated)
	requireNoRefreshToken(t, r)
	c := refreshCookie(t, r, secureCookie)
	assert.True(t, c.HttpOnly, "no script reads it")
	assert.True(t, c.Secure)
	assert.Equal(t, http.SameSiteStrictMode, c.SameSite)
	assert.Equal(t, "/", c.Path)
	assert.Empty(t, c.Domain, "the host alone, as __Host- demands")
	assert.Equal(t, int(refreshTTL.Seconds()), c.MaxAge, "as long as the session lives")
	session := h.session(reg.User.ID)
	assert.Equal(t, domain.HashToken(c.Value), session.TokenHash, "the cookie holds the session's refresh token")

	r = h.send(h.cookieRequest("/v1/auth/refresh", "", c.Value))
	refreshed := r.tokens(t, http.StatusOK)
	requireNoRefreshToken(t, r)
	next := refreshCookie(t, r, secureCookie)
	assert.NotEqual(t, c.Value, next.Value, "refresh rotates the cookie's token")
	assert.Equal(t, reg.User.ID, h.get("/v1/me", refreshed.AccessToken).user(t).ID)

	r = h.send(h.cookieRequest("/v1/auth/logout", "", next.Value))
	require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
	cleared := refreshCookie(t, r, secureCookie)
	assert.Equal(t, -1, cleared.MaxAge, "Max-Age=0: the browser forgets it")
	assert.Empty(t, cleared.Value)

	r = h.send(h.cookieRequest("/v1/auth/refresh", "", next.Value))
	r.requireProblem(t, http.StatusUnauthorized, "invalid_refresh_token")
	assert.Equal(t, -1, refreshCookie(t, r, secureCookie).MaxAge, "a refused cookie is cleared")
}

func TestCookieModeServesEveryTokenIssuingEndpoint(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.register("issuing@example.com")

	for path, body := range map[string]string{
		"/v1/auth/anonymous": "",
		"/v1/auth/login":     `{"email":"issuing@example.com","password":"` + password + `"}`,
	} {
		r := h.send(h.cookieRequest(path, body, ""))
		require.Less(t, r.status, 300, "%s: %s", path, r.body)
		requireNoRefreshToken(t, r)
		c := refreshCookie(t, r, secureCookie)
		assert.True(t, domain.WellFormedOpaqueToken(c.Value), path)
	}
}

func TestCookieModeRefreshWithoutACookieIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.send(h.cookieRequest("/v1/auth/refresh", "", ""))
	r.requireProblem(t, http.StatusUnauthorized, "invalid_refresh_token")

	r = h.send(h.cookieRequest("/v1/auth/logout", "", ""))
	assert.Equal(t, http.StatusNoContent, r.status, "logout without a cookie is a logout done")
}

func TestJSONModeNeverReadsTheCookie(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	reg := h.register("json@example.com")
	require.NotEmpty(t, reg.RefreshToken, "JSON mode answers as it always has")

	for _, path := range []string{"/v1/auth/refresh", "/v1/auth/logout"} {
		req := h.request(http.MethodPost, path, strings.NewReader(`{}`))
		req.AddCookie(&http.Cookie{Name: secureCookie, Value: reg.RefreshToken})
		req.Header.Set("X-Gatehouse-CSRF", "1")
		p := h.send(req).requireProblem(t, http.StatusBadRequest, "validation_failed")
		assert.Equal(t, []string{"refresh_token:required"}, p.fieldErrors(), path)
	}
	h.post("/v1/auth/refresh", `{"refresh_token":"`+reg.RefreshToken+`"}`).tokens(t, http.StatusOK)
}

func TestCookieModeRequiresTheCSRFHeader(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	reg := h.send(h.cookieRequest("/v1/auth/register", `{"email":"header@example.com","password":"`+password+`"}`, ""))
	token := refreshCookie(t, reg, secureCookie).Value

	for _, path := range []string{"/v1/auth/register", "/v1/auth/anonymous", "/v1/auth/login", "/v1/auth/refresh", "/v1/auth/logout"} {
		req := h.cookieRequest(path, "", token)
		req.Header.Del("X-Gatehouse-CSRF")
		r := h.send(req)
		r.requireProblem(t, http.StatusForbidden, "csrf_header_missing")
		assert.Empty(t, r.header.Values("Set-Cookie"), path)
	}
	assert.Equal(t, domain.HashToken(token), h.session(reg.tokensUser(t)).TokenHash, "the session neither rotated nor ended")
}

func TestCookieModeRefusesOtherOrigins(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *httpapi.Config) { c.CORSOrigins = []string{appOrigin} })
	reg := h.send(h.cookieRequest("/v1/auth/register", `{"email":"origin@example.com","password":"`+password+`"}`, ""))
	token := refreshCookie(t, reg, secureCookie).Value

	refused := []struct{ name, fetchSite, origin string }{
		{"another site", "cross-site", "https://evil.example"},
		{"a sibling origin not listed", "same-site", "https://other.example.com"},
		{"a listed origin's look-alike", "same-site", "https://app.example.com.evil.example"},
		{"an old browser on another origin", "", "https://evil.example"},
	}
	for _, tc := range refused {
		req := h.cookieRequest("/v1/auth/refresh", "", token)
		setFetchMetadata(req, tc.fetchSite, tc.origin)
		r := h.send(req)
		r.requireProblem(t, http.StatusForbidden, "cross_origin_request")
		assert.Empty(t, r.header.Values("Set-Cookie"), tc.name)
	}
	assert.Equal(t, domain.HashToken(token), h.session(reg.tokensUser(t)).TokenHash, "the session did not rotate")

	req := h.cookieRequest("/v1/auth/refresh", "", token)
	setFetchMetadata(req, "same-site", appOrigin)
	r := h.send(req)
	r.tokens(t, http.StatusOK)
	token = refreshCookie(t, r, secureCookie).Value

	req = h.cookieRequest("/v1/auth/refresh", "", token)
	setFetchMetadata(req, "", "") // not a browser: nothing ambient to forge
	h.send(req).tokens(t, http.StatusOK)
}

// setFetchMetadata sets Sec-Fetch-Site and Origin on req, or removes each
// that is "".
func setFetchMetadata(req *http.Request, fetchSite, origin string) {
	for name, v := range map[string]string{"Sec-Fetch-Site": fetchSite, "Origin": origin} {
		if v == "" {
			req.Header.Del(name)
		} else {
			req.Header.Set(name, v)
		}
	}
}

// tokensUser returns the ID of the user of a token response.
func (r response) tokensUser(t *testing.T) string {
	t.Helper()
	var tb tokenBody
	require.NoError(t, json.Unmarshal(r.body, &tb))
	require.NotEmpty(t, tb.User.ID)
	return tb.User.ID
}

func TestCookieModeFallsBackOnPlainHTTPLoopback(t *testing.T) {
	t.Parallel()
	for public, want := range map[string]struct {
		name   string
		secure bool
	}{
		"http://localhost:8080":    {"gatehouse-refresh", false},
		"http://127.0.0.1:8080":    {"gatehouse-refresh", false},
		"http://[::1]:8080":        {"gatehouse-refresh", false},
		"http://auth.example.com":  {secureCookie, true}, // refused by browsers over plain HTTP, as it should be
		"https://localhost:8443":   {secureCookie, true},
		"https://auth.example.com": {secureCookie, true},
	} {
		h := newHarness(t, func(c *httpapi.Config) { c.PublicURL = public })
		r := h.send(h.cookieRequest("/v1/auth/anonymous", "", ""))
		r.tokens(t, http.StatusCreated)
		c := refreshCookie(t, r, want.name)
		assert.Equal(t, want.secure, c.Secure, public)
		assert.True(t, c.HttpOnly, public)
		assert.Equal(t, http.SameSiteStrictMode, c.SameSite, public)
	}
}

func TestTokenModeMustBeKnown(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, query := range []string{"mode=Cookie", "mode=", "mode=cookie&mode=json"} {
		req := h.request(http.MethodPost, "/v1/auth/anonymous?"+query, nil)
		h.send(req).requireProblem(t, http.StatusBadRequest, "invalid_mode")
	}
	h.send(h.request(http.MethodPost, "/v1/auth/anonymous?mode=json", nil)).tokens(t, http.StatusCreated)
}
