package verifier_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/client/verifier"
)

// problem is the body of a refusal.
type problem struct {
	Type   string `json:"type"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// serve sends a request with bearer (none when empty) through h.
func serve(t *testing.T, h http.Handler, bearer string) (*httptest.ResponseRecorder, problem) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/reports", nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var p problem
	if rec.Code != http.StatusOK {
		require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
		assert.Equal(t, rec.Code, p.Status)
		assert.Equal(t, "urn:gatehouse:problem:"+p.Code, p.Type)
	}
	return rec, p
}

// subject answers with the subject of the claims in the context.
var subject = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, ok := verifier.ClaimsFrom(r.Context())
	if !ok {
		http.Error(w, "no claims", http.StatusInternalServerError)
		return
	}
	_, _ = w.Write([]byte(c.Subject + " " + c.Tier))
})

func TestMiddlewarePutsTheClaimsInTheContext(t *testing.T) {
	g := newGatehouse(t)
	h := g.verifier().Middleware(subject)

	rec, _ := serve(t, h, g.sign(g.claims()))

	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "user-1 member", rec.Body.String())
}

func TestMiddlewareRefusesLikeGatehouse(t *testing.T) {
	g := newGatehouse(t)
	v := g.verifier()
	h := v.Middleware(subject)

	rec, p := serve(t, h, "")
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, "invalid_token", p.Code)
	assert.Equal(t, `Bearer realm="gatehouse"`, rec.Header().Get("WWW-Authenticate"))

	rec, p = serve(t, h, "not-a-token")
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, "invalid_token", p.Code)
	assert.Equal(t, `Bearer realm="gatehouse", error="invalid_token", error_description="The access token is invalid"`,
		rec.Header().Get("WWW-Authenticate"))

	expired := g.sign(g.claims())
	g.advance(time.Hour)
	rec, p = serve(t, h, expired)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, "token_expired", p.Code)
	assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`)

	rec, p = serve(t, g.verifier(func(c *verifier.Config) { c.JWKSURL = g.srv.URL + "/gone"; c.Realm = "reports" }).Middleware(subject), "x.y.z")
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "a token that does not parse needs no keys")
	assert.Equal(t, `Bearer realm="reports", error="invalid_token", error_description="The access token is invalid"`,
		rec.Header().Get("WWW-Authenticate"))
	assert.Equal(t, "invalid_token", p.Code)
}

func TestMiddlewareWithoutTheJWKSIsUnavailable(t *testing.T) {
	g := newGatehouse(t)
	g.down = true

	rec, p := serve(t, g.verifier().Middleware(subject), g.sign(g.claims()))

	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "unavailable", p.Code)
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
	assert.Empty(t, rec.Header().Get("WWW-Authenticate"), "the token is not at fault")
}

func TestRequireTier(t *testing.T) {
	g := newGatehouse(t)
	v := g.verifier()
	h := v.Middleware(v.RequireTier("member")(subject))
	free := g.claims()
	free["tier"] = "free"

	rec, _ := serve(t, h, g.sign(g.claims()))
	assert.Equal(t, http.StatusOK, rec.Code, "a member")

	rec, p := serve(t, h, g.sign(free))
	assert.Equal(t, http.StatusForbidden, rec.Code, "a free user")
	assert.Equal(t, "insufficient_tier", p.Code)
	assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="insufficient_scope"`)

	rec, p = serve(t, v.RequireTier("member")(subject), g.sign(g.claims()))
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "without Middleware in front there are no claims")
	assert.Equal(t, "invalid_token", p.Code)
}

func TestRequireAAL2(t *testing.T) {
	g := newGatehouse(t)
	v := g.verifier()
	h := v.Middleware(v.RequireAAL2()(subject))
	strong := g.claims()
	strong["aal"], strong["amr"] = "aal2", []string{"pwd", "otp"}

	rec, _ := serve(t, h, g.sign(strong))
	assert.Equal(t, http.StatusOK, rec.Code)

	rec, p := serve(t, h, g.sign(g.claims()))
	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Equal(t, "aal2_required", p.Code, "Gatehouse's own code for it")
}
