package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

const newPassword = "a brand new passphrase"

func TestVerifyEmailMarksTheAddressVerified(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	token := h.linkToken("ada@example.com", domain.EmailVerifyAddress)

	res := h.post("/v1/auth/verify-email", `{"token":"`+token+`"}`)

	verified := res.user(t)
	assert.True(t, verified.EmailVerified)
	assert.Equal(t, ada.User.ID, verified.ID)
	assert.Equal(t, "application/json", res.header.Get("Content-Type"))
	assert.True(t, h.get("/v1/me", ada.AccessToken).user(t).EmailVerified)
}

func TestVerifyEmailRefusesABadTokenWith400(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.register("ada@example.com")
	token := h.linkToken("ada@example.com", domain.EmailVerifyAddress)
	require.Equal(t, http.StatusOK, h.post("/v1/auth/verify-email", `{"token":"`+token+`"}`).status)
	unknown, _ := domain.NewOpaqueToken()

	for name, token := range map[string]string{"spent": token, "unknown": unknown, "garbage": "garbage", "empty": ""} {
		t.Run(name, func(t *testing.T) {
			res := h.post("/v1/auth/verify-email", `{"token":"`+token+`"}`)
			res.requireProblem(t, http.StatusBadRequest, "invalid_token")
			assert.Empty(t, res.header.Get("WWW-Authenticate"), "a token from an email is no credential")
		})
	}
	p := h.post("/v1/auth/verify-email", `{}`).requireProblem(t, http.StatusBadRequest, "validation_failed")
	assert.Equal(t, []string{"token:required"}, p.fieldErrors())
}

func TestVerifyEmailTokenExpiresAfterADay(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.register("ada@example.com")
	token := h.linkToken("ada@example.com", domain.EmailVerifyAddress)

	h.clock.Advance(24 * time.Hour)

	h.post("/v1/auth/verify-email", `{"token":"`+token+`"}`).requireProblem(t, http.StatusBadRequest, "invalid_token")
}

func TestResendVerificationMailsANewLink(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	first := h.linkToken("ada@example.com", domain.EmailVerifyAddress)

	res := h.call(http.MethodPost, "/v1/auth/verify-email/resend", ada.AccessToken, "")

	require.Equal(t, http.StatusAccepted, res.status, "body: %s", res.body)
	assert.Empty(t, res.body)
	second := h.linkToken("ada@example.com", domain.EmailVerifyAddress)
	assert.NotEqual(t, first, second)
	h.post("/v1/auth/verify-email", `{"token":"`+first+`"}`).requireProblem(t, http.StatusBadRequest, "invalid_token")
	assert.True(t, h.post("/v1/auth/verify-email", `{"token":"`+second+`"}`).user(t).EmailVerified)
}

func TestResendVerificationConflicts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	h.post("/v1/auth/verify-email", `{"token":"`+h.linkToken("ada@example.com", domain.EmailVerifyAddress)+`"}`).user(t)
	anon := h.post("/v1/auth/anonymous", `{}`).tokens(t, http.StatusCreated)

	h.call(http.MethodPost, "/v1/auth/verify-email/resend", ada.AccessToken, "").
		requireProblem(t, http.StatusConflict, "already_verified")
	h.call(http.MethodPost, "/v1/auth/verify-email/resend", anon.AccessToken, "").
		requireProblem(t, http.StatusConflict, "no_email")
	res := h.call(http.MethodPost, "/v1/auth/verify-email/resend", "", "")
	res.requireProblem(t, http.StatusUnauthorized, "invalid_token")
	assert.Equal(t, `Bearer realm="gatehouse"`, res.header.Get("WWW-Authenticate"))
	assert.Len(t, h.mailer.To("ada@example.com", domain.EmailVerifyAddress), 1, "no new email")
}

func TestForgotPasswordAnswersAlikeAndMailsOnlyAnAccount(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.register("ada@example.com")

	known := h.post("/v1/auth/password/forgot", `{"email":"ADA@example.com"}`)
	unknown := h.post("/v1/auth/password/forgot", `{"email":"nobody@example.com"}`)
	h.app.Wait()

	for _, res := range []response{known, unknown} {
		assert.Equal(t, http.StatusAccepted, res.status, "body: %s", res.body)
		assert.Empty(t, res.body)
	}
	assert.Len(t, h.mailer.To("ada@example.com", domain.EmailResetPassword), 1)
	assert.Empty(t, h.mailer.To("nobody@example.com", domain.EmailResetPassword))
}

func TestForgotPasswordValidatesTheEmail(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	p := h.post("/v1/auth/password/forgot", `{"email":"not-an-email"}`).requireProblem(t, http.StatusBadRequest, "validation_failed")
	assert.Equal(t, []string{"email:invalid_email"}, p.fieldErrors())
	p = h.post("/v1/auth/password/forgot", `{"email":1}`).requireProblem(t, http.StatusBadRequest, "validation_failed")
	assert.Equal(t, []string{"email:invalid_type"}, p.fieldErrors())
}

// forgot asks for a reset of address and returns the token mailed.
func (h *harness) forgot(address string) string {
	h.t.Helper()
	require.Equal(h.t, http.StatusAccepted, h.post("/v1/auth/password/forgot", `{"email":"`+address+`"}`).status)
	h.app.Wait()
	return h.linkToken(address, domain.EmailResetPassword)
}

