package httpapi_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
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

// The hidden redirect_to field of a page's form, and a page's Continue
// link.
var (
	hiddenRedirect = regexp.MustCompile(`<input type="hidden" name="redirect_to" value="([^"]*)">`)
	continueLink   = regexp.MustCompile(`<a class="button" href="([^"]*)" rel="noreferrer">Continue</a>`)
)

// formRedirect returns the redirect_to a page's form holds, unescaped, and
// whether it holds one.
func formRedirect(page string) (string, bool) {
	m := hiddenRedirect.FindStringSubmatch(page)
	if m == nil {
		return "", false
	}
	return html.UnescapeString(m[1]), true
}

// continueTo returns where a page's Continue link leads, unescaped, and
// whether it has one.
func continueTo(page string) (string, bool) {
	m := continueLink.FindStringSubmatch(page)
	if m == nil {
		return "", false
	}
	return html.UnescapeString(m[1]), true
}

// openLink opens the page of the newest email of purpose to address, as
// its link has it, and returns the page.
func (h *harness) openLink(address string, purpose domain.EmailPurpose) string {
	h.t.Helper()
	mails := h.mailer.To(address, purpose)
	require.NotEmpty(h.t, mails)
	link, err := url.Parse(httpapi.EmailLinks(publicURL)(mails[len(mails)-1]))
	require.NoError(h.t, err)
	return h.get(link.RequestURI(), "").page(h.t, http.StatusOK)
}

func TestPagesKeepAnAllowedRedirectAndContinueToIt(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const (
		welcome   = appURL + "welcome?from=email&next=%2Fhome"
		signedOut = appURL + "signed-out"
	)
	ada := h.post("/v1/auth/register", object(t, map[string]string{
		"email": "ada@example.com", "password": password, "redirect_to": welcome,
	})).tokens(t, http.StatusCreated)

	page := h.openLink("ada@example.com", domain.EmailVerifyAddress)
	kept, ok := formRedirect(page)
	require.True(t, ok, "the form keeps the redirect: %s", page)
	assert.Equal(t, welcome, kept)
	done := h.postForm("/verify-email", url.Values{"token": {formToken(t, page)}, "redirect_to": {kept}},
		"Origin", "null", "Sec-Fetch-Site", "same-origin").page(t, http.StatusOK)
	assert.Contains(t, done, "Your email address is confirmed")
	assert.True(t, h.verified(ada.User.ID))
	next, ok := continueTo(done)
	require.True(t, ok, "a Continue link: %s", done)
	assert.Equal(t, welcome, next)
	assert.NotContains(t, done, "You can close this page")

	res := h.post("/v1/auth/password/forgot", object(t, map[string]string{"email": "ada@example.com", "redirect_to": signedOut}))
	require.Equal(t, http.StatusAccepted, res.status)
	h.app.Wait()
	page = h.openLink("ada@example.com", domain.EmailResetPassword)
	kept, ok = formRedirect(page)
	require.True(t, ok, "the form keeps the redirect: %s", page)
	assert.Equal(t, signedOut, kept)
	form := url.Values{"token": {formToken(t, page)}, "password": {"password123"}, "redirect_to": {kept}}
	again := h.postForm("/reset-password", form).page(t, http.StatusBadRequest)
	kept, ok = formRedirect(again)
	assert.True(t, ok, "a refused password keeps the redirect too")
	assert.Equal(t, signedOut, kept)
	_, ok = continueTo(again)
	assert.False(t, ok, "no way on before the flow is done")
	form.Set("password", newPassword)
	done = h.postForm("/reset-password", form, "Origin", publicOrigin).page(t, http.StatusOK)
	assert.Contains(t, done, "Your password has been changed")
	next, ok = continueTo(done)
	require.True(t, ok, "a Continue link: %s", done)
	assert.Equal(t, signedOut, next)
}

func TestPagesDropARedirectTheListDoesNotAllow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	token := h.linkToken("ada@example.com", domain.EmailVerifyAddress)

	for _, path := range []string{"/verify-email", "/reset-password"} {
		for _, redirect := range offTheList {
			page := h.get(path+"?"+url.Values{"token": {token}, "redirect_to": {redirect}}.Encode(), "").page(t, http.StatusOK)
			assert.Equal(t, token, formToken(t, page), "the page works as without one")
			assert.NotContains(t, page, `name="redirect_to"`, "%s drops %s", path, redirect)
		}
	}

	// A link whose URL the list no longer has: another list, same page.
	other := newHarness(t, func(c *httpapi.Config) { c.RedirectURLs = []string{"https://app.example.com/other/"} })
	page := other.get("/verify-email?"+url.Values{"token": {token}, "redirect_to": {appURL}}.Encode(), "").page(t, http.StatusOK)
	assert.NotContains(t, page, `name="redirect_to"`)

	// A form that comes back with one: the flow is done, and goes nowhere.
	done := h.postForm("/verify-email", url.Values{"token": {token}, "redirect_to": {"https://evil.example/app/"}}).page(t, http.StatusOK)
	assert.True(t, h.verified(ada.User.ID))
	_, ok := continueTo(done)
	assert.False(t, ok)
	assert.NotContains(t, done, "evil.example")
	assert.Contains(t, done, "You can close this page")
	done = h.postForm("/reset-password", url.Values{"token": {h.forgot("ada@example.com")}, "password": {newPassword},
		"redirect_to": {"javascript:alert(1)"}}).page(t, http.StatusOK)
	_, ok = continueTo(done)
	assert.False(t, ok)
	assert.NotContains(t, done, "javascript")
}

func TestPagesEscapeTheRedirect(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const odd = appURL + "x?a=1&b='q'&c=%22"

	page := h.get("/verify-email?"+url.Values{"token": {"abc"}, "redirect_to": {odd}}.Encode(), "").page(t, http.StatusOK)

	assert.Contains(t, page, `value="https://app.example.com/app/x?a=1&amp;b=&#39;q&#39;&amp;c=%22"`)
	kept, ok := formRedirect(page)
	require.True(t, ok)
	assert.Equal(t, odd, kept, "the value survives, as data")
}
