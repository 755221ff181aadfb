package httpapi_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// page fails unless r is a page with status, and returns its HTML.
func (r response) page(t *testing.T, status int) string {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	require.True(t, r.isPage(), "Content-Type %q", r.header.Get("Content-Type"))
	return string(r.body)
}

// hiddenToken finds the value of a form's hidden token field.
var hiddenToken = regexp.MustCompile(`<input type="hidden" name="token" value="([^"]*)">`)

// formToken returns the token a page's form holds, unescaped.
func formToken(t *testing.T, page string) string {
	t.Helper()
	m := hiddenToken.FindStringSubmatch(page)
	require.NotNil(t, m, "no hidden token field in %s", page)
	return html.UnescapeString(m[1])
}

// verified reports whether the user's address is verified, from the store.
func (h *harness) verified(user string) bool {
	h.t.Helper()
	u, err := h.store.Stores().Users.ByID(context.Background(), domain.UserID(user))
	require.NoError(h.t, err)
	return u.EmailVerified
}

func TestVerifyEmailPageShowsAFormAndConsumesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	token := h.linkToken("ada@example.com", domain.EmailVerifyAddress)

	for range 2 { // a mail scanner, then the person
		page := h.get("/verify-email?token="+url.QueryEscape(token), "").page(t, http.StatusOK)

		assert.Equal(t, token, formToken(t, page))
		assert.Contains(t, page, `<html lang="en">`)
		assert.Regexp(t, `<title>[^<]+</title>`, page)
		assert.Contains(t, page, `<form method="post" action="verify-email">`)
		assert.Contains(t, page, `<button type="submit">Confirm my email</button>`)
		assert.False(t, h.verified(ada.User.ID), "GET verifies nothing")
		assert.False(t, h.get("/v1/me", ada.AccessToken).user(t).EmailVerified)
	}
}

func TestVerifyEmailPageFormVerifies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	page := h.get("/verify-email?token="+url.QueryEscape(h.linkToken("ada@example.com", domain.EmailVerifyAddress)), "").
		page(t, http.StatusOK)

	// What a browser sends for the page's own form: no Referer, so Origin null.
	done := h.postForm("/verify-email", url.Values{"token": {formToken(t, page)}},
		"Origin", "null", "Sec-Fetch-Site", "same-origin").page(t, http.StatusOK)

	assert.Contains(t, done, "Your email address is confirmed")
	assert.Contains(t, done, "ada@example.com")
	assert.True(t, h.get("/v1/me", ada.AccessToken).user(t).EmailVerified)

	again := h.postForm("/verify-email", url.Values{"token": {formToken(t, page)}}).page(t, http.StatusBadRequest)
	assert.Contains(t, again, "This link is invalid or has expired")
}

func TestPagesWithoutAGoodTokenShowTheErrorPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	for _, path := range []string{"/verify-email", "/verify-email?token=", "/reset-password", "/reset-password?other=1",
		"/verify-email?token=" + strings.Repeat("x", 513)} {
		t.Run(path[:min(len(path), 30)], func(t *testing.T) {
			page := h.get(path, "").page(t, http.StatusBadRequest)
			assert.Contains(t, page, "This link is invalid or has expired")
			assert.Contains(t, page, "24 hours to confirm an email address, 1 hour to reset a password",
				"the lifetimes the domain gives the tokens")
			assert.NotContains(t, page, "<form")
		})
	}
	for _, path := range []string{"/verify-email", "/reset-password"} {
		for _, form := range []url.Values{{}, {"token": {"unknown"}, "password": {newPassword}}} {
			page := h.postForm(path, form).page(t, http.StatusBadRequest)
			assert.Contains(t, page, "This link is invalid or has expired")
		}
	}
}

func TestResetPasswordPageShowsAPasswordForm(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.register("ada@example.com")
	token := h.forgot("ada@example.com")

	page := h.get("/reset-password?token="+url.QueryEscape(token), "").page(t, http.StatusOK)

	assert.Equal(t, token, formToken(t, page))
	assert.Contains(t, page, `<form method="post" action="reset-password">`)
	assert.Contains(t, page, `<label for="password">`)
	assert.Regexp(t, `<input type="password" id="password" name="password" autocomplete="new-password" required minlength="8" maxlength="256"`, page)
	assert.NotContains(t, page, `aria-invalid="true"`)
	h.post("/v1/auth/login", `{"email":"ada@example.com","password":"`+password+`"}`).tokens(t, http.StatusOK) // nothing changed
}

