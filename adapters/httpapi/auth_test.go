package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

func TestRegisterAnswersTokensForAFreeUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	res := h.post("/v1/auth/register", `{"email":"  Ada@Example.COM ","password":"`+password+`"}`)

	tb := res.tokens(t, http.StatusCreated)
	assert.NotEmpty(t, tb.AccessToken)
	assert.Equal(t, "Bearer", tb.TokenType)
	assert.Equal(t, 900, tb.ExpiresIn)
	assert.Len(t, tb.RefreshToken, 43)
	assert.NotEmpty(t, tb.User.ID)
	require.NotNil(t, tb.User.Email)
	assert.Equal(t, "ada@example.com", *tb.User.Email)
	assert.False(t, tb.User.EmailVerified)
	assert.Equal(t, "free", tb.User.Tier)
	assert.Equal(t, "2026-11-26T09:00:00Z", tb.User.CreatedAt)

	me := h.get("/v1/me", tb.AccessToken).user(t)
	assert.Equal(t, tb.User, me, "the access token names the new user")
}

func TestRegisterIgnoresFieldsAClientMayNotSet(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	res := h.post("/v1/auth/register", `{"email":"ada@example.com","password":"`+password+`",
		"tier":"member","id":"chosen-id","email_verified":true,"created_at":"2000-01-01T00:00:00Z"}`)

	tb := res.tokens(t, http.StatusCreated)
	assert.Equal(t, "free", tb.User.Tier)
	assert.NotEqual(t, "chosen-id", tb.User.ID)
	assert.False(t, tb.User.EmailVerified)
	assert.Equal(t, "2026-11-26T09:00:00Z", tb.User.CreatedAt)
}

func TestRegisterMatchesFieldNamesExactly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	// encoding/json would match "EMAIL" to an email field; the API must not.
	res := h.post("/v1/auth/register", `{"EMAIL":"ada@example.com","Password":"`+password+`"}`)

	p := res.requireProblem(t, http.StatusBadRequest, "validation_failed")
	assert.ElementsMatch(t, []string{"email:required", "password:required"}, p.fieldErrors())
}

func TestRegisterWithAnAnonymousTokenUpgradesThatUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	anon := h.post("/v1/auth/anonymous", `{}`).tokens(t, http.StatusCreated)

	req := h.request(http.MethodPost, "/v1/auth/register", strings.NewReader(`{"email":"ada@example.com","password":"`+password+`"}`))
	req.Header.Set("Authorization", "Bearer "+anon.AccessToken)
	tb := h.send(req).tokens(t, http.StatusCreated)

	assert.Equal(t, anon.User.ID, tb.User.ID, "upgraded in place")
	assert.Equal(t, "free", tb.User.Tier)
	require.NotNil(t, tb.User.Email)
	assert.Equal(t, "ada@example.com", *tb.User.Email)
	assert.NotEqual(t, anon.RefreshToken, tb.RefreshToken)
}

func TestRegisterWithARegisteredUsersTokenIsAConflict(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")

	req := h.request(http.MethodPost, "/v1/auth/register", strings.NewReader(`{"email":"grace@example.com","password":"`+password+`"}`))
	req.Header.Set("Authorization", "Bearer "+ada.AccessToken)
	h.send(req).requireProblem(t, http.StatusConflict, "already_registered")

	h.post("/v1/auth/login", `{"email":"grace@example.com","password":"`+password+`"}`).
		requireProblem(t, http.StatusUnauthorized, "invalid_credentials")
}

