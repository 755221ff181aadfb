package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/test/otptest"
)

// enrolmentBody is the answer of POST /v1/me/mfa/totp.
type enrolmentBody struct {
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
	QRCode     string `json:"qr_code"`
}

// mfaProblem is the mfa_required problem's own members.
type mfaProblem struct {
	MFAToken string   `json:"mfa_token"`
	Factors  []string `json:"factors"`
}

// code is the authenticator app's code for key at the harness's time.
func (h *harness) code(key string) string {
	h.t.Helper()
	code, err := otptest.CodeOfText(key, h.clock.Now())
	require.NoError(h.t, err)
	return code
}

// enrolTOTP registers email, enrols and verifies an authenticator app,
// and returns the registration's tokens, the key and the recovery codes.
func (h *harness) enrolTOTP(email string) (tokenBody, string, []string) {
	h.t.Helper()
	reg := h.register(email)
	key, codes := h.enrolTOTPWith(reg)
	return reg, key, codes
}

// enrolTOTPWith enrols and verifies an authenticator app with the
// session of tokens, and returns the key and the recovery codes.
func (h *harness) enrolTOTPWith(reg tokenBody) (string, []string) {
	h.t.Helper()
	r := h.call(http.MethodPost, "/v1/me/mfa/totp", reg.AccessToken, "")
	require.Equal(h.t, http.StatusCreated, r.status, "body: %s", r.body)
	var e enrolmentBody
	require.NoError(h.t, json.Unmarshal(r.body, &e))
	r = h.call(http.MethodPost, "/v1/me/mfa/totp/verify", reg.AccessToken, `{"code":"`+h.code(e.Secret)+`"}`)
	require.Equal(h.t, http.StatusOK, r.status, "body: %s", r.body)
	var codes struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	require.NoError(h.t, json.Unmarshal(r.body, &codes))
	require.Len(h.t, codes.RecoveryCodes, 10)
	h.clock.Advance(otptest.Step)
	return e.Secret, codes.RecoveryCodes
}

// loginChallenge logs email in and returns the mfa_required problem's
// challenge.
func (h *harness) loginChallenge(email string) mfaProblem {
	h.t.Helper()
	r := h.post("/v1/auth/login", `{"email":"`+email+`","password":"`+password+`"}`)
	r.requireProblem(h.t, http.StatusUnauthorized, "mfa_required")
	assert.Empty(h.t, r.header.Get("WWW-Authenticate"), "a password login is not a bearer challenge")
	var p mfaProblem
	require.NoError(h.t, json.Unmarshal(r.body, &p))
	require.NotEmpty(h.t, p.MFAToken)
	assert.Equal(h.t, []string{"totp"}, p.Factors)
	return p
}

func TestMFASignInOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, key, codes := h.enrolTOTP("mfa-http@example.com")

	challenge := h.loginChallenge("mfa-http@example.com")
	h.post("/v1/auth/mfa/verify", `{"mfa_token":"`+challenge.MFAToken+`","code":"000000"}`).
		requireProblem(t, http.StatusUnauthorized, "invalid_mfa_code")
	tokens := h.post("/v1/auth/mfa/verify", `{"mfa_token":"`+challenge.MFAToken+`","code":"`+h.code(key)+`"}`).tokens(t, http.StatusOK)
	claims := h.app.Claims(t, tokens.AccessToken)
	assert.Equal(t, "aal2", string(claims.AAL))
	h.post("/v1/auth/mfa/verify", `{"mfa_token":"`+challenge.MFAToken+`","code":"`+h.code(key)+`"}`).
		requireProblem(t, http.StatusUnauthorized, "invalid_mfa_token")

	again := h.loginChallenge("mfa-http@example.com")
	h.post("/v1/auth/mfa/verify", `{"mfa_token":"`+again.MFAToken+`","recovery_code":"`+codes[0]+`"}`).tokens(t, http.StatusOK)
	h.post("/v1/auth/mfa/verify", `{"mfa_token":"`+again.MFAToken+`"}`).requireProblem(t, http.StatusBadRequest, "validation_failed")

	logs := h.logs.String()
	noLeak(t, logs, challenge.MFAToken, again.MFAToken, codes[0], key)
}

func TestMFASignInInCookieMode(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, key, _ := h.enrolTOTP("mfa-cookie@example.com")

	r := h.send(h.cookieRequest("/v1/auth/login", `{"email":"mfa-cookie@example.com","password":"`+password+`"}`, ""))
	r.requireProblem(t, http.StatusUnauthorized, "mfa_required")
	assert.Empty(t, r.header.Values("Set-Cookie"), "no session yet, so no cookie")
	var p mfaProblem
	require.NoError(t, json.Unmarshal(r.body, &p))

	r = h.send(h.cookieRequest("/v1/auth/mfa/verify", `{"mfa_token":"`+p.MFAToken+`","code":"`+h.code(key)+`"}`, ""))
	r.tokens(t, http.StatusOK)
	requireNoRefreshToken(t, r)
	refreshCookie(t, r, secureCookie)
}

func TestFactorsOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	reg, key, _ := h.enrolTOTP("factors@example.com")

	r := h.get("/v1/me/mfa", reg.AccessToken)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	assert.JSONEq(t, `{"factors":[{"type":"totp","verified":true,"created_at":"2026-11-26T09:00:00Z"}]}`, string(r.body))

	h.call(http.MethodPost, "/v1/me/mfa/totp", reg.AccessToken, "").requireProblem(t, http.StatusConflict, "mfa_already_enabled")
	// The registration's token predates the factor: aal1.
	h.call(http.MethodDelete, "/v1/me/mfa/totp", reg.AccessToken, "").requireProblem(t, http.StatusForbidden, "aal2_required")
	h.call(http.MethodPost, "/v1/me/mfa/recovery-codes", reg.AccessToken, "").requireProblem(t, http.StatusForbidden, "aal2_required")
	h.call(http.MethodPost, "/v1/auth/password/change", reg.AccessToken, `{"current_password":"`+password+`","new_password":"another long passphrase"}`).
		requireProblem(t, http.StatusForbidden, "aal2_required")
	h.call(http.MethodDelete, "/v1/me", reg.AccessToken, `{"password":"`+password+`"}`).requireProblem(t, http.StatusForbidden, "aal2_required")

	challenge := h.loginChallenge("factors@example.com")
	stepped := h.post("/v1/auth/mfa/verify", `{"mfa_token":"`+challenge.MFAToken+`","code":"`+h.code(key)+`"}`).tokens(t, http.StatusOK)
	r = h.call(http.MethodPost, "/v1/me/mfa/recovery-codes", stepped.AccessToken, "")
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	require.Equal(t, http.StatusNoContent, h.call(http.MethodDelete, "/v1/me/mfa/totp", stepped.AccessToken, "").status)
	h.call(http.MethodDelete, "/v1/me/mfa/totp", stepped.AccessToken, "").requireProblem(t, http.StatusConflict, "mfa_not_enrolled")
	h.post("/v1/auth/login", `{"email":"factors@example.com","password":"`+password+`"}`).tokens(t, http.StatusOK)
}

func TestStepUpRaisesTheSessionOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	reg := h.register("step-up@example.com")
	other := h.post("/v1/auth/login", `{"email":"step-up@example.com","password":"`+password+`"}`).tokens(t, http.StatusOK)
	key, _ := h.enrolTOTPWith(reg)

	before := h.post("/v1/auth/refresh", `{"refresh_token":"`+other.RefreshToken+`"}`).tokens(t, http.StatusOK)
	assert.Equal(t, "aal1", string(h.app.Claims(t, before.AccessToken).AAL), "a session from before the factor stays aal1")
	h.call(http.MethodPost, "/v1/me/mfa/totp/verify", before.AccessToken, `{"code":"000000"}`).requireProblem(t, http.StatusUnauthorized, "invalid_mfa_code")
	r := h.call(http.MethodPost, "/v1/me/mfa/totp/verify", before.AccessToken, `{"code":"`+h.code(key)+`"}`)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	assert.JSONEq(t, `{"recovery_codes":[]}`, string(r.body), "no new codes for a verified factor")

	after := h.post("/v1/auth/refresh", `{"refresh_token":"`+before.RefreshToken+`"}`).tokens(t, http.StatusOK)
	claims := h.app.Claims(t, after.AccessToken)
	assert.Equal(t, "aal2", string(claims.AAL), "the stepped-up session's next token says so")
	assert.Equal(t, []string{"pwd", "otp"}, methodNames(claims.Methods))
}

// methodNames returns the amr names of methods.
func methodNames[M fmt.Stringer](methods []M) []string {
	var names []string
	for _, m := range methods {
		names = append(names, m.String())
	}
	return names
}

func TestAdminRemovesFactorsOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdminKey)
	reg, _, _ := h.enrolTOTP("admin-mfa@example.com")
	h.loginChallenge("admin-mfa@example.com")

	req := h.request(http.MethodDelete, "/v1/admin/users/"+reg.User.ID+"/mfa", nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	require.Equal(t, http.StatusNoContent, h.send(req).status)
	h.post("/v1/auth/login", `{"email":"admin-mfa@example.com","password":"`+password+`"}`).tokens(t, http.StatusOK)

	req = h.request(http.MethodDelete, "/v1/admin/users/no-such-user/mfa", nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	h.send(req).requireProblem(t, http.StatusNotFound, "not_found")
}
