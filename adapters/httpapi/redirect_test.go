package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// appURL is the one URL of the harness's allow-list (handlerConfig): a
// client app's directory, under which every path is allowed.
const appURL = "https://app.example.com/app/"

// object marshals members to a JSON object.
func object(t *testing.T, members map[string]string) string {
	t.Helper()
	b, err := json.Marshal(members)
	require.NoError(t, err)
	return string(b)
}

// offTheList are redirect_to values that appURL does not allow.
var offTheList = []string{
	"https://evil.example/app/",
	"https://app.example.com.evil.example/app/",
	"https://app.example.com@evil.example/app/",
	"//evil.example/app/",
	"/app/welcome",
	"https://app.example.com/app-evil",
	"http://app.example.com/app/",
	"javascript:alert(1)",
	"https://app.example.com/app/../admin",
	"https://app.example.com/app/%2e%2e/admin",
	"https://app.example.com/app/#fragment",
}

func TestRedirectToReachesTheEmailedLink(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	links := httpapi.EmailLinks(publicURL)

	ada := h.post("/v1/auth/register", object(t, map[string]string{
		"email": "ada@example.com", "password": password, "redirect_to": "HTTPS://App.Example.com:443/app/welcome?from=register",
	})).tokens(t, http.StatusCreated)
	res := h.call(http.MethodPost, "/v1/auth/verify-email/resend", ada.AccessToken, object(t, map[string]string{
		"redirect_to": appURL + "welcome?from=resend&x=%2F",
	}))
	require.Equal(t, http.StatusAccepted, res.status, "body: %s", res.body)
	res = h.post("/v1/auth/password/forgot", object(t, map[string]string{
		"email": "ada@example.com", "redirect_to": appURL + "signed-out",
	}))
	require.Equal(t, http.StatusAccepted, res.status, "body: %s", res.body)
	h.app.Wait()

	verifications := h.mailer.To("ada@example.com", domain.EmailVerifyAddress)
	resets := h.mailer.To("ada@example.com", domain.EmailResetPassword)
	require.Len(t, verifications, 2)
	require.Len(t, resets, 1)
	for want, mail := range map[string]domain.Email{
		"https://app.example.com/app/welcome?from=register": verifications[0], // as the list compares it
		appURL + "welcome?from=resend&x=%2F":                verifications[1],
		appURL + "signed-out":                               resets[0],
	} {
		assert.Equal(t, want, mail.RedirectTo)
		assert.Equal(t, url.Values{"token": {mail.Secret}, "redirect_to": {want}}, mustQuery(t, links(mail)), "the link carries it, encoded")
	}
}

func TestRedirectToIsOptional(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	ada := h.post("/v1/auth/register", object(t, map[string]string{
		"email": "ada@example.com", "password": password, "redirect_to": "",
	})).tokens(t, http.StatusCreated)
	for _, body := range []string{"", `{}`, `{"redirect_to":null}`, `{"redirect_to":""}`} {
		res := h.call(http.MethodPost, "/v1/auth/verify-email/resend", ada.AccessToken, body)
		require.Equal(t, http.StatusAccepted, res.status, "%q: %s", body, res.body)
	}
	h.forgot("ada@example.com")

	mails := h.mailer.To("ada@example.com")
	require.Len(t, mails, 6)
	for _, m := range mails {
		assert.Empty(t, m.RedirectTo, "an empty redirect_to is none")
	}
	assert.Equal(t, url.Values{"token": {mails[0].Secret}}, mustQuery(t, httpapi.EmailLinks(publicURL)(mails[0])))

	h.call(http.MethodPost, "/v1/auth/verify-email/resend", ada.AccessToken, `{"redirect_to":42}`).
		requireProblem(t, http.StatusBadRequest, "validation_failed")
	h.call(http.MethodPost, "/v1/auth/verify-email/resend", ada.AccessToken, `{"redirect_to":`).
		requireProblem(t, http.StatusBadRequest, "malformed_request")
}

func TestRedirectToOffTheListIsRefusedBeforeAnythingHappens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")

	for _, redirect := range offTheList {
		t.Run(redirect, func(t *testing.T) {
			h.post("/v1/auth/register", object(t, map[string]string{
				"email": "grace@example.com", "password": password, "redirect_to": redirect,
			})).requireProblem(t, http.StatusBadRequest, "invalid_redirect")
			h.call(http.MethodPost, "/v1/auth/verify-email/resend", ada.AccessToken, object(t, map[string]string{"redirect_to": redirect})).
				requireProblem(t, http.StatusBadRequest, "invalid_redirect")

			known := h.post("/v1/auth/password/forgot", object(t, map[string]string{"email": "ada@example.com", "redirect_to": redirect}))
			unknown := h.post("/v1/auth/password/forgot", object(t, map[string]string{"email": "nobody@example.com", "redirect_to": redirect}))
			known.requireProblem(t, http.StatusBadRequest, "invalid_redirect")
			assert.Equal(t, string(known.body), string(unknown.body), "the same answer whether or not the account exists")
		})
	}
	h.app.Wait()

	assert.Len(t, h.mailer.To("ada@example.com"), 1, "only the registration's email")
	assert.Empty(t, h.mailer.To("grace@example.com"))
	assert.Empty(t, h.mailer.To("nobody@example.com"))
	// More refusals than any limit allows, yet none counted: nothing ran.
	require.Greater(t, len(offTheList), 5)
	h.register("grace@example.com") // no account was created
	require.Equal(t, http.StatusAccepted, h.call(http.MethodPost, "/v1/auth/verify-email/resend", ada.AccessToken, "").status)
	h.forgot("ada@example.com")
}

func TestRedirectToWithAnEmptyListIsAlwaysRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *httpapi.Config) { c.RedirectURLs = nil })

	h.post("/v1/auth/register", object(t, map[string]string{
		"email": "ada@example.com", "password": password, "redirect_to": appURL,
	})).requireProblem(t, http.StatusBadRequest, "invalid_redirect")
	h.register("ada@example.com") // without one, all is as before
}

func TestNewRefusesABadRedirectURL(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil, nil)
	cfg := handlerConfig(env, nil)
	cfg.RedirectURLs = []string{"https://app.example.com/?next=1"}

	assert.PanicsWithValue(t, `httpapi: Config.RedirectURLs: "https://app.example.com/?next=1" has a query`, func() { httpapi.New(cfg) })
}

// mustQuery returns the query of the link.
func mustQuery(t *testing.T, link string) url.Values {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	return u.Query()
}