func TestRegisterRefusesABadBearerInsteadOfIgnoringIt(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	anon := h.post("/v1/auth/anonymous", ``).tokens(t, http.StatusCreated)
	h.clock.Advance(accessTTL)

	tests := []struct {
		name, authorization, code, challenge string
	}{
		{"unknown token", "Bearer at-forged", "invalid_token", `error="invalid_token"`},
		{"expired token", "Bearer " + anon.AccessToken, "token_expired", `error="invalid_token"`},
		{"another scheme", "Basic YWRhOnNlY3JldA==", "invalid_token", `error="invalid_token"`},
		{"no token", "Bearer ", "invalid_token", `error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := h.request(http.MethodPost, "/v1/auth/register", strings.NewReader(`{"email":"ada@example.com","password":"`+password+`"}`))
			req.Header.Set("Authorization", tt.authorization)
			res := h.send(req)
			res.requireProblem(t, http.StatusUnauthorized, tt.code)
			assert.Contains(t, res.header.Get("WWW-Authenticate"), tt.challenge)
		})
	}
	h.post("/v1/auth/login", `{"email":"ada@example.com","password":"`+password+`"}`).
		requireProblem(t, http.StatusUnauthorized, "invalid_credentials")
}

func TestRegisterWithATakenEmailIsAConflict(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.register("ada@example.com")

	res := h.post("/v1/auth/register", `{"email":"ADA@example.com","password":"another good passphrase"}`)

	res.requireProblem(t, http.StatusConflict, "email_taken")
}

func TestRegisterReportsEveryInvalidField(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	res := h.post("/v1/auth/register", `{"email":"not-an-email","password":"password123"}`)

	p := res.requireProblem(t, http.StatusBadRequest, "validation_failed")
	assert.ElementsMatch(t, []string{"email:invalid_email", "password:weak_password"}, p.fieldErrors())
	for _, e := range p.Errors {
		assert.NotEmpty(t, e.Message)
	}
}

func TestAnonymousAcceptsAnEmptyObjectOrNoBody(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	tests := []struct {
		name, contentType, body string
	}{
		{"empty object", "application/json", `{}`},
		{"object with ignored members", "application/json", `{"tier":"member","email":"ada@example.com"}`},
		{"empty body without a content type", "", ``},
		{"empty body declared as JSON", "application/json", ``},
	}
	ids := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := h.request(http.MethodPost, "/v1/auth/anonymous", strings.NewReader(tt.body))
			req.Header.Del("Content-Type")
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			tb := h.send(req).tokens(t, http.StatusCreated)
			assert.Nil(t, tb.User.Email)
			assert.Equal(t, "anonymous", tb.User.Tier)
			assert.False(t, ids[tb.User.ID], "a new user every time")
			ids[tb.User.ID] = true
		})
	}
}

func TestAnonymousWritesEmailAsNull(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	res := h.post("/v1/auth/anonymous", `{}`)

	require.Equal(t, http.StatusCreated, res.status)
	assert.Contains(t, string(res.body), `"email":null`)
}

func TestAnonymousRefusesABodyThatIsNotAnObject(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	h.post("/v1/auth/anonymous", `[]`).requireProblem(t, http.StatusBadRequest, "malformed_request")

	req := h.request(http.MethodPost, "/v1/auth/anonymous", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "text/plain")
	h.send(req).requireProblem(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
}

func TestLoginAnswersTokensForTheRightPassword(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")

	tb := h.post("/v1/auth/login", `{"email":"Ada@Example.com","password":"`+password+`"}`).tokens(t, http.StatusOK)

	assert.Equal(t, ada.User, tb.User)
	assert.NotEqual(t, ada.RefreshToken, tb.RefreshToken, "a new session")
	assert.Equal(t, "Bearer", tb.TokenType)
}

func TestLoginAnswersAlikeForAWrongPasswordAndAnUnknownEmail(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.register("ada@example.com")

	wrong := h.post("/v1/auth/login", `{"email":"ada@example.com","password":"wrong password here"}`)
	unknown := h.post("/v1/auth/login", `{"email":"nobody@example.com","password":"`+password+`"}`)

	wrong.requireProblem(t, http.StatusUnauthorized, "invalid_credentials")
	unknown.requireProblem(t, http.StatusUnauthorized, "invalid_credentials")
	assert.Equal(t, string(wrong.body), string(unknown.body))
}

func TestRefreshRotatesTheRefreshToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")

	tb := h.post("/v1/auth/refresh", `{"refresh_token":"`+ada.RefreshToken+`"}`).tokens(t, http.StatusOK)

	assert.NotEqual(t, ada.RefreshToken, tb.RefreshToken)
	assert.NotEqual(t, ada.AccessToken, tb.AccessToken)
	assert.Equal(t, ada.User, tb.User)
}

func TestRefreshWithASpentTokenRevokesTheSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	next := h.post("/v1/auth/refresh", `{"refresh_token":"`+ada.RefreshToken+`"}`).tokens(t, http.StatusOK)

	h.post("/v1/auth/refresh", `{"refresh_token":"`+ada.RefreshToken+`"}`).
		requireProblem(t, http.StatusUnauthorized, "refresh_token_reused")

	h.post("/v1/auth/refresh", `{"refresh_token":"`+next.RefreshToken+`"}`).
		requireProblem(t, http.StatusUnauthorized, "invalid_refresh_token")
}

func TestRefreshWithAnUnknownToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	unknown, _ := domain.NewOpaqueToken()

	for _, token := range []string{unknown, "garbage", ""} {
		h.post("/v1/auth/refresh", `{"refresh_token":"`+token+`"}`).
			requireProblem(t, http.StatusUnauthorized, "invalid_refresh_token")
	}
}

func TestLogoutRevokesTheSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")

	res := h.post("/v1/auth/logout", `{"refresh_token":"`+ada.RefreshToken+`"}`)

	assert.Equal(t, http.StatusNoContent, res.status)
	assert.Empty(t, res.body)
	h.post("/v1/auth/refresh", `{"refresh_token":"`+ada.RefreshToken+`"}`).
		requireProblem(t, http.StatusUnauthorized, "invalid_refresh_token")
}

func TestLogoutOfAnUnknownTokenSucceeds(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	unknown, _ := domain.NewOpaqueToken()

	for _, token := range []string{unknown, "garbage"} {
		res := h.post("/v1/auth/logout", `{"refresh_token":"`+token+`"}`)
		assert.Equal(t, http.StatusNoContent, res.status)
	}
	h.post("/v1/auth/logout", `{}`).requireProblem(t, http.StatusBadRequest, "validation_failed")
}

func TestSessionsRememberTheClient(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	ada := h.register("ada@example.com")

	s := h.session(ada.User.ID)
	assert.Equal(t, "127.0.0.1", s.IP)
	assert.Equal(t, userAgent, s.UserAgent)
}