func TestResetPasswordPageShowsPolicyProblemsAndKeepsTheToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	token := h.forgot("ada@example.com")

	page := h.postForm("/reset-password", url.Values{"token": {token}, "password": {"password123"}}).page(t, http.StatusBadRequest)

	assert.Contains(t, page, html.EscapeString("This password is too common; choose one that is harder to guess."))
	assert.Regexp(t, `<title>Error: `, page)
	assert.Contains(t, page, `aria-invalid="true"`)
	assert.NotContains(t, page, "password123", "the refused password is not echoed")
	assert.Equal(t, token, formToken(t, page), "the same token, to try again")

	page = h.postForm("/reset-password", url.Values{"token": {formToken(t, page)}, "password": {"ada-was-here"}}).page(t, http.StatusBadRequest)
	assert.Contains(t, page, "Password must not contain the part of your email address before the @.")

	page = h.postForm("/reset-password", url.Values{"token": {formToken(t, page)}, "password": {newPassword}},
		"Origin", publicOrigin).page(t, http.StatusOK)
	assert.Contains(t, page, "Your password has been changed; sign in again")
	h.post("/v1/auth/refresh", `{"refresh_token":"`+ada.RefreshToken+`"}`).
		requireProblem(t, http.StatusUnauthorized, "invalid_refresh_token")
	h.post("/v1/auth/login", `{"email":"ada@example.com","password":"`+newPassword+`"}`).tokens(t, http.StatusOK)
}

func TestPageFormsFromAnotherSiteAreRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	token := h.linkToken("ada@example.com", domain.EmailVerifyAddress)
	form := url.Values{"token": {token}}

	refused := [][]string{
		{"Origin", "https://evil.example"},
		{"Origin", "http://auth.example.com"},               // another scheme
		{"Origin", "https://auth.example.com.evil.example"}, // a prefix
		{"Origin", "https://auth.example.com:8443"},         // another port
		{"Origin", "https://auth.example.com/x"},            // not an origin
		{"Origin", publicOrigin, "Origin", "https://evil.example"},
		{"Origin", "null", "Sec-Fetch-Site", "cross-site"}, // a sandboxed frame
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"},
	}
	for _, header := range refused {
		t.Run(strings.Join(header, " "), func(t *testing.T) {
			for _, path := range []string{"/verify-email", "/reset-password"} {
				page := h.postForm(path, form, header...).page(t, http.StatusForbidden)
				assert.Contains(t, page, "This form was sent from another site")
			}
		})
	}
	assert.False(t, h.verified(ada.User.ID), "no refused form got through")

	accepted := [][]string{
		{"Origin", "HTTPS://Auth.Example.com"},
		{"Origin", "https://auth.example.com:443"},
		{"Sec-Fetch-Site", "same-origin"},
		{"Sec-Fetch-Site", "none"},
		{"Origin", "null"},
		{}, // not a browser
	}
	for _, header := range accepted {
		ok := h.postForm("/verify-email", url.Values{"token": {"not-a-token"}}, header...)
		assert.Equal(t, http.StatusBadRequest, ok.status, "%v got past the origin check to the token", header)
		assert.Contains(t, string(ok.body), "This link is invalid or has expired")
	}
	h.postForm("/verify-email", form, "Origin", publicOrigin, "Sec-Fetch-Site", "same-origin").page(t, http.StatusOK)
	assert.True(t, h.verified(ada.User.ID))
}

func TestPageOriginWithoutAPublicURLIsTheRequestsHost(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *httpapi.Config) { c.PublicURL = "" })
	h.register("ada@example.com")
	form := url.Values{"token": {h.linkToken("ada@example.com", domain.EmailVerifyAddress)}}

	h.postForm("/verify-email", form, "Origin", publicOrigin).page(t, http.StatusForbidden)
	h.postForm("/verify-email", form, "Origin", h.srv.URL).page(t, http.StatusOK)
}

