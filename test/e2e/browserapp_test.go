package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// appPage is a single-page app as a browser app would call Gatehouse in
// cookie mode: it keeps the access token in memory only, and the refresh
// token never reaches its scripts. call(path, options) fetches
// Gatehouse's path with credentials and resolves to what the page could
// see of the answer, or to the error fetch threw (a CORS refusal).
// attack(path) posts an empty form to Gatehouse's path, as a forged
// request from the page's origin would.
const appPage = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>app</title></head><body>
<script>
const gatehouse = new URL(location.href).searchParams.get("gatehouse");
async function call(path, {method = "POST", body, token, csrf = true} = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (csrf) headers["X-Gatehouse-CSRF"] = "1";
  if (token) headers["Authorization"] = "Bearer " + token;
  try {
    const r = await fetch(gatehouse + path, {
      method, headers, credentials: "include",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {status: r.status, text: await r.text()};
  } catch (e) {
    return {error: String(e)};
  }
}
function attack(path) {
  const f = document.createElement("form");
  f.method = "POST";
  f.action = gatehouse + path;
  document.body.appendChild(f);
  f.submit();
}
</script>
</body></html>`

// fetched is what appPage's call resolves to.
type fetched struct {
	Status int    `json:"status"`
	Text   string `json:"text"`
	Error  string `json:"error"`
}

// startAppPage serves appPage from an origin of its own on loopback, for t.
func startAppPage(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(appPage))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestBrowserApp runs a browser app of another origin against Gatehouse
// in real Chromium, in cookie mode, on each back end: it registers, keeps
// its session across a reload through the HttpOnly cookie alone, and signs
// out. A page of an origin not in GATEHOUSE_CORS_ORIGINS can neither read
// Gatehouse's answers (CORS) nor use the cookie with a forged form (the
// CSRF check), and a page of the app's own origin cannot either without
// the CSRF header.
func TestBrowserApp(t *testing.T) {
	t.Parallel()
	gatehouseBinary(t)
	tab := newBrowser(t) // first: skip before starting anything else
	app, stranger := startAppPage(t), startAppPage(t)

	for _, b := range backends() { // one tab, one back end at a time
		t.Run(b.name, func(t *testing.T) {
			srv := startLinkedServer(t, with(b.database(t), map[string]string{"GATEHOUSE_CORS_ORIGINS": app.URL}))
			page := func(of *httptest.Server) string {
				return of.URL + "/?" + url.Values{"gatehouse": {srv.baseURL}}.Encode()
			}
			call := func(t *testing.T, js string) fetched {
				t.Helper()
				f, err := chromedp.Run(tab, chromedp.Evaluate[fetched](js, chromedp.EvalAwaitPromise))
				require.NoError(t, err, js)
				return f
			}
			email, password := newEmail("browser-app"), newPassword()

			require.NoError(t, chromedp.Do(tab, chromedp.Navigate(page(app))))
			reg := call(t, `call("/v1/auth/register?mode=cookie", {body: {email: `+jsString(email)+`, password: `+jsString(password)+`}})`)
			require.Equal(t, http.StatusCreated, reg.Status, "%+v", reg)
			var body map[string]any
			require.NoError(t, json.Unmarshal([]byte(reg.Text), &body))
			assert.NotContains(t, body, "refresh_token", "the page never sees the refresh token")
			assert.NotEmpty(t, body["access_token"])

			cookie := refreshCookieIn(t, tab, srv.baseURL)
			require.NotNil(t, cookie, "the browser keeps the refresh cookie")
			assert.True(t, cookie.HTTPOnly)
			assert.Equal(t, network.CookieSameSiteStrict, cookie.SameSite)
			assert.Equal(t, "/", cookie.Path)
			scripts, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.cookie`))
			require.NoError(t, err)
			assert.NotContains(t, scripts, cookie.Value, "no script can read it")

			require.NoError(t, chromedp.Do(tab, chromedp.Reload()))
			refreshed := call(t, `call("/v1/auth/refresh?mode=cookie")`)
			require.Equal(t, http.StatusOK, refreshed.Status, "after a reload the cookie alone keeps the session: %+v", refreshed)
			access := accessTokenOf(t, refreshed)
			me := call(t, `call("/v1/me", {method: "GET", token: `+jsString(access)+`, csrf: false})`)
			require.Equal(t, http.StatusOK, me.Status, "%+v", me)
			assert.Contains(t, me.Text, `"email":"`+email+`"`)

			forged := call(t, `call("/v1/auth/logout?mode=cookie", {csrf: false})`)
			assert.Equal(t, http.StatusForbidden, forged.Status, "%+v", forged)
			assert.Contains(t, forged.Text, `"code":"csrf_header_missing"`)

			require.NoError(t, chromedp.Do(tab, chromedp.Navigate(page(stranger))))
			read := call(t, `call("/v1/auth/refresh?mode=cookie")`)
			assert.Zero(t, read.Status, "CORS keeps Gatehouse's answer from an unlisted origin: %+v", read)
			assert.Contains(t, read.Error, "TypeError")
			res, err := chromedp.RunResponse(tab, chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
				_, err := chromedp.Evaluate[any](`attack("/v1/auth/logout?mode=cookie")`)(ctx, target)
				return err
			}))
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(res.URL, srv.baseURL+"/v1/auth/logout"), "the forged form was sent: %s", res.URL)
			assert.EqualValues(t, http.StatusForbidden, res.Status)
			text, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(`body`)))
			require.NoError(t, err)
			assert.Contains(t, text, `"code":"cross_origin_request"`, "the origin check refused the forged form")

			require.NoError(t, chromedp.Do(tab, chromedp.Navigate(page(app))))
			again := call(t, `call("/v1/auth/refresh?mode=cookie")`)
			require.Equal(t, http.StatusOK, again.Status, "neither forgery ended the session: %+v", again)

			out := call(t, `call("/v1/auth/logout?mode=cookie")`)
			require.Equal(t, http.StatusNoContent, out.Status, "%+v", out)
			assert.Nil(t, refreshCookieIn(t, tab, srv.baseURL), "signing out clears the cookie")
			after := call(t, `call("/v1/auth/refresh?mode=cookie")`)
			assert.Equal(t, http.StatusUnauthorized, after.Status, "%+v", after)
			assert.Contains(t, after.Text, `"code":"invalid_refresh_token"`)
		})
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// accessTokenOf returns the access token of a token response the page
// fetched.
func accessTokenOf(t *testing.T, f fetched) string {
	t.Helper()
	var tr tokenResponse
	require.NoError(t, json.Unmarshal([]byte(f.Text), &tr))
	require.NotEmpty(t, tr.AccessToken)
	return tr.AccessToken
}

// refreshCookieIn returns the refresh cookie the browser keeps for
// baseURL, or nil. A server on plain-HTTP loopback names it without the
// __Host- prefix.
func refreshCookieIn(t *testing.T, tab context.Context, baseURL string) *network.Cookie {
	t.Helper()
	got, err := chromedp.Call(tab, network.GetCookies, network.GetCookiesParams{URLs: []string{baseURL}})
	require.NoError(t, err)
	for _, c := range got.Cookies {
		if c.Name == "gatehouse-refresh" {
			return c
		}
	}
	return nil
}
