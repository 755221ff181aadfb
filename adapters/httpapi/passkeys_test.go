package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/test/apptest"
	"github.com/gatehouse-auth/gatehouse/test/webauthntest"
)

// ceremonyBody is the answer of a passkey begin.
type ceremonyBody struct {
	CeremonyToken string          `json:"ceremony_token"`
	Options       json.RawMessage `json:"options"`
}

// begin posts body to a passkey begin path and returns its ceremony.
func (h *harness) begin(path, accessToken, body string) ceremonyBody {
	h.t.Helper()
	r := h.call(http.MethodPost, path, accessToken, body)
	require.Equal(h.t, http.StatusOK, r.status, "body: %s", r.body)
	assert.Equal(h.t, "no-store", r.header.Get("Cache-Control"))
	var c ceremonyBody
	require.NoError(h.t, json.Unmarshal(r.body, &c))
	return c
}

// answer is the body of a passkey finish.
func answer(c ceremonyBody, credential []byte) string {
	b, _ := json.Marshal(map[string]any{"ceremony_token": c.CeremonyToken, "credential": json.RawMessage(credential)})
	return string(b)
}

// addPasskey registers a passkey on a for the bearer of accessToken.
func (h *harness) addPasskey(accessToken string, a *webauthntest.Authenticator) {
	h.t.Helper()
	c := h.begin("/v1/me/passkeys/begin", accessToken, "")
	credential, err := a.Create(c.Options)
	require.NoError(h.t, err)
	r := h.call(http.MethodPost, "/v1/me/passkeys/finish", accessToken, answer(c, credential))
	require.Equal(h.t, http.StatusCreated, r.status, "body: %s", r.body)
}

func TestPasskeysOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	reg := h.register("passkey-http@example.com")
	a := webauthntest.New(apptest.PasskeyOrigin)

	c := h.begin("/v1/me/passkeys/begin", reg.AccessToken, "")
	credential, err := a.Create(c.Options)
	require.NoError(t, err)
	r := h.call(http.MethodPost, "/v1/me/passkeys/finish", reg.AccessToken, `{"ceremony_token":"`+c.CeremonyToken+`","name":"Phone"}`)
	r.requireProblem(t, http.StatusBadRequest, "validation_failed")
	r = h.call(http.MethodPost, "/v1/me/passkeys/finish", reg.AccessToken, `{"ceremony_token":"`+c.CeremonyToken+`","credential":"x"}`)
	assert.Equal(t, []string{"credential:invalid_type"}, r.requireProblem(t, http.StatusBadRequest, "validation_failed").fieldErrors())
	var named map[string]any
	require.NoError(t, json.Unmarshal([]byte(answer(c, credential)), &named))
	named["name"] = "Phone"
	body, _ := json.Marshal(named)
	r = h.call(http.MethodPost, "/v1/me/passkeys/finish", reg.AccessToken, string(body))
	require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	var created struct {
		ID         string  `json:"id"`
		Name       string  `json:"name"`
		LastUsedAt *string `json:"last_used_at"`
	}
	require.NoError(t, json.Unmarshal(r.body, &created))
	assert.Equal(t, "Phone", created.Name)
	assert.Nil(t, created.LastUsedAt)
	r = h.call(http.MethodPost, "/v1/me/passkeys/finish", reg.AccessToken, string(body))
	r.requireProblem(t, http.StatusUnauthorized, "invalid_ceremony")

	c = h.begin("/v1/auth/passkey/begin", "", "")
	credential, err = a.Get(c.Options)
	require.NoError(t, err)
	tokens := h.post("/v1/auth/passkey/finish", answer(c, credential)).tokens(t, http.StatusOK)
	claims := h.app.Claims(t, tokens.AccessToken)
	assert.Equal(t, "hwk mfa", claims.Methods[0].String()+" "+claims.Methods[1].String())
	assert.EqualValues(t, "aal2", claims.AAL)
	h.post("/v1/auth/passkey/finish", answer(c, credential)).requireProblem(t, http.StatusUnauthorized, "invalid_ceremony")

	r = h.get("/v1/me/passkeys", tokens.AccessToken)
	require.Equal(t, http.StatusOK, r.status)
	assert.JSONEq(t, `{"passkeys":[{"id":"`+created.ID+`","name":"Phone","created_at":"2026-11-26T09:00:00Z","last_used_at":"2026-11-26T09:00:00Z","backed_up":true}]}`, string(r.body))

	h.call(http.MethodDelete, "/v1/me/passkeys/"+created.ID, reg.AccessToken, "").requireProblem(t, http.StatusForbidden, "aal2_required")
	h.call(http.MethodDelete, "/v1/me/passkeys/nope", tokens.AccessToken, "").requireProblem(t, http.StatusNotFound, "not_found")
	r = h.call(http.MethodDelete, "/v1/me/passkeys/"+created.ID, tokens.AccessToken, "")
	require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
}

func TestPasskeyAnswersMFARequiredInCookieMode(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	reg := h.register("passkey-mfa@example.com")
	a := webauthntest.New(apptest.PasskeyOrigin)
	h.addPasskey(reg.AccessToken, a)

	r := h.post("/v1/auth/login", `{"email":"passkey-mfa@example.com","password":"`+password+`"}`)
	r.requireProblem(t, http.StatusUnauthorized, "mfa_required")
	var p mfaProblem
	require.NoError(t, json.Unmarshal(r.body, &p))
	assert.Equal(t, []string{"passkey"}, p.Factors)

	c := h.begin("/v1/auth/passkey/begin", "", `{"mfa_token":"`+p.MFAToken+`"}`)
	a.Origin = "https://evil.example.net"
	credential, err := a.Get(c.Options)
	require.NoError(t, err)
	h.post("/v1/auth/passkey/finish", answer(c, credential)).requireProblem(t, http.StatusBadRequest, "invalid_passkey")

	a.Origin = apptest.PasskeyOrigin
	c = h.begin("/v1/auth/passkey/begin", "", `{"mfa_token":"`+p.MFAToken+`"}`)
	credential, err = a.Get(c.Options)
	require.NoError(t, err)
	r = h.send(h.cookieRequest("/v1/auth/passkey/finish", answer(c, credential), ""))
	tokens := r.tokens(t, http.StatusOK)
	requireNoRefreshToken(t, r)
	refreshCookie(t, r, secureCookie)
	claims := h.app.Claims(t, tokens.AccessToken)
	assert.EqualValues(t, "aal2", claims.AAL)
	assert.Equal(t, "pwd hwk", claims.Methods[0].String()+" "+claims.Methods[1].String())

	h.post("/v1/auth/passkey/begin", `{"mfa_token":"`+p.MFAToken+`"}`).requireProblem(t, http.StatusUnauthorized, "invalid_mfa_token")
}

func TestPasskeysOffAnswer404(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, func(p *app.Ports) { p.Passkeys = nil })
	reg := h.register("no-passkeys@example.com")
	for _, r := range []response{
		h.post("/v1/auth/passkey/begin", `{}`),
		h.post("/v1/auth/passkey/finish", `{}`),
		h.get("/v1/me/passkeys", reg.AccessToken),
		h.call(http.MethodPost, "/v1/me/passkeys/begin", reg.AccessToken, ""),
		h.call(http.MethodDelete, "/v1/me/passkeys/x", reg.AccessToken, ""),
	} {
		r.requireProblem(t, http.StatusNotFound, "not_found")
	}
}