func TestPagesEscapeWhatTheyEcho(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const evil = `"><script>alert(1)</script><input value="`

	for _, path := range []string{"/verify-email", "/reset-password"} {
		t.Run(path, func(t *testing.T) {
			page := h.get(path+"?token="+url.QueryEscape(evil), "").page(t, http.StatusOK)

			assert.NotContains(t, page, `"><script>`)
			assert.NotContains(t, page, `<script>alert(1)`)
			assert.Contains(t, page, `&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;`)
			assert.Equal(t, evil, formToken(t, page), "the value survives, as data")
		})
	}
}

func TestPagesRefuseBadBodies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	big := h.request(http.MethodPost, "/verify-email", strings.NewReader("token="+strings.Repeat("x", 64<<10)))
	big.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.send(big).page(t, http.StatusRequestEntityTooLarge)

	for _, ct := range []string{"application/json", "multipart/form-data; boundary=x", "", "application/x-www-form-urlencoded; charset=latin1"} {
		req := h.request(http.MethodPost, "/reset-password", strings.NewReader("token=x&password=y"))
		req.Header.Del("Content-Type")
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		page := h.send(req).page(t, http.StatusUnsupportedMediaType)
		assert.Contains(t, page, "This request could not be handled")
	}

	bad := h.request(http.MethodPost, "/verify-email", strings.NewReader("token=%zz"))
	bad.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.send(bad).page(t, http.StatusBadRequest)
}

func TestPagesReadTheTokenFromTheBodyOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")
	token := h.linkToken("ada@example.com", domain.EmailVerifyAddress)

	h.postForm("/verify-email?token="+url.QueryEscape(token), url.Values{}).page(t, http.StatusBadRequest)

	assert.False(t, h.verified(ada.User.ID))
}

func TestPageFailuresShowAGenericErrorPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.register("ada@example.com")
	token := h.forgot("ada@example.com")

	req := h.request(http.MethodPost, "/reset-password", strings.NewReader(url.Values{"token": {token}, "password": {panicPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Request-ID", "page-panic")
	page := h.send(req).page(t, http.StatusInternalServerError)

	assert.Contains(t, page, "Something went wrong")
	assert.Contains(t, page, "<code>page-panic</code>", "the reference to quote")
	noLeak(t, page, "exploded", "secret-internal-detail", "goroutine", panicPassword)
	line := h.logs.requestLine(t, "page-panic")
	assert.Equal(t, "ERROR", line["level"])
	assert.Equal(t, "/reset-password", line["route"])
}

func TestPagesCarryTheirSecurityHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	responses := map[string]response{
		"form":  h.get("/verify-email?token=abc", ""),
		"error": h.get("/reset-password", ""),
		"403":   h.postForm("/verify-email", url.Values{"token": {"abc"}}, "Origin", "https://evil.example"),
	}
	for name, res := range responses {
		t.Run(name, func(t *testing.T) {
			require.True(t, res.isPage())
			checkPageHeaders(t, res) // send checked them too; this says which responses they are
			assert.Equal(t, "text/html; charset=utf-8", res.header.Get("Content-Type"))
			assert.Equal(t, "no-store", res.header.Get("Cache-Control"))
			assert.Equal(t, "no-referrer", res.header.Get("Referrer-Policy"))
			assert.Equal(t, "DENY", res.header.Get("X-Frame-Options"))
			assert.Equal(t, "nosniff", res.header.Get("X-Content-Type-Options"))
			assert.Contains(t, res.header.Get("Content-Security-Policy"), "form-action 'self'")
			assert.Contains(t, res.header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
		})
	}
}

func TestPageLogLinesCarryTheCode(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.register("ada@example.com")
	token := h.forgot("ada@example.com")

	req := h.request(http.MethodPost, "/reset-password", strings.NewReader(url.Values{"token": {token}, "password": {"short"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Request-ID", "page-400")
	h.send(req).page(t, http.StatusBadRequest)
	req = h.request(http.MethodGet, "/verify-email?token="+token, nil)
	req.Header.Set("X-Request-ID", "page-get")
	h.send(req).page(t, http.StatusOK)

	assert.Equal(t, "validation_failed", h.logs.requestLine(t, "page-400")["code"])
	assert.Equal(t, "/verify-email", h.logs.requestLine(t, "page-get")["route"])
	noLeak(t, h.logs.String(), token, "short")
}
