package e2e_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testHTTPEdge: what the HTTP edge does with requests no handler should
// see, and the headers every answer carries.
func testHTTPEdge(t *testing.T, c *client) {
	valid := credentials(newEmail("edge"), newPassword())
	tooLarge := `{"email":"` + strings.Repeat("a", 65<<10) + `@example.com","password":"x"}`

	t.Run("not JSON", func(t *testing.T) {
		req := c.newRequest(t, http.MethodPost, "/v1/auth/login", valid)
		req.Header.Set("Content-Type", "text/plain")
		c.do(t, req).problem(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
	})
	t.Run("65 KiB body", func(t *testing.T) {
		c.post(t, "/v1/auth/register", tooLarge).problem(t, http.StatusRequestEntityTooLarge, "request_too_large")
	})
	t.Run("65 KiB body of unannounced length", func(t *testing.T) {
		req := c.newRequest(t, http.MethodPost, "/v1/auth/register", "{}")
		req.Body = io.NopCloser(strings.NewReader(tooLarge))
		req.ContentLength, req.GetBody = -1, nil // sent chunked
		c.do(t, req).problem(t, http.StatusRequestEntityTooLarge, "request_too_large")
	})
	t.Run("64 KiB body", func(t *testing.T) {
		// The limit itself is allowed: this one reaches the handler.
		body := credentials(strings.Repeat("a", 64<<10-len(credentials("@example.com", "pw-edge-limit")))+"@example.com", "pw-edge-limit")
		require.Len(t, body, 64<<10)
		c.post(t, "/v1/auth/login", body).problem(t, http.StatusUnauthorized, "invalid_credentials")
	})
	t.Run("broken JSON", func(t *testing.T) {
		c.post(t, "/v1/auth/login", `{`).problem(t, http.StatusBadRequest, "malformed_request")
	})
	t.Run("missing field", func(t *testing.T) {
		p := c.post(t, "/v1/auth/login", `{"email":"ada@example.com"}`).problem(t, http.StatusBadRequest, "validation_failed")
		assert.Equal(t, []string{"password:required"}, p.fieldErrors())
	})
	t.Run("unknown path", func(t *testing.T) {
		c.get(t, "/v1/no-such-thing", "").problem(t, http.StatusNotFound, "not_found")
	})
	t.Run("wrong method", func(t *testing.T) {
		r := c.get(t, "/v1/auth/login", "")
		r.problem(t, http.StatusMethodNotAllowed, "method_not_allowed")
		assert.Contains(t, r.header.Get("Allow"), http.MethodPost)
	})
	t.Run("security headers", func(t *testing.T) {
		for name, r := range map[string]response{
			"success": c.get(t, "/.well-known/jwks.json", ""),
			"error":   c.get(t, "/v1/me", ""),
		} {
			assert.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"), name)
			assert.Equal(t, "DENY", r.header.Get("X-Frame-Options"), name)
			assert.Equal(t, "no-referrer", r.header.Get("Referrer-Policy"), name)
			assert.Contains(t, r.header.Get("Content-Security-Policy"), "default-src 'none'", name)
			assert.NotEmpty(t, r.header.Get("X-Request-ID"), name)
		}
	})
	t.Run("request ID", func(t *testing.T) {
		req := c.newRequest(t, http.MethodGet, "/v1/no-such-thing", "")
		req.Header.Set("X-Request-ID", "e2e-request.1_A")
		assert.Equal(t, "e2e-request.1_A", c.do(t, req).header.Get("X-Request-ID"), "a sane ID is adopted")

		req = c.newRequest(t, http.MethodGet, "/v1/no-such-thing", "")
		req.Header.Set("X-Request-ID", "not sane!")
		got := c.do(t, req).header.Get("X-Request-ID")
		assert.NotEqual(t, "not sane!", got)
		assert.Regexp(t, `^[A-Za-z0-9._-]{1,128}$`, got, "an insane ID is replaced")
	})
	t.Run("OpenAPI document", func(t *testing.T) {
		r := c.get(t, "/openapi.json", "")
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, "application/json", r.header.Get("Content-Type"))
		var doc struct {
			OpenAPI string `json:"openapi"`
		}
		require.NoError(t, json.Unmarshal(r.body, &doc))
		assert.Regexp(t, `^3\.1\.\d+$`, doc.OpenAPI)
		assert.True(t, c.doc.IsOpenAPI31OrLater())
	})
}
