package httpapi_test

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
)

func TestOpenAPIDocumentIsValid31(t *testing.T) {
	t.Parallel()
	d := loadDocument(t) // loads and validates, or fails

	assert.Equal(t, "3.1.0", d.doc.OpenAPI)
	assert.True(t, d.doc.IsOpenAPI31OrLater())
}

func TestServedOpenAPIDocumentIsTheFile(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	file, err := os.ReadFile("openapi.json")
	require.NoError(t, err)

	res := h.get("/openapi.json", "")

	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "application/json", res.header.Get("Content-Type"))
	assert.Equal(t, string(file), string(res.body))
}

func TestEveryDocumentedOperationIsServed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdminKey)
	d := loadDocument(t)

	n := 0
	for path, item := range d.doc.Paths.Map() {
		for method := range item.Operations() {
			n++
			var body *strings.Reader
			if method != http.MethodGet {
				body = strings.NewReader(`{}`)
			}
			req := h.request(method, path, nil)
			if body != nil {
				req = h.request(method, path, body)
			}
			res := h.send(req)
			assert.NotContains(t, []int{http.StatusNotFound, http.StatusMethodNotAllowed}, res.status,
				"%s %s is documented but not served", method, path)
		}
	}
	assert.Equal(t, 40, n, "operations in openapi.json")
}

