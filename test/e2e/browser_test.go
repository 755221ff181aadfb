package e2e_test

import (
	"context"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/test/pgtest"
)

// browserTimeout bounds everything one browser does in a test, its start
// included.
const browserTimeout = 2 * time.Minute

// browserNames are the names under which a Chromium is looked for on PATH;
// Debian's package installs /usr/bin/chromium (make browser installs it).
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// newBrowser starts a headless Chromium for t and returns the context of
// its tab; the browser ends with t. Without a Chromium t is skipped, or
// fails under GATEHOUSE_REQUIRE_DOCKER=1, which CI sets so that no browser
// test passes by not running.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	var path string
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		reason := "no Chromium found on PATH (looked for " + strings.Join(browserNames, ", ") +
			"); install Debian's chromium package, as make browser does"
		if pgtest.RequireDocker() {
			t.Fatalf("GATEHOUSE_REQUIRE_DOCKER=1 but %s", reason)
		}
		t.Skipf("skipping browser test: %s (set GATEHOUSE_REQUIRE_DOCKER=1 to fail instead)", reason)
	}

	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		// No UserDataDir: chromedp's own profile directory is removed once
		// Chromium's child processes are gone too (they outlive the
		// browser for a moment), which t.TempDir's removal would not wait
		// for.
		chromedp.Headless,
		chromedp.DisableGPU,
		// As root in a container: no user namespaces for the sandbox, and
		// a small /dev/shm.
		chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	// Cleanups run last-in first-out: the tab closes, then the browser
	// process ends and is waited for, and with it the profile directory's
	// removal.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	require.NoError(t, chromedp.Do(tab), "start %s", path)
	return tab
}

// TestBrowser follows the links of the account emails in a real browser:
// the pages they open consume nothing until their form is sent, and the
// form does what the API does, with the password policy's verdict shown in
// the page.
func TestBrowser(t *testing.T) {
	t.Parallel()
	gatehouseBinary(t)
	tab := newBrowser(t) // first: skip before starting anything else
	b := postgresBackend(t)
	mb := startMailbox(t, mailboxOptions{})
	srv := startLinkedServer(t, with(b.database(t), mb.env(t)))
	c := newClient(t, srv)

	email, password := newEmail("browser"), newPassword()
	reg := c.register(t, email, password)

	t.Run("verify email", func(t *testing.T) {
		link := mb.await(t, email, verifyPage).Link()
		require.True(t, strings.HasPrefix(link, srv.baseURL+verifyPage+"?"), link)

		res, err := chromedp.Run(tab, chromedp.NavigateResponse(link))
		require.NoError(t, err)
		assert.EqualValues(t, http.StatusOK, res.Status)
		require.NoError(t, chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS(`form button[type="submit"]`))))
		assert.Equal(t, "Confirm your email address", pageText(t, tab, "h1"))
		assert.False(t, c.me(t, reg.AccessToken).user(t).EmailVerified, "opening the link consumed nothing")

		res, err = chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))
		require.NoError(t, err)
		assert.EqualValues(t, http.StatusOK, res.Status)
		assert.Equal(t, "Your email address is confirmed", pageText(t, tab, "h1"))
		assert.Equal(t, email, pageText(t, tab, "main strong"))
		assert.True(t, c.me(t, reg.AccessToken).user(t).EmailVerified, "the form verified the address")
	})

	t.Run("reset password", func(t *testing.T) {
		c.post(t, "/v1/auth/password/forgot", jsonBody(map[string]string{"email": email})).accepted(t)
		m := mb.await(t, email, resetPage)
		link := m.Link()
		require.True(t, strings.HasPrefix(link, srv.baseURL+resetPage+"?"), link)

		// What the policy says of a common password, as the API words it;
		// the refused attempt leaves the token usable.
		const weak = "password123"
		p := c.post(t, "/v1/auth/password/reset", resetBody(m.Token(), weak)).problem(t, http.StatusBadRequest, "validation_failed")
		require.Len(t, p.Errors, 1)
		policy := p.Errors[0].Message
		require.NotEmpty(t, policy)

		res, err := chromedp.Run(tab, chromedp.NavigateResponse(link))
		require.NoError(t, err)
		assert.EqualValues(t, http.StatusOK, res.Status)
		assert.Equal(t, "Choose a new password", pageText(t, tab, "h1"))
		require.NoError(t, chromedp.Do(tab, chromedp.SendKeys(chromedp.ID("password"), weak)))
		res, err = chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))
		require.NoError(t, err)
		assert.EqualValues(t, http.StatusBadRequest, res.Status)
		require.NoError(t, chromedp.Do(tab, chromedp.WaitVisible(chromedp.ID("password-problems"))))
		assert.Equal(t, policy, pageText(t, tab, "#password-problems li"), "the page shows the policy's message")
		html, err := chromedp.Run(tab, chromedp.OuterHTML(chromedp.CSS("html")))
		require.NoError(t, err)
		assert.Contains(t, html, policy)
		hidden, err := chromedp.Run(tab, chromedp.Value(chromedp.CSS(`form input[name="token"]`)))
		require.NoError(t, err)
		assert.Equal(t, m.Token(), hidden, "the form keeps the token for another try")
		c.login(t, email, password) // the refused password changed nothing

		fresh := newPassword()
		usedSecrets.add(fresh) // typed into the browser, never sent by the client before the login below
		require.NoError(t, chromedp.Do(tab, chromedp.SendKeys(chromedp.ID("password"), fresh)))
		res, err = chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))
		require.NoError(t, err)
		assert.EqualValues(t, http.StatusOK, res.Status)
		assert.Equal(t, "Your password has been changed", pageText(t, tab, "h1"))
		forms, err := chromedp.Run(tab, chromedp.Nodes(chromedp.CSS("form"), chromedp.AtLeast(0)))
		require.NoError(t, err)
		assert.Empty(t, forms, "the success page has no form")

		c.post(t, "/v1/auth/login", credentials(email, password)).problem(t, http.StatusUnauthorized, "invalid_credentials")
		c.refresh(t, reg.RefreshToken).problem(t, http.StatusUnauthorized, "invalid_refresh_token")
		after := c.login(t, email, fresh)
		assert.Equal(t, reg.User.ID, after.User.ID)
	})
}

// pageText returns the visible text of the first element that the CSS
// selector matches, waiting for it to be visible.
func pageText(t testing.TB, tab context.Context, selector string) string {
	t.Helper()
	s, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(selector), chromedp.NodeVisible))
	require.NoError(t, err, "text of %s", selector)
	return strings.TrimSpace(s)
}

// postgresBackend returns the Postgres back end, for scenarios that need
// it: several instances on one database, or no need to repeat on SQLite.
func postgresBackend(t *testing.T) backend {
	t.Helper()
	for _, b := range backends() {
		if b.concurrent {
			return b
		}
	}
	t.Fatal("no back end serves several instances at once")
	return backend{}
}
