package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

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

func TestDeleteMeNeedsARegisteredUsersPassword(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")

	for _, body := range []string{`{"password":"wrong password here"}`, `{}`, ``, `{"password":null}`} {
		res := h.call(http.MethodDelete, "/v1/me", ada.AccessToken, body)
		p := res.requireProblem(t, http.StatusUnauthorized, "invalid_credentials")
		assert.Equal(t, "The password is wrong.", p.Detail, "no email was sent, so none is named")
		assert.Empty(t, res.header.Get("WWW-Authenticate"))
	}
	p := h.call(http.MethodDelete, "/v1/me", ada.AccessToken, `{"password":1}`).
		requireProblem(t, http.StatusBadRequest, "validation_failed")
	assert.Equal(t, []string{"password:invalid_type"}, p.fieldErrors())
	require.Equal(t, ada.User, h.get("/v1/me", ada.AccessToken).user(t), "still there")

	res := h.call(http.MethodDelete, "/v1/me", ada.AccessToken, `{"password":"`+password+`"}`)

	require.Equal(t, http.StatusNoContent, res.status, "body: %s", res.body)
	assert.Empty(t, res.body)
	h.get("/v1/me", ada.AccessToken).requireProblem(t, http.StatusUnauthorized, "invalid_token")
	h.post("/v1/auth/refresh", `{"refresh_token":"`+ada.RefreshToken+`"}`).
		requireProblem(t, http.StatusUnauthorized, "invalid_refresh_token")
	h.post("/v1/auth/login", `{"email":"ada@example.com","password":"`+password+`"}`).
		requireProblem(t, http.StatusUnauthorized, "invalid_credentials")
	again := h.register("ada@example.com")
	assert.NotEqual(t, ada.User.ID, again.User.ID, "the email may register again, as a new user")
}

func TestDeleteMeOfAnAnonymousUserNeedsNoBody(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	for _, body := range []string{``, `{}`} {
		anon := h.post("/v1/auth/anonymous", `{}`).tokens(t, http.StatusCreated)
		req := h.request(http.MethodDelete, "/v1/me", nil)
		if body != "" {
			req = h.request(http.MethodDelete, "/v1/me", strings.NewReader(body))
		}
		req.Header.Set("Authorization", "Bearer "+anon.AccessToken)
		res := h.send(req)
		require.Equal(t, http.StatusNoContent, res.status, "body %q: %s", body, res.body)
		h.get("/v1/me", anon.AccessToken).requireProblem(t, http.StatusUnauthorized, "invalid_token")
	}
	h.call(http.MethodDelete, "/v1/me", "", "").requireProblem(t, http.StatusUnauthorized, "invalid_token")
}

// sessionsBody is the answer of GET /v1/me/sessions.
type sessionsBody struct {
	Sessions []struct {
		ID         string `json:"id"`
		CreatedAt  string `json:"created_at"`
		LastUsedAt string `json:"last_used_at"`
		UserAgent  string `json:"user_agent"`
		IP         string `json:"ip"`
		Current    bool   `json:"current"`
	} `json:"sessions"`
}

func (h *harness) sessions(accessToken string) sessionsBody {
	h.t.Helper()
	res := h.get("/v1/me/sessions", accessToken)
	require.Equal(h.t, http.StatusOK, res.status, "body: %s", res.body)
	assert.Equal(h.t, "no-store", res.header.Get("Cache-Control"))
	var b sessionsBody
	require.NoError(h.t, json.Unmarshal(res.body, &b))
	return b
}

func TestSessionsListsTheBearersSessions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	h.clock.Advance(time.Minute)
	second := h.post("/v1/auth/login", `{"email":"ada@example.com","password":"`+password+`"}`).tokens(t, http.StatusOK)
	grace := h.register("grace@example.com")

	list := h.sessions(second.AccessToken)

	require.Len(t, list.Sessions, 2, "Ada's two, not Grace's")
	newest, oldest := list.Sessions[0], list.Sessions[1]
	assert.True(t, newest.Current)
	assert.False(t, oldest.Current)
	assert.Equal(t, "2026-11-26T09:01:00Z", newest.CreatedAt, "most recently used first")
	assert.Equal(t, "2026-11-26T09:00:00Z", oldest.CreatedAt)
	for _, s := range list.Sessions {
		assert.NotEmpty(t, s.ID)
		assert.Regexp(t, rfc3339UTC, s.LastUsedAt)
		assert.Equal(t, userAgent, s.UserAgent)
		assert.Equal(t, "127.0.0.1", s.IP)
	}
	assert.Equal(t, string(h.session(grace.User.ID).ID), h.sessions(grace.AccessToken).Sessions[0].ID)

	assert.True(t, h.sessions(ada.AccessToken).Sessions[1].Current, "current follows the token that asks")
}

