package e2e_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// passkeyPage is a page that uses Gatehouse's passkeys as an app would:
// register(token, name) registers one for the bearer, signIn(mfaToken)
// signs in with one (without a password when mfaToken is empty) and
// then presents the same answer again, which must be refused. Each
// resolves to what the page saw: the begin's ceremony token, and the
// status and body of the finish (and of the replay), or the error the
// browser threw.
const passkeyPage = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>passkeys</title></head><body>
<script>
const gatehouse = new URL(location.href).searchParams.get("gatehouse");
async function api(path, {body = {}, token} = {}) {
  const headers = {"Content-Type": "application/json"};
  if (token) headers["Authorization"] = "Bearer " + token;
  const r = await fetch(gatehouse + path, {method: "POST", headers, body: JSON.stringify(body)});
  return {status: r.status, text: await r.text()};
}
async function register(token, name) {
  const begun = await api("/v1/me/passkeys/begin", {token});
  if (begun.status !== 200) return begun;
  const {ceremony_token, options} = JSON.parse(begun.text);
  let credential;
  try {
    credential = await navigator.credentials.create({publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey)});
  } catch (e) {
    return {error: String(e)};
  }
  const done = await api("/v1/me/passkeys/finish", {token, body: {ceremony_token, credential: credential.toJSON(), name}});
  return {...done, ceremony: ceremony_token};
}
async function signIn(mfaToken) {
  const begun = await api("/v1/auth/passkey/begin", {body: mfaToken ? {mfa_token: mfaToken} : {}});
  if (begun.status !== 200) return begun;
  const {ceremony_token, options} = JSON.parse(begun.text);
  let credential;
  try {
    credential = await navigator.credentials.get({publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey)});
  } catch (e) {
    return {error: String(e)};
  }
  const body = {ceremony_token, credential: credential.toJSON()};
  const done = await api("/v1/auth/passkey/finish", {body});
  const again = await api("/v1/auth/passkey/finish", {body});
  return {...done, ceremony: ceremony_token, again: again.status, againText: again.text};
}
</script>
</body></html>`

// ceremonyResult is what passkeyPage's register and signIn resolve to.
type ceremonyResult struct {
	Status    int    `json:"status"`
	Text      string `json:"text"`
	Ceremony  string `json:"ceremony"`
	Again     int    `json:"again"`
	AgainText string `json:"againText"`
	Error     string `json:"error"`
}

// startPasskeyPage serves passkeyPage on loopback, for t, and returns
// the origin a browser reaches it at: http://localhost:PORT, since
// WebAuthn allows plain HTTP only on localhost, whose relying party ID
// is "localhost".
func startPasskeyPage(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(passkeyPage))
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	return "http://localhost:" + u.Port()
}

// TestPasskey registers a passkey through a page in real Chromium, with
// the CDP WebAuthn domain's virtual authenticator (a platform one that
// keeps discoverable credentials and verifies its user), on Postgres,
// and signs in with it: without a password (aal2, amr hwk and mfa), and
// as the second factor that a password sign-in of its user now needs
// (amr pwd and hwk). A ceremony token finishes one ceremony, and the
// same passkey on a page of an origin that GATEHOUSE_WEBAUTHN_ORIGINS
// does not list is refused, though CORS lets that page talk to
// Gatehouse. (An answer for another relying party ID no browser makes
// for a page: adapters/webauthn's tests prove that refusal with a
// software authenticator.)
func TestPasskey(t *testing.T) {
	t.Parallel()
	gatehouseBinary(t)
	tab := newBrowser(t) // first: skip before starting anything else
	b := postgresBackend(t)
	app, stranger := startPasskeyPage(t), startPasskeyPage(t)
	srv := startLinkedServer(t, with(b.database(t), map[string]string{
		"GATEHOUSE_CORS_ORIGINS":     app + "," + stranger,
		"GATEHOUSE_WEBAUTHN_RP_ID":   "localhost",
		"GATEHOUSE_WEBAUTHN_ORIGINS": app,
	}))
	c := newClient(t, srv)
	page := func(origin string) string { return origin + "/?" + url.Values{"gatehouse": {srv.baseURL}}.Encode() }
	run := func(t *testing.T, js string) ceremonyResult {
		t.Helper()
		r, err := chromedp.Run(tab, chromedp.Evaluate[ceremonyResult](js, chromedp.EvalAwaitPromise))
		require.NoError(t, err, js)
		usedSecrets.add(r.Ceremony)
		return r
	}
	amr := func(t *testing.T, r ceremonyResult) (any, any) {
		t.Helper()
		require.Equal(t, http.StatusOK, r.Status, "%+v", r)
		var tr tokenResponse
		require.NoError(t, json.Unmarshal([]byte(r.Text), &tr))
		usedSecrets.add(tr.AccessToken)
		usedSecrets.add(tr.RefreshToken)
		claims := jwtClaims(t, tr.AccessToken)
		return claims["amr"], claims["aal"]
	}

	_, err := chromedp.Call(tab, cdpwebauthn.Enable, cdpwebauthn.EnableParams{})
	require.NoError(t, err)
	_, err = chromedp.Call(tab, cdpwebauthn.AddVirtualAuthenticator, cdpwebauthn.AddVirtualAuthenticatorParams{
		Options: &cdpwebauthn.VirtualAuthenticatorOptions{
			Protocol: cdpwebauthn.AuthenticatorProtocolCtap2, Ctap2version: cdpwebauthn.Ctap2versionCtap21,
			Transport:      cdpwebauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true,
			AutomaticPresenceSimulation: true,
		},
	})
	require.NoError(t, err)

	email, password := newEmail("passkey"), newPassword()
	reg := c.register(t, email, password)
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(page(app))))

	t.Run("register", func(t *testing.T) {
		r := run(t, `register(`+jsString(reg.AccessToken)+`, "Chromium")`)
		require.Equal(t, http.StatusCreated, r.Status, "%+v", r)
		assert.Contains(t, r.Text, `"name":"Chromium"`)

		list := c.do(t, withBearer(c.newRequest(t, http.MethodGet, "/v1/me/passkeys", ""), reg.AccessToken))
		require.Equal(t, http.StatusOK, list.status, "body: %s", list.body)
		var got struct {
			Passkeys []struct {
				Name       string  `json:"name"`
				LastUsedAt *string `json:"last_used_at"`
			} `json:"passkeys"`
		}
		require.NoError(t, json.Unmarshal(list.body, &got))
		require.Len(t, got.Passkeys, 1)
		assert.Equal(t, "Chromium", got.Passkeys[0].Name)
		assert.Nil(t, got.Passkeys[0].LastUsedAt)
	})

	t.Run("sign in without a password", func(t *testing.T) {
		r := run(t, `signIn("")`)
		methods, aal := amr(t, r)
		assert.Equal(t, []any{"hwk", "mfa"}, methods)
		assert.Equal(t, "aal2", aal)
		assert.Equal(t, http.StatusUnauthorized, r.Again, "a ceremony finishes once: %s", r.AgainText)
		assert.Contains(t, r.AgainText, `"code":"invalid_ceremony"`)
	})

	t.Run("second factor after a password", func(t *testing.T) {
		r := c.post(t, "/v1/auth/login", credentials(email, password))
		r.problem(t, http.StatusUnauthorized, "mfa_required")
		var p struct {
			MFAToken string   `json:"mfa_token"`
			Factors  []string `json:"factors"`
		}
		require.NoError(t, json.Unmarshal(r.body, &p))
		assert.Equal(t, []string{"passkey"}, p.Factors, "the passkey is the user's second factor now")
		usedSecrets.add(p.MFAToken)

		signed := run(t, `signIn(`+jsString(p.MFAToken)+`)`)
		methods, aal := amr(t, signed)
		assert.Equal(t, []any{"pwd", "hwk"}, methods)
		assert.Equal(t, "aal2", aal)
		c.post(t, "/v1/auth/mfa/verify", `{"mfa_token":`+jsString(p.MFAToken)+`,"code":"000000"}`).
			problem(t, http.StatusUnauthorized, "invalid_mfa_token")
	})

	t.Run("another origin is refused", func(t *testing.T) {
		require.NoError(t, chromedp.Do(tab, chromedp.Navigate(page(stranger))))
		r := run(t, `signIn("")`)
		require.Empty(t, r.Error, "the browser signed, for the relying party localhost")
		assert.Equal(t, http.StatusBadRequest, r.Status, "%+v", r)
		assert.Contains(t, r.Text, `"code":"invalid_passkey"`)
	})

	srv.stop(t) // its log is buffered until then
	assert.Contains(t, srv.log.String(), "Error validating origin", "the refusal is logged with its reason")
}
