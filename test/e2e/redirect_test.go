package e2e_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// appURL is GATEHOUSE_REDIRECT_URLS of the lifecycle servers: a client
// app's directory, under which every path may be a redirect_to.
const appURL = "https://app.e2e.example/app/"

// The hidden redirect_to field of a page's form, and a page's Continue
// link.
var (
	hiddenRedirect = regexp.MustCompile(`<input type="hidden" name="redirect_to" value="([^"]*)">`)
	continueLink   = regexp.MustCompile(`<a [^>]*href="([^"]*)"[^>]*>Continue</a>`)
)

// testRedirect: a redirect_to that GATEHOUSE_REDIRECT_URLS allows reaches
// the emailed link, and the page the link opens leads on to it once the
// address is confirmed; one it does not allow is refused with
// 400 invalid_redirect, and nothing is mailed for it.
func testRedirect(t *testing.T, lc *lifecycle) {
	c := lc.c
	email, password := newEmail("redirect"), newPassword()
	for _, bad := range []string{
		"https://evil.e2e.example/app/",
		"https://app.e2e.example.evil.example/app/",
		"https://app.e2e.example@evil.example/app/",
		"https://app.e2e.example/app/../admin",
		"//evil.e2e.example/app/",
	} {
		c.post(t, "/v1/auth/register", jsonBody(map[string]string{"email": email, "password": password, "redirect_to": bad})).
			problem(t, http.StatusBadRequest, "invalid_redirect")
	}

	welcome := appURL + "welcome?from=email&step=2"
	reg := c.post(t, "/v1/auth/register", jsonBody(map[string]string{"email": email, "password": password, "redirect_to": welcome})).
		tokens(t, http.StatusCreated)
	m := lc.mail.await(t, email, verifyPage)
	link, err := url.Parse(m.Link())
	require.NoError(t, err)
	assert.Equal(t, lc.srv.baseURL+verifyPage, link.Scheme+"://"+link.Host+link.Path)
	assert.Equal(t, url.Values{"token": {m.Token()}, "redirect_to": {welcome}}, link.Query(), "the link carries the redirect")
	assert.Contains(t, m.HTML, html.EscapeString(m.Link()), "the HTML part has the same link")

	c.call(t, http.MethodPost, "/v1/auth/verify-email/resend", jsonBody(map[string]string{"redirect_to": "https://evil.e2e.example/"}), reg.AccessToken).
		problem(t, http.StatusBadRequest, "invalid_redirect")

	page := c.get(t, link.RequestURI(), "")
	require.Equal(t, http.StatusOK, page.status, "body: %s", page.body)
	kept := hiddenRedirect.FindStringSubmatch(string(page.body))
	require.NotNil(t, kept, "the form keeps the redirect: %s", page.body)
	assert.Equal(t, welcome, html.UnescapeString(kept[1]))

	form := url.Values{"token": {m.Token()}, "redirect_to": {html.UnescapeString(kept[1])}}
	req, err := http.NewRequest(http.MethodPost, lc.srv.baseURL+verifyPage, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	done := c.do(t, req)
	require.Equal(t, http.StatusOK, done.status, "body: %s", done.body)
	next := continueLink.FindStringSubmatch(string(done.body))
	require.NotNil(t, next, "a Continue link: %s", done.body)
	assert.Equal(t, welcome, html.UnescapeString(next[1]))
	assert.True(t, c.me(t, reg.AccessToken).user(t).EmailVerified, "the page's form verified the address")

	lc.expectMail(email, 1) // the refused requests sent nothing
}