func TestSessionsOfAUserWithNoneIsAnEmptyList(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	h.post("/v1/auth/logout", `{"refresh_token":"`+ada.RefreshToken+`"}`)

	res := h.get("/v1/me/sessions", ada.AccessToken)

	require.Equal(t, http.StatusOK, res.status)
	assert.JSONEq(t, `{"sessions":[]}`, string(res.body))
}

func TestRevokeSessionEndsOneOfTheBearers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	other := h.post("/v1/auth/login", `{"email":"ada@example.com","password":"`+password+`"}`).tokens(t, http.StatusOK)
	var otherID string
	for _, s := range h.sessions(ada.AccessToken).Sessions {
		if !s.Current {
			otherID = s.ID
		}
	}
	require.NotEmpty(t, otherID)

	// The id percent-encoded in full, as a client may send any id.
	res := h.call(http.MethodDelete, "/v1/me/sessions/"+percentEncoded(otherID), ada.AccessToken, "")

	require.Equal(t, http.StatusNoContent, res.status, "body: %s", res.body)
	h.post("/v1/auth/refresh", `{"refresh_token":"`+other.RefreshToken+`"}`).
		requireProblem(t, http.StatusUnauthorized, "invalid_refresh_token")
	h.post("/v1/auth/refresh", `{"refresh_token":"`+ada.RefreshToken+`"}`).tokens(t, http.StatusOK)
	assert.Len(t, h.sessions(ada.AccessToken).Sessions, 1)
}

func TestRevokeSessionOfAnotherUserIsNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	grace := h.register("grace@example.com")
	graceSession := string(h.session(grace.User.ID).ID)

	h.call(http.MethodDelete, "/v1/me/sessions/"+graceSession, ada.AccessToken, "").
		requireProblem(t, http.StatusNotFound, "not_found")
	h.call(http.MethodDelete, "/v1/me/sessions/no-such-session", ada.AccessToken, "").
		requireProblem(t, http.StatusNotFound, "not_found")
	h.call(http.MethodDelete, "/v1/me/sessions/a%2Fb", ada.AccessToken, "").
		requireProblem(t, http.StatusNotFound, "not_found")
	h.call(http.MethodDelete, "/v1/me/sessions/"+graceSession, "", "").
		requireProblem(t, http.StatusUnauthorized, "invalid_token")

	h.post("/v1/auth/refresh", `{"refresh_token":"`+grace.RefreshToken+`"}`).tokens(t, http.StatusOK)
}

// percentEncoded writes every byte of s as %XX.
func percentEncoded(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

func TestRevokeOtherSessionsKeepsOnlyTheCurrentOne(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	others := []tokenBody{
		h.post("/v1/auth/login", `{"email":"ada@example.com","password":"`+password+`"}`).tokens(t, http.StatusOK),
		h.post("/v1/auth/login", `{"email":"ada@example.com","password":"`+password+`"}`).tokens(t, http.StatusOK),
	}
	bob := h.register("bob@example.com")

	res := h.call(http.MethodPost, "/v1/me/sessions/revoke-others", ada.AccessToken, "")
	require.Equal(t, http.StatusNoContent, res.status, "body: %s", res.body)

	for _, o := range others {
		h.post("/v1/auth/refresh", `{"refresh_token":"`+o.RefreshToken+`"}`).
			requireProblem(t, http.StatusUnauthorized, "invalid_refresh_token")
	}
	sessions := h.sessions(ada.AccessToken).Sessions
	require.Len(t, sessions, 1)
	assert.True(t, sessions[0].Current, "the calling session stays")
	h.post("/v1/auth/refresh", `{"refresh_token":"`+ada.RefreshToken+`"}`).tokens(t, http.StatusOK)
	h.post("/v1/auth/refresh", `{"refresh_token":"`+bob.RefreshToken+`"}`).tokens(t, http.StatusOK) // another user's stay
}

func TestRevokeAllSessionsSignsOutEverywhere(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	other := h.post("/v1/auth/login", `{"email":"ada@example.com","password":"`+password+`"}`).tokens(t, http.StatusOK)
	bob := h.register("bob@example.com")

	res := h.call(http.MethodDelete, "/v1/me/sessions", ada.AccessToken, "")
	require.Equal(t, http.StatusNoContent, res.status, "body: %s", res.body)

	for _, tk := range []tokenBody{ada, other} {
		h.post("/v1/auth/refresh", `{"refresh_token":"`+tk.RefreshToken+`"}`).
			requireProblem(t, http.StatusUnauthorized, "invalid_refresh_token")
	}
	assert.Empty(t, h.sessions(ada.AccessToken).Sessions, "the access token still works until it expires, on no session")
	h.post("/v1/auth/refresh", `{"refresh_token":"`+bob.RefreshToken+`"}`).tokens(t, http.StatusOK)

	h.call(http.MethodDelete, "/v1/me/sessions", "", "").requireProblem(t, http.StatusUnauthorized, "invalid_token")
}
