package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

func TestMeAnswersTheBearersUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	anon := h.post("/v1/auth/anonymous", `{}`).tokens(t, http.StatusCreated)

	res := h.get("/v1/me", ada.AccessToken)

	assert.Equal(t, "application/json", res.header.Get("Content-Type"))
	assert.Equal(t, "no-store", res.header.Get("Cache-Control"))
	me := res.user(t)
	assert.Equal(t, ada.User, me)
	assert.Regexp(t, rfc3339UTC, me.CreatedAt)

	res = h.get("/v1/me", anon.AccessToken)
	assert.Nil(t, res.user(t).Email)
	assert.Contains(t, string(res.body), `"email":null`)
	assert.Contains(t, string(res.body), `"tier":"anonymous"`)
}

func TestMeAcceptsTheSchemeInAnyCase(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")

	req := h.request(http.MethodGet, "/v1/me", nil)
	req.Header.Set("Authorization", "bEaReR "+ada.AccessToken)

	assert.Equal(t, ada.User, h.send(req).user(t))
}

func TestMeWithoutATokenIsChallenged(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	res := h.get("/v1/me", "")

	res.requireProblem(t, http.StatusUnauthorized, "invalid_token")
	assert.Equal(t, `Bearer realm="gatehouse"`, res.header.Get("WWW-Authenticate"))
}

func TestMeWithABadTokenIsChallenged(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")

	tests := []struct{ name, authorization string }{
		{"unknown token", "Bearer at-forged"},
		{"another scheme", "Basic " + ada.AccessToken},
		{"no space", "Bearer" + ada.AccessToken},
		{"not a token68", "Bearer " + ada.AccessToken + " extra"},
		{"empty", "Bearer "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := h.request(http.MethodGet, "/v1/me", nil)
			req.Header.Set("Authorization", tt.authorization)
			res := h.send(req)
			res.requireProblem(t, http.StatusUnauthorized, "invalid_token")
			assert.Regexp(t, `^Bearer realm="gatehouse", error="invalid_token", error_description="[^"]+"$`, res.header.Get("WWW-Authenticate"))
		})
	}

	t.Run("two headers", func(t *testing.T) {
		req := h.request(http.MethodGet, "/v1/me", nil)
		req.Header.Add("Authorization", "Bearer "+ada.AccessToken)
		req.Header.Add("Authorization", "Bearer "+ada.AccessToken)
		h.send(req).requireProblem(t, http.StatusUnauthorized, "invalid_token")
	})
}

func TestMeWithAnExpiredTokenSaysSo(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")

	h.clock.Advance(accessTTL - 1)
	require.Equal(t, http.StatusOK, h.get("/v1/me", ada.AccessToken).status)
	h.clock.Advance(1)
	res := h.get("/v1/me", ada.AccessToken)

	res.requireProblem(t, http.StatusUnauthorized, "token_expired")
	assert.Regexp(t, `^Bearer realm="gatehouse", error="invalid_token", error_description="[^"]*expired[^"]*"$`, res.header.Get("WWW-Authenticate"))
}

func TestMeOfADeletedUserIsAnInvalidToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	require.NoError(t, h.store.Stores().Users.Delete(context.Background(), domain.UserID(ada.User.ID)))

	res := h.get("/v1/me", ada.AccessToken)

	res.requireProblem(t, http.StatusUnauthorized, "invalid_token")
	assert.Contains(t, res.header.Get("WWW-Authenticate"), `error="invalid_token"`)
}