// TestDocumentCatchesDrift proves the validation every test runs can fail:
// responses that break the document in one way each are rejected.
func TestDocumentCatchesDrift(t *testing.T) {
	t.Parallel()
	d := loadDocument(t)
	user := `{"id":"u1","email":"ada@example.com","email_verified":false,"tier":"free","created_at":"2026-11-26T09:00:00Z"}`
	tokens := func(user string) string {
		return `{"access_token":"at-1","token_type":"Bearer","expires_in":900,"refresh_token":"` +
			strings.Repeat("A", 43) + `","user":` + user + `}`
	}
	jsonHeaders := http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}
	problemHeaders := http.Header{"Content-Type": {"application/problem+json"}}
	problem := func(status, code string) string {
		return `{"type":"urn:gatehouse:problem:` + code + `","title":"t","status":` + status + `,"detail":"d","code":"` + code + `"}`
	}
	limited := func(retryAfter string) http.Header {
		return http.Header{"Content-Type": {"application/problem+json"}, "Retry-After": {retryAfter}}
	}
	session := `{"id":"s1","created_at":"2026-11-26T09:00:00Z","last_used_at":"2026-11-26T09:00:00Z","user_agent":"ua","ip":"203.0.113.1","current":true}`
	const csp = "default-src 'none'; style-src 'sha256-AAAA+/=='; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	pageHeaders := func(csp, referrer string) http.Header {
		return http.Header{"Content-Type": {"text/html; charset=utf-8"}, "Cache-Control": {"no-store"},
			"Content-Security-Policy": {csp}, "Referrer-Policy": {referrer}}
	}
	adminChallenge := http.Header{"Content-Type": {"application/problem+json"}}
	adminChallenge.Set("WWW-Authenticate", `Bearer realm="gatehouse-admin"`)

	valid := []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
	}{
		{"token response", "POST", "/v1/auth/login", 200, jsonHeaders, tokens(user)},
		{"anonymous user", "POST", "/v1/auth/anonymous", 201, jsonHeaders, tokens(strings.Replace(user, `"ada@example.com"`, "null", 1))},
		{"problem", "POST", "/v1/auth/login", 401, problemHeaders, problem("401", "invalid_credentials")},
		{"rate limited", "POST", "/v1/auth/login", 429, limited("2"), problem("429", "rate_limited")},
		{"sessions", "GET", "/v1/me/sessions", 200, jsonHeaders, `{"sessions":[` + session + `]}`},
		{"no sessions", "GET", "/v1/me/sessions", 200, jsonHeaders, `{"sessions":[]}`},
		{"page", "GET", "/verify-email", 200, pageHeaders(csp, "no-referrer"), `<!DOCTYPE html>`},
		{"page error", "POST", "/reset-password", 403, pageHeaders(csp, "no-referrer"), `<!DOCTYPE html>`},
		{"admin 401", "GET", "/v1/admin/users/u1", 401, adminChallenge, problem("401", "invalid_token")},
		{"single-use token 400", "POST", "/v1/auth/verify-email", 400, problemHeaders, problem("400", "invalid_token")},
		{"redirect refused", "POST", "/v1/auth/verify-email/resend", 400, problemHeaders, problem("400", "invalid_redirect")},
		{"unavailable", "POST", "/v1/auth/refresh", 503, limited("1"), problem("503", "unavailable")},
		{"alive", "GET", "/healthz", 200, jsonHeaders, `{"status":"ok"}`},
		{"not ready", "GET", "/readyz", 503, http.Header{"Content-Type": {"application/problem+json"}, "Retry-After": {"1"}, "Cache-Control": {"no-store"}}, problem("503", "unavailable")},
		{"metrics", "GET", "/metrics", 200, http.Header{"Content-Type": {"text/plain; version=0.0.4; charset=utf-8"}, "Cache-Control": {"no-store"}}, "up 1\n"},
	}
	for _, tt := range valid {
		t.Run("accepts "+tt.name, func(t *testing.T) {
			req := &http.Request{Method: tt.method, URL: &url.URL{Path: tt.path}, Header: http.Header{}}
			assert.NoError(t, d.validateResponse(req, response{status: tt.status, header: tt.header, body: []byte(tt.body)}))
		})
	}

	invalid := []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
	}{
		{"email of the wrong type", "POST", "/v1/auth/login", 200, jsonHeaders, tokens(strings.Replace(user, `"ada@example.com"`, "42", 1))},
		{"missing email", "POST", "/v1/auth/login", 200, jsonHeaders, tokens(strings.Replace(user, `"email":"ada@example.com",`, "", 1))},
		{"undocumented user member", "POST", "/v1/auth/login", 200, jsonHeaders, tokens(strings.Replace(user, `}`, `,"password_hash":"x"}`, 1))},
		{"unknown tier", "POST", "/v1/auth/login", 200, jsonHeaders, tokens(strings.Replace(user, `"free"`, `"admin"`, 1))},
		{"short refresh token", "POST", "/v1/auth/login", 200, jsonHeaders, strings.Replace(tokens(user), strings.Repeat("A", 43), "AAAA", 1)},
		{"wrong token type", "POST", "/v1/auth/login", 200, jsonHeaders, strings.Replace(tokens(user), `"Bearer"`, `"bearer"`, 1)},
		{"token response without no-store", "POST", "/v1/auth/login", 200, http.Header{"Content-Type": {"application/json"}}, tokens(user)},
		{"undocumented status", "POST", "/v1/auth/login", 418, problemHeaders, problem("418", "internal_error")},
		{"problem as plain JSON", "POST", "/v1/auth/login", 401, jsonHeaders, problem("401", "invalid_credentials")},
		{"unknown problem code", "POST", "/v1/auth/login", 401, problemHeaders, problem("401", "nope")},
		{"problem without detail", "POST", "/v1/auth/login", 401, problemHeaders, strings.Replace(problem("401", "invalid_credentials"), `"detail":"d",`, "", 1)},
		{"bearer 401 without a challenge", "GET", "/v1/me", 401, problemHeaders, problem("401", "invalid_token")},
		{"jwks without keys", "GET", "/.well-known/jwks.json", 200, jsonHeaders, `{"key":[]}`},
		{"429 without Retry-After", "POST", "/v1/auth/login", 429, problemHeaders, problem("429", "rate_limited")},
		{"Retry-After of 0", "POST", "/v1/auth/login", 429, limited("0"), problem("429", "rate_limited")},
		{"Retry-After as a date", "POST", "/v1/auth/login", 429, limited("Wed, 21 Oct 2026 07:28:00 GMT"), problem("429", "rate_limited")},
		{"429 where nothing is limited", "POST", "/v1/auth/refresh", 429, limited("2"), problem("429", "rate_limited")},
		{"undocumented session member", "GET", "/v1/me/sessions", 200, jsonHeaders, `{"sessions":[` + strings.Replace(session, `}`, `,"token_hash":"x"}`, 1) + `]}`},
		{"session without current", "GET", "/v1/me/sessions", 200, jsonHeaders, `{"sessions":[` + strings.Replace(session, `,"current":true`, "", 1) + `]}`},
		{"sessions as a bare array", "GET", "/v1/me/sessions", 200, jsonHeaders, `[` + session + `]`},
		{"page with the API's CSP", "GET", "/verify-email", 200, pageHeaders("default-src 'none'; frame-ancestors 'none'", "no-referrer"), `<!DOCTYPE html>`},
		{"page allowing inline script", "GET", "/verify-email", 200, pageHeaders(strings.Replace(csp, "default-src 'none'", "default-src 'none'; script-src 'unsafe-inline'", 1), "no-referrer"), `x`},
		{"page with a referrer", "GET", "/reset-password", 200, pageHeaders(csp, "same-origin"), `<!DOCTYPE html>`},
		{"page as JSON", "GET", "/reset-password", 200, jsonHeaders, `{}`},
		{"admin 401 without a challenge", "GET", "/v1/admin/users/u1", 401, problemHeaders, problem("401", "invalid_token")},
		{"verified user as tokens", "POST", "/v1/auth/verify-email", 200, jsonHeaders, tokens(user)},
		{"202 where 204 is due", "POST", "/v1/auth/password/reset", 202, http.Header{}, ``},
		{"503 without Retry-After", "POST", "/v1/auth/refresh", 503, problemHeaders, problem("503", "unavailable")},
		{"liveness with more to say", "GET", "/healthz", 200, jsonHeaders, `{"status":"ok","database":"up"}`},
		{"readiness that may be cached", "GET", "/readyz", 200, http.Header{"Content-Type": {"application/json"}}, `{"status":"ready"}`},
		{"503 from the document itself", "GET", "/openapi.json", 503, limited("1"), problem("503", "unavailable")},
	}
	for _, tt := range invalid {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			req := &http.Request{Method: tt.method, URL: &url.URL{Path: tt.path}, Header: http.Header{}}
			assert.Error(t, d.validateResponse(req, response{status: tt.status, header: tt.header, body: []byte(tt.body)}))
		})
	}

	assert.Error(t, d.validateProblem([]byte(`{"type":"about:blank","title":"t","status":400,"detail":"d","code":"not_found"}`)))
	assert.NoError(t, d.validateProblem([]byte(problem("429", "rate_limited"))))
	assert.NoError(t, d.validateProblem([]byte(problem("404", "not_found"))))
}

func TestJWKSServesTheKeySet(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	res := h.get("/.well-known/jwks.json", "")

	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "application/json", res.header.Get("Content-Type"))
	assert.Equal(t, "public, max-age=60", res.header.Get("Cache-Control"))
	assert.JSONEq(t, testJWKS, string(res.body))
}

// keySetWithMaxAge is a fakeKeySet with a max-age of its own.
type keySetWithMaxAge struct {
	fakeKeySet
	maxAge time.Duration
}

func (k keySetWithMaxAge) MaxAge() time.Duration { return k.maxAge }

func TestJWKSMaxAgeIsTheKeySets(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *httpapi.Config) {
		c.KeySet = keySetWithMaxAge{fakeKeySet{set: []byte(testJWKS)}, 90*time.Second + 900*time.Millisecond}
	})

	res := h.get("/.well-known/jwks.json", "")

	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "public, max-age=90", res.header.Get("Cache-Control"),
		"the key set's max-age, rounded down: a verifier must never cache longer")
}