func TestResetPasswordSetsItAndEndsEverySession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	token := h.forgot("ada@example.com")

	res := h.post("/v1/auth/password/reset", `{"token":"`+token+`","password":"`+newPassword+`"}`)

	require.Equal(t, http.StatusNoContent, res.status, "body: %s", res.body)
	assert.Empty(t, res.body)
	h.post("/v1/auth/refresh", `{"refresh_token":"`+ada.RefreshToken+`"}`).
		requireProblem(t, http.StatusUnauthorized, "invalid_refresh_token")
	h.post("/v1/auth/login", `{"email":"ada@example.com","password":"`+password+`"}`).
		requireProblem(t, http.StatusUnauthorized, "invalid_credentials")
	after := h.post("/v1/auth/login", `{"email":"ada@example.com","password":"`+newPassword+`"}`).tokens(t, http.StatusOK)
	assert.True(t, after.User.EmailVerified, "the link reached the address")

	h.post("/v1/auth/password/reset", `{"token":"`+token+`","password":"yet another passphrase"}`).
		requireProblem(t, http.StatusBadRequest, "invalid_token")
}

func TestResetPasswordRefusesAWeakPasswordAndKeepsTheToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.register("ada@example.com")
	token := h.forgot("ada@example.com")

	for body, want := range map[string][]string{
		`{"token":"` + token + `","password":"password123"}`: {"password:weak_password"},
		`{"token":"` + token + `","password":"short"}`:       {"password:too_short"},
		`{"token":"` + token + `"}`:                          {"password:required"},
		`{"password":"` + newPassword + `"}`:                 {"token:required"},
	} {
		p := h.post("/v1/auth/password/reset", body).requireProblem(t, http.StatusBadRequest, "validation_failed")
		assert.Equal(t, want, p.fieldErrors(), body)
	}

	res := h.post("/v1/auth/password/reset", `{"token":"`+token+`","password":"`+newPassword+`"}`)
	assert.Equal(t, http.StatusNoContent, res.status, "the token still works")
}

func TestResetPasswordTokenExpiresAfterAnHour(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.register("ada@example.com")
	token := h.forgot("ada@example.com")
	h.clock.Advance(time.Hour)

	h.post("/v1/auth/password/reset", `{"token":"`+token+`","password":"`+newPassword+`"}`).
		requireProblem(t, http.StatusBadRequest, "invalid_token")
	h.post("/v1/auth/password/reset", `{"token":"not-a-token","password":"`+newPassword+`"}`).
		requireProblem(t, http.StatusBadRequest, "invalid_token")
}

func TestChangePasswordKeepsOnlyTheCallingSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	other := h.post("/v1/auth/login", `{"email":"ada@example.com","password":"`+password+`"}`).tokens(t, http.StatusOK)

	res := h.call(http.MethodPost, "/v1/auth/password/change", ada.AccessToken,
		`{"current_password":"`+password+`","new_password":"`+newPassword+`"}`)

	require.Equal(t, http.StatusNoContent, res.status, "body: %s", res.body)
	assert.Empty(t, res.body)
	h.post("/v1/auth/refresh", `{"refresh_token":"`+other.RefreshToken+`"}`).
		requireProblem(t, http.StatusUnauthorized, "invalid_refresh_token")
	h.post("/v1/auth/refresh", `{"refresh_token":"`+ada.RefreshToken+`"}`).tokens(t, http.StatusOK)
	h.post("/v1/auth/login", `{"email":"ada@example.com","password":"`+newPassword+`"}`).tokens(t, http.StatusOK)
}

func TestChangePasswordRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	anon := h.post("/v1/auth/anonymous", `{}`).tokens(t, http.StatusCreated)

	res := h.call(http.MethodPost, "/v1/auth/password/change", ada.AccessToken,
		`{"current_password":"wrong password here","new_password":"`+newPassword+`"}`)
	wrong := res.requireProblem(t, http.StatusUnauthorized, "invalid_credentials")
	assert.Equal(t, "The password is wrong.", wrong.Detail, "no email was sent, so none is named")
	assert.Empty(t, res.header.Get("WWW-Authenticate"), "the access token is fine")

	h.call(http.MethodPost, "/v1/auth/password/change", anon.AccessToken,
		`{"current_password":"","new_password":"`+newPassword+`"}`).
		requireProblem(t, http.StatusUnauthorized, "invalid_credentials")

	p := h.call(http.MethodPost, "/v1/auth/password/change", ada.AccessToken,
		`{"current_password":"`+password+`","new_password":"ada-is-here-123"}`).
		requireProblem(t, http.StatusBadRequest, "validation_failed")
	assert.Equal(t, []string{"new_password:weak_password"}, p.fieldErrors())

	p = h.call(http.MethodPost, "/v1/auth/password/change", ada.AccessToken, `{"new_password":5}`).
		requireProblem(t, http.StatusBadRequest, "validation_failed")
	assert.ElementsMatch(t, []string{"current_password:required", "new_password:invalid_type"}, p.fieldErrors())

	h.call(http.MethodPost, "/v1/auth/password/change", "",
		`{"current_password":"`+password+`","new_password":"`+newPassword+`"}`).
		requireProblem(t, http.StatusUnauthorized, "invalid_token")

	h.post("/v1/auth/login", `{"email":"ada@example.com","password":"`+password+`"}`).tokens(t, http.StatusOK)
}
