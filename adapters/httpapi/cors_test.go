package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
)

// appOrigin is the origin of the browser app the CORS tests allow.
const appOrigin = "https://app.example.com"

func TestReadSettingsCORSOrigins(t *testing.T) {
	s, err := readSettings(map[string]string{
		"GATEHOUSE_CORS_ORIGINS": "https://App.Example.com:443, http://localhost:5173 https://admin.example.com/",
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"https://app.example.com", "http://localhost:5173", "https://admin.example.com"}, s.CORSOrigins,
		"each as a browser writes it in Origin")

	for _, bad := range []string{"*", "https://*.example.com", "https://app.example.com/app", "app.example.com",
		"ftp://app.example.com", "https://user@app.example.com", "https://app.example.com?x=1", "null"} {
		_, err := readSettings(map[string]string{"GATEHOUSE_CORS_ORIGINS": "https://ok.example.com," + bad})
		assert.ErrorContains(t, err, "GATEHOUSE_CORS_ORIGINS: \""+bad+"\" is not an origin", bad)
	}
}

// corsHarness is a harness whose CORS allows appOrigin.
func corsHarness(t *testing.T) *harness {
	return newHarness(t, func(c *httpapi.Config) { c.CORSOrigins = []string{appOrigin} })
}

// preflight sends the CORS preflight a browser sends before a cookie-mode
// refresh from origin. Preflights are CORS's, not operations of the API,
// so the document does not describe them and they skip h.send's checks.
func (h *harness) preflight(origin string) *http.Response {
	h.t.Helper()
	req := h.request(http.MethodOptions, "/v1/auth/refresh?mode=cookie", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", http.MethodPost)
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-gatehouse-csrf")
	res, err := h.srv.Client().Do(req)
	require.NoError(h.t, err)
	require.NoError(h.t, res.Body.Close())
	return res
}

func TestCORSPreflightAllowsListedOriginsWithCredentials(t *testing.T) {
	t.Parallel()
	h := corsHarness(t)

	res := h.preflight(appOrigin)
	assert.Equal(t, http.StatusNoContent, res.StatusCode)
	assert.Equal(t, appOrigin, res.Header.Get("Access-Control-Allow-Origin"), "the origin itself, never *")
	assert.Equal(t, "true", res.Header.Get("Access-Control-Allow-Credentials"))
	assert.Equal(t, "7200", res.Header.Get("Access-Control-Max-Age"), "browsers cache the answer")
	assert.Subset(t, strings.Split(res.Header.Get("Access-Control-Allow-Methods"), ","), []string{"GET", "POST", "DELETE"})
	allowed := strings.Split(strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")), ",")
	assert.Subset(t, allowed, []string{"authorization", "content-type", "x-gatehouse-csrf"})
	assert.Contains(t, res.Header.Values("Vary"), "Origin", "caches keep the answers of origins apart")
}

func TestCORSGivesOtherOriginsNothing(t *testing.T) {
	t.Parallel()
	h := corsHarness(t)

	for _, origin := range []string{"https://evil.example", "https://app.example.com.evil.example", "http://app.example.com", "null"} {
		res := h.preflight(origin)
		for _, name := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"} {
			assert.Empty(t, res.Header.Get(name), "%s of the preflight from %s", name, origin)
		}

		req := h.request(http.MethodGet, "/.well-known/jwks.json", nil)
		req.Header.Set("Origin", origin)
		r := h.send(req)
		require.Equal(t, http.StatusOK, r.status)
		assert.Empty(t, r.header.Get("Access-Control-Allow-Origin"), origin)
	}

	// Without GATEHOUSE_CORS_ORIGINS no origin is allowed.
	plain := newHarness(t)
	assert.Empty(t, plain.preflight(appOrigin).Header.Get("Access-Control-Allow-Origin"))
}

func TestCORSAnswersTheAppsRequests(t *testing.T) {
	t.Parallel()
	h := corsHarness(t)

	req := h.request(http.MethodPost, "/v1/auth/login", strings.NewReader(`{"email":"nobody@example.com","password":"wrong password"}`))
	req.Header.Set("Origin", appOrigin)
	r := h.send(req)
	r.requireProblem(t, http.StatusUnauthorized, "invalid_credentials")
	assert.Equal(t, appOrigin, r.header.Get("Access-Control-Allow-Origin"), "errors too, so the app can read the problem")
	assert.Equal(t, "true", r.header.Get("Access-Control-Allow-Credentials"))
	exposed := strings.Split(r.header.Get("Access-Control-Expose-Headers"), ",")
	assert.Subset(t, exposed, []string{"Retry-After", "WWW-Authenticate", "X-Request-ID"})
}

func TestCORSLeavesOutWhatIsNotForBrowserApps(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *httpapi.Config) {
		c.CORSOrigins = []string{appOrigin}
		c.AdminAPIKey = strings.Repeat("k", 40)
	})
	for _, path := range []string{"/v1/admin/users/u1", "/metrics", "/healthz", "/verify-email?token=x"} {
		req := h.request(http.MethodGet, path, nil)
		req.Header.Set("Origin", appOrigin)
		r := h.send(req)
		assert.Empty(t, r.header.Get("Access-Control-Allow-Origin"), path)
	}
}
