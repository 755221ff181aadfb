package e2e_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/test/smtptest"
)

// adminAPIKey is GATEHOUSE_ADMIN_API_KEY of the lifecycle servers.
var adminAPIKey = "e2e-admin-" + rand.Text() + rand.Text()

func init() {
	// No log may contain the admin key, whichever server's.
	usedSecrets.add(adminAPIKey)
}

// lifecycle is a server whose account emails go over a real SMTP
// conversation to a mailbox and link back to the server itself, with the
// admin API enabled and appURL as its GATEHOUSE_REDIRECT_URLS.
type lifecycle struct {
	b    backend
	srv  *server
	c    *client
	mail *mailbox
	// secure says whether mail goes over STARTTLS with AUTH (else plain
	// loopback SMTP).
	secure bool

	mu sync.Mutex
	// expected is how many emails each address must have received in
	// all, checked once the server has stopped, and so has delivered
	// everything it queued.
	expected map[string]int
}

// expectMail records that addr must have received exactly n emails by the
// time the server has stopped.
func (lc *lifecycle) expectMail(addr string, n int) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	lc.expected[addr] = n
}

// lifecycleScenarios share one lifecycle server per back end, side by
// side; each uses accounts of its own.
var lifecycleScenarios = []struct {
	name string
	run  func(t *testing.T, lc *lifecycle)
	// postgresOnly marks scenarios that start servers of their own to
	// test what does not depend on the database: once is enough.
	postgresOnly bool
}{
	{"MailTransport", testMailTransport, false},
	{"Verification", testVerification, false},
	{"VerificationResend", testVerificationResend, false},
	{"PasswordReset", testPasswordReset, false},
	{"PasswordChange", testPasswordChange, false},
	{"DeleteAccount", testDeleteAccount, false},
	{"Sessions", testSessions, false},
	{"Admin", testAdmin, false},
	{"AdminDisabled", testAdminDisabled, true},
	{"MailRetry", testMailRetry, true},
	{"Redirect", testRedirect, false},
}

// TestLifecycle takes accounts through their whole life (verification,
// reset, password change, sessions, the admin API, deletion) with the
// account emails delivered over SMTP and their links followed, on each
// back end.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	gatehouseBinary(t) // fail, rather than skip, when the build failed
	var perBackend []subtest
	for _, b := range backends() {
		perBackend = append(perBackend, subtest{b.name, func(t *testing.T) { testLifecycle(t, b) }})
	}
	runConcurrently(t, perBackend...)
}

// testLifecycle runs the lifecycle scenarios on one server on b, side by
// side.
func testLifecycle(t *testing.T, b backend) {
	// Postgres's server speaks STARTTLS and AUTH with the SMTP server,
	// trusting its certificate through SSL_CERT_FILE; SQLite's speaks
	// plain SMTP over loopback.
	secure := b.name == "Postgres"
	mb := startMailbox(t, mailboxOptions{startTLS: secure, auth: secure})
	env := with(b.database(t), mb.env(t))
	env["GATEHOUSE_ADMIN_API_KEY"] = adminAPIKey
	env["GATEHOUSE_REDIRECT_URLS"] = appURL
	srv := startLinkedServer(t, env)
	lc := &lifecycle{b: b, srv: srv, c: newClient(t, srv), mail: mb, secure: secure, expected: map[string]int{}}

	log := srv.log.String()
	require.Contains(t, log, `"msg":"sending account emails over SMTP"`)
	require.NotContains(t, log, "GATEHOUSE_SMTP_URL is not set", "the log mailer, which logs links, is not in use")

	var scenarios []subtest
	for _, s := range lifecycleScenarios {
		if s.postgresOnly && !b.concurrent {
			continue
		}
		scenarios = append(scenarios, subtest{s.name, func(t *testing.T) { s.run(t, lc) }})
	}
	runConcurrently(t, scenarios...)

	// Stopping drains the background work and the mail queue: from now on
	// nothing more will arrive.
	srv.stop(t)
	lc.mu.Lock()
	defer lc.mu.Unlock()
	for addr, n := range lc.expected {
		assert.Len(t, mb.sentTo(addr), n, "emails to %s", addr)
	}
	log = srv.log.String()
	for _, m := range mb.Messages() {
		for _, to := range m.To {
			assert.NotContains(t, log, to, "the server logs the recipient's domain only, never the address")
		}
	}
}

// subtest is a named subtest.
type subtest struct {
	name string
	run  func(t *testing.T)
}

// runConcurrently runs the subtests of t all at once and returns when all
// have ended. Unlike subtests that call t.Parallel, they do not queue for
// the -parallel slots (GOMAXPROCS by default, 2 on a small CI machine):
// these scenarios spend their time waiting for servers, mail and browsers,
// not on the CPU of the test binary.
func runConcurrently(t *testing.T, subtests ...subtest) {
	t.Helper()
	var wg sync.WaitGroup
	for _, s := range subtests {
		wg.Go(func() { t.Run(s.name, s.run) })
	}
	wg.Wait()
}

// tokenBody is the body of verify-email.
func tokenBody(token string) string {
	b, _ := json.Marshal(map[string]string{"token": token})
	return string(b)
}

// resetBody is the body of password/reset.
func resetBody(token, password string) string {
	b, _ := json.Marshal(map[string]string{"token": token, "password": password})
	return string(b)
}

// jsonBody marshals members to a JSON object.
func jsonBody(members map[string]string) string {
	b, _ := json.Marshal(members)
	return string(b)
}

// call sends a request with a JSON body (none when empty) and the bearer
// credential (none when empty).
func (c *client) call(t testing.TB, method, path, body, bearer string) response {
	t.Helper()
	req := c.newRequest(t, method, path, body)
	if bearer != "" {
		withBearer(req, bearer)
	}
	return c.do(t, req)
}

// noContent fails t unless r is an empty 204.
func (r response) noContent(t testing.TB) {
	t.Helper()
	require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
	assert.Empty(t, r.body)
}

// accepted fails t unless r is a 202.
func (r response) accepted(t testing.TB) {
	t.Helper()
	require.Equal(t, http.StatusAccepted, r.status, "body: %s", r.body)
}

// checkLink fails t unless m's link is the server's page with the token,
// in both parts of the email.
func checkLink(t testing.TB, lc *lifecycle, m smtptest.Message, page string) {
	t.Helper()
	assert.Equal(t, lc.srv.baseURL+page+"?token="+m.Token(), m.Link(), "the link leads to GATEHOUSE_PUBLIC_URL%s", page)
	assert.Contains(t, m.HTML, m.Link(), "the HTML part has the link too")
	assert.Len(t, m.Token(), 43, "the token is 32 random bytes, base64url")
}

// testMailTransport: the emails go out through the configured SMTP server,
// from GATEHOUSE_MAIL_FROM, over TLS with credentials when the lifecycle
// server is set up so, and as multipart text and HTML.
func testMailTransport(t *testing.T, lc *lifecycle) {
	email := lc.c.register(t, newEmail("transport"), newPassword()).User.Email
	require.NotNil(t, email)
	m := lc.mail.await(t, *email, verifyPage)

	assert.Equal(t, mailFromAddress, m.From, "the envelope sender")
	assert.Equal(t, []string{*email}, m.To, "the envelope recipient")
	assert.Contains(t, m.Header.Get("From"), mailFromAddress)
	assert.Contains(t, m.Header.Get("To"), *email)
	assert.Equal(t, "Confirm your email address", m.Subject())
	assert.Contains(t, m.Header.Get("Content-Type"), "multipart/")
	assert.NotEmpty(t, m.Text)
	assert.NotEmpty(t, m.HTML)

	commands := lc.mail.Commands()
	if lc.secure {
		assert.True(t, m.TLS, "delivered over TLS")
		assert.Equal(t, lc.mail.user, m.AuthUser, "delivered after AUTH")
		starttls, auth := slices.Index(commands, "STARTTLS"), slices.Index(commands, "AUTH")
		require.GreaterOrEqual(t, starttls, 0, "STARTTLS was sent: %v", commands)
		require.GreaterOrEqual(t, auth, 0, "AUTH was sent: %v", commands)
		assert.Less(t, starttls, auth, "credentials only after STARTTLS")
	} else {
		assert.False(t, m.TLS)
		assert.Empty(t, m.AuthUser)
		assert.NotContains(t, commands, "AUTH")
	}
}

// testVerification: the email sent on register verifies the address once;
// then verification mails are refused.
func testVerification(t *testing.T, lc *lifecycle) {
	c := lc.c
	email := newEmail("verify")
	reg := c.register(t, email, newPassword())
	m := lc.mail.await(t, email, verifyPage)
	checkLink(t, lc, m, verifyPage)
	assert.Equal(t, "Confirm your email address", m.Subject())
	assert.Contains(t, m.Text, "expires in 24 hours", "the text says how long the link lives")
	assert.Contains(t, m.HTML, "expires in 24 hours")

	assert.False(t, c.me(t, reg.AccessToken).user(t).EmailVerified)
	u := c.post(t, "/v1/auth/verify-email", tokenBody(m.Token())).user(t)
	assert.True(t, u.EmailVerified)
	assert.Equal(t, reg.User.ID, u.ID)
	assert.True(t, c.me(t, reg.AccessToken).user(t).EmailVerified)

	c.post(t, "/v1/auth/verify-email", tokenBody(m.Token())).problem(t, http.StatusBadRequest, "invalid_token")
	c.call(t, http.MethodPost, "/v1/auth/verify-email/resend", "", reg.AccessToken).problem(t, http.StatusConflict, "already_verified")

	refreshed := c.refresh(t, reg.RefreshToken).tokens(t, http.StatusOK)
	assert.True(t, refreshed.User.EmailVerified)
	assert.Equal(t, true, jwtClaims(t, refreshed.AccessToken)["email_verified"], "new access tokens say verified")

	lc.expectMail(email, 1) // the refused resend sent nothing
}

// testVerificationResend: a resent link replaces the first one.
func testVerificationResend(t *testing.T, lc *lifecycle) {
	c := lc.c
	email := newEmail("resend")
	reg := c.register(t, email, newPassword())
	first := lc.mail.await(t, email, verifyPage)

	c.call(t, http.MethodPost, "/v1/auth/verify-email/resend", "", reg.AccessToken).accepted(t)
	second := lc.mail.await(t, email, verifyPage)
	checkLink(t, lc, second, verifyPage)
	require.NotEqual(t, first.Token(), second.Token())

	c.post(t, "/v1/auth/verify-email", tokenBody(first.Token())).problem(t, http.StatusBadRequest, "invalid_token")
	assert.False(t, c.me(t, reg.AccessToken).user(t).EmailVerified)
	u := c.post(t, "/v1/auth/verify-email", tokenBody(second.Token())).user(t)
	assert.True(t, u.EmailVerified)
	assert.Equal(t, reg.User.ID, u.ID)

	lc.expectMail(email, 2)
}

// testPasswordReset: forgot-password mails a link only to an existing
// account; the link's token sets a new password once, revokes every
// session and cannot stand in for a verification token, nor the other way
// round.
func testPasswordReset(t *testing.T, lc *lifecycle) {
	c := lc.c
	email, oldPassword := newEmail("reset"), newPassword()
	reg := c.register(t, email, oldPassword)
	verification := lc.mail.await(t, email, verifyPage)
	other := c.login(t, email, oldPassword)

	// The unknown address first: by the time the known one's email has
	// arrived, the unknown one's lookup has long finished. (After the
	// server has stopped TestLifecycle checks again, when every email
	// there was to send has gone out.)
	unknown := newEmail("reset-nobody")
	lc.expectMail(unknown, 0)
	c.post(t, "/v1/auth/password/forgot", jsonBody(map[string]string{"email": unknown})).accepted(t)
	c.post(t, "/v1/auth/password/forgot", jsonBody(map[string]string{"email": strings.ToUpper(email)})).accepted(t)
	first := lc.mail.await(t, email, resetPage)
	assert.Empty(t, lc.mail.sentTo(unknown), "no email for an address without an account")
	assert.Equal(t, []string{email}, first.To, "to the address of the account, not as the request spelt it")
	checkLink(t, lc, first, resetPage)
	assert.Equal(t, "Reset your password", first.Subject())
	assert.Contains(t, first.Text, "expires in 1 hour", "the text says how long the link lives")
	assert.Contains(t, first.HTML, "expires in 1 hour")

	// A newer link replaces it.
	c.post(t, "/v1/auth/password/forgot", jsonBody(map[string]string{"email": email})).accepted(t)
	second := lc.mail.await(t, email, resetPage)
	require.NotEqual(t, first.Token(), second.Token())
	c.post(t, "/v1/auth/password/reset", resetBody(first.Token(), newPassword())).problem(t, http.StatusBadRequest, "invalid_token")

	// Neither kind of token is the other.
	c.post(t, "/v1/auth/password/reset", resetBody(verification.Token(), newPassword())).problem(t, http.StatusBadRequest, "invalid_token")
	c.post(t, "/v1/auth/verify-email", tokenBody(second.Token())).problem(t, http.StatusBadRequest, "invalid_token")

	// A refused password leaves the token usable.
	p := c.post(t, "/v1/auth/password/reset", resetBody(second.Token(), "password123")).problem(t, http.StatusBadRequest, "validation_failed")
	assert.Equal(t, []string{"password:weak_password"}, p.fieldErrors())

	fresh := newPassword()
	c.post(t, "/v1/auth/password/reset", resetBody(second.Token(), fresh)).noContent(t)
	for name, refresh := range map[string]string{"register": reg.RefreshToken, "login": other.RefreshToken} {
		r := c.refresh(t, refresh)
		assert.Equal(t, http.StatusUnauthorized, r.status, "the %s session was revoked: %s", name, r.body)
		assert.Equal(t, "invalid_refresh_token", r.codeOf(), name)
	}
	c.post(t, "/v1/auth/login", credentials(email, oldPassword)).problem(t, http.StatusUnauthorized, "invalid_credentials")
	after := c.login(t, email, fresh)
	assert.Equal(t, reg.User.ID, after.User.ID)
	assert.True(t, after.User.EmailVerified, "the reset link reached the address, which verifies it")

	c.post(t, "/v1/auth/password/reset", resetBody(second.Token(), fresh+"-again")).problem(t, http.StatusBadRequest, "invalid_token")
	c.login(t, email, fresh) // the refused reuse changed nothing

	lc.expectMail(email, 3) // one verification, two resets
}

// testPasswordChange: a change needs the current password and revokes
// every session but the caller's.
func testPasswordChange(t *testing.T, lc *lifecycle) {
	c := lc.c
	email, oldPassword := newEmail("change"), newPassword()
	reg := c.register(t, email, oldPassword)
	other := c.login(t, email, oldPassword)
	fresh := newPassword()
	change := func(current, next string) response {
		return c.call(t, http.MethodPost, "/v1/auth/password/change",
			jsonBody(map[string]string{"current_password": current, "new_password": next}), reg.AccessToken)
	}

	change(oldPassword+"-wrong", fresh).problem(t, http.StatusUnauthorized, "invalid_credentials")
	p := change(oldPassword, "password123").problem(t, http.StatusBadRequest, "validation_failed")
	assert.Equal(t, []string{"new_password:weak_password"}, p.fieldErrors())
	third := c.login(t, email, oldPassword) // the refused changes changed nothing

	change(oldPassword, fresh).noContent(t)
	for name, refresh := range map[string]string{"login": other.RefreshToken, "another login": third.RefreshToken} {
		r := c.refresh(t, refresh)
		assert.Equal(t, http.StatusUnauthorized, r.status, "the %s session was revoked: %s", name, r.body)
		assert.Equal(t, "invalid_refresh_token", r.codeOf(), name)
	}
	still := c.refresh(t, reg.RefreshToken).tokens(t, http.StatusOK)
	assert.Equal(t, reg.User.ID, still.User.ID, "the caller's session stays")

	c.post(t, "/v1/auth/login", credentials(email, oldPassword)).problem(t, http.StatusUnauthorized, "invalid_credentials")
	c.login(t, email, fresh)
}

// testDeleteAccount: deletion needs the password and takes the user's
// sessions and tokens along; the address is free again afterwards.
func testDeleteAccount(t *testing.T, lc *lifecycle) {
	c := lc.c
	email, password := newEmail("delete"), newPassword()
	reg := c.register(t, email, password)
	verification := lc.mail.await(t, email, verifyPage)
	other := c.login(t, email, password)

	c.call(t, http.MethodDelete, "/v1/me", jsonBody(map[string]string{"password": password + "-wrong"}), reg.AccessToken).
		problem(t, http.StatusUnauthorized, "invalid_credentials")
	c.me(t, reg.AccessToken).user(t)

	c.call(t, http.MethodDelete, "/v1/me", jsonBody(map[string]string{"password": password}), reg.AccessToken).noContent(t)
	c.me(t, reg.AccessToken).bearerProblem(t, "invalid_token")
	for name, refresh := range map[string]string{"register": reg.RefreshToken, "login": other.RefreshToken} {
		r := c.refresh(t, refresh)
		assert.Equal(t, http.StatusUnauthorized, r.status, "the %s session is gone: %s", name, r.body)
		assert.Equal(t, "invalid_refresh_token", r.codeOf(), name)
	}
	c.post(t, "/v1/auth/verify-email", tokenBody(verification.Token())).problem(t, http.StatusBadRequest, "invalid_token")
	c.post(t, "/v1/auth/login", credentials(email, password)).problem(t, http.StatusUnauthorized, "invalid_credentials")

	again := c.register(t, email, newPassword())
	assert.NotEqual(t, reg.User.ID, again.User.ID, "a new user")
	assert.False(t, again.User.EmailVerified)
	m := lc.mail.await(t, email, verifyPage)
	u := c.post(t, "/v1/auth/verify-email", tokenBody(m.Token())).user(t)
	assert.Equal(t, again.User.ID, u.ID)

	lc.expectMail(email, 2)
}

// session is an entry of GET /v1/me/sessions.
type session struct {
	ID         string `json:"id"`
	CreatedAt  string `json:"created_at"`
	LastUsedAt string `json:"last_used_at"`
	UserAgent  string `json:"user_agent"`
	IP         string `json:"ip"`
	Current    bool   `json:"current"`
}

// sessions lists the bearer's sessions by id.
func (c *client) sessions(t testing.TB, accessToken string) map[string]session {
	t.Helper()
	r := c.get(t, "/v1/me/sessions", accessToken)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	var list struct {
		Sessions []session `json:"sessions"`
	}
	require.NoError(t, json.Unmarshal(r.body, &list))
	out := map[string]session{}
	for _, s := range list.Sessions {
		out[s.ID] = s
	}
	require.Len(t, out, len(list.Sessions), "session ids are unique")
	return out
}

// loginAs logs in with the User-Agent ua.
func (c *client) loginAs(t testing.TB, email, password, ua string) tokenResponse {
	t.Helper()
	req := c.newRequest(t, http.MethodPost, "/v1/auth/login", credentials(email, password))
	req.Header.Set("User-Agent", ua)
	return c.do(t, req).tokens(t, http.StatusOK)
}

// sid returns the session id of an access token.
func sid(t testing.TB, accessToken string) string {
	t.Helper()
	s, ok := jwtClaims(t, accessToken)["sid"].(string)
	require.True(t, ok && s != "", "the access token has a sid")
	return s
}

// testSessions: a user sees their sessions, with where each came from and
// which is the caller's, and can end one of their own but no one else's.
func testSessions(t *testing.T, lc *lifecycle) {
	c := lc.c
	ua := "gatehouse-e2e-sessions/" + rand.Text()
	email, password := newEmail("sessions"), newPassword()
	reg := c.register(t, email, password)
	one := c.loginAs(t, email, password, ua+" (one)")
	two := c.loginAs(t, email, password, ua+" (two)")

	list := c.sessions(t, two.AccessToken)
	require.Len(t, list, 3, "register and the two logins")
	var current []string
	for id, s := range list {
		if s.Current {
			current = append(current, id)
		}
		assert.Equal(t, "127.0.0.1", s.IP, "session %s", id)
		assert.Regexp(t, rfc3339UTC, s.CreatedAt)
		assert.Regexp(t, rfc3339UTC, s.LastUsedAt)
	}
	assert.Equal(t, []string{sid(t, two.AccessToken)}, current, "exactly the caller's session is current")
	assert.Equal(t, ua+" (one)", list[sid(t, one.AccessToken)].UserAgent)
	assert.Equal(t, ua+" (two)", list[sid(t, two.AccessToken)].UserAgent)
	assert.Equal(t, "gatehouse-e2e/1.0", list[sid(t, reg.AccessToken)].UserAgent)

	// Another user's session is as unknown as one that never existed.
	stranger := c.register(t, newEmail("sessions-stranger"), newPassword())
	c.call(t, http.MethodDelete, "/v1/me/sessions/"+sid(t, stranger.AccessToken), "", two.AccessToken).problem(t, http.StatusNotFound, "not_found")
	c.call(t, http.MethodDelete, "/v1/me/sessions/no-such-session", "", two.AccessToken).problem(t, http.StatusNotFound, "not_found")
	c.refresh(t, stranger.RefreshToken).tokens(t, http.StatusOK)

	c.call(t, http.MethodDelete, "/v1/me/sessions/"+sid(t, one.AccessToken), "", two.AccessToken).noContent(t)
	c.refresh(t, one.RefreshToken).problem(t, http.StatusUnauthorized, "invalid_refresh_token")
	list = c.sessions(t, two.AccessToken)
	assert.NotContains(t, list, sid(t, one.AccessToken))
	assert.Len(t, list, 2)
	c.refresh(t, two.RefreshToken).tokens(t, http.StatusOK)
	c.refresh(t, reg.RefreshToken).tokens(t, http.StatusOK)
}

// testAdmin: the admin API takes the key and nothing else; a tier it sets
// reaches the user's access tokens at the next refresh.
func testAdmin(t *testing.T, lc *lifecycle) {
	c := lc.c
	reg := c.register(t, newEmail("admin"), newPassword())
	path := "/v1/admin/users/" + reg.User.ID
	member := jsonBody(map[string]string{"tier": "member"})

	for name, bearer := range map[string]string{
		"no key":              "",
		"a user's token":      reg.AccessToken,
		"a wrong key":         adminAPIKey + "x",
		"a prefix of the key": adminAPIKey[:len(adminAPIKey)-1],
	} {
		r := c.call(t, http.MethodGet, path, "", bearer)
		assert.Equal(t, http.StatusUnauthorized, r.status, "GET with %s: %s", name, r.body)
		r = c.call(t, http.MethodPatch, path, member, bearer)
		assert.Equal(t, http.StatusUnauthorized, r.status, "PATCH with %s: %s", name, r.body)
	}

	got := c.call(t, http.MethodGet, path, "", adminAPIKey).user(t)
	assert.Equal(t, reg.User, got)
	assert.Equal(t, "free", got.Tier, "the refused PATCHes changed nothing")

	p := c.call(t, http.MethodPatch, path, jsonBody(map[string]string{"tier": "emperor"}), adminAPIKey).problem(t, http.StatusBadRequest, "validation_failed")
	assert.Equal(t, []string{"tier:invalid_tier"}, p.fieldErrors())
	c.call(t, http.MethodPatch, path, jsonBody(map[string]string{"tier": "anonymous"}), adminAPIKey).problem(t, http.StatusBadRequest, "validation_failed")
	c.call(t, http.MethodGet, "/v1/admin/users/no-such-user", "", adminAPIKey).problem(t, http.StatusNotFound, "not_found")

	patched := c.call(t, http.MethodPatch, path, member, adminAPIKey).user(t)
	assert.Equal(t, "member", patched.Tier)
	assert.Equal(t, reg.User.ID, patched.ID)
	assert.Equal(t, "member", c.me(t, reg.AccessToken).user(t).Tier)

	refreshed := c.refresh(t, reg.RefreshToken).tokens(t, http.StatusOK)
	assert.Equal(t, "member", refreshed.User.Tier)
	assert.Equal(t, "member", jwtClaims(t, refreshed.AccessToken)["tier"], "the next refresh carries the new tier")
}

// testAdminDisabled: without GATEHOUSE_ADMIN_API_KEY the admin API does not
// exist, whatever the caller presents.
func testAdminDisabled(t *testing.T, lc *lifecycle) {
	srv := startServer(t, with(lc.b.database(t), with(noShutdownDelay, map[string]string{"GATEHOUSE_PUBLIC_URL": publicURL})))
	c := newClient(t, srv)
	reg := c.register(t, newEmail("no-admin"), newPassword())
	path := "/v1/admin/users/" + reg.User.ID
	for name, bearer := range map[string]string{"no key": "", "a key": adminAPIKey, "a user's token": reg.AccessToken} {
		c.call(t, http.MethodGet, path, "", bearer).problem(t, http.StatusNotFound, "not_found")
		r := c.call(t, http.MethodPatch, path, jsonBody(map[string]string{"tier": "member"}), bearer)
		assert.Equal(t, http.StatusNotFound, r.status, "PATCH with %s: %s", name, r.body)
	}
	assert.Equal(t, "free", c.me(t, reg.AccessToken).user(t).Tier)
}

// testMailRetry: an email the SMTP server refuses at first (greylisting,
// over implicit TLS with AUTH) is delivered on a later attempt, while the
// request that caused it has already succeeded; the failed attempt is
// logged without the recipient's address.
func testMailRetry(t *testing.T, lc *lifecycle) {
	mb := startMailbox(t, mailboxOptions{implicitTLS: true, auth: true, failFirst: 1})
	srv := startLinkedServer(t, with(lc.b.database(t), mb.env(t)))
	c := newClient(t, srv)

	email := newEmail("greylisted")
	reg := c.register(t, email, newPassword()) // 201 while the mail is still on its way
	m := mb.await(t, email, verifyPage)
	assert.Equal(t, 1, mb.Rejected(), "the first delivery was refused")
	assert.True(t, m.TLS, "smtps")
	assert.Equal(t, mb.user, m.AuthUser)
	assert.Equal(t, reg.User.ID, c.post(t, "/v1/auth/verify-email", tokenBody(m.Token())).user(t).ID)

	srv.stop(t)
	assert.Len(t, mb.sentTo(email), 1, "delivered once")
	var failed, sent []map[string]any
	for line := range strings.Lines(srv.log.String()) {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		switch rec["msg"] {
		case "email delivery attempt failed; will retry":
			failed = append(failed, rec)
		case "email sent":
			sent = append(sent, rec)
		}
	}
	require.Len(t, failed, 1, "the failed attempt is logged")
	assert.Equal(t, "WARN", failed[0]["level"])
	assert.Equal(t, "example.com", failed[0]["recipient_domain"])
	assert.Contains(t, failed[0]["error"], "451", "the log says why")
	require.Len(t, sent, 1)
	assert.EqualValues(t, 2, sent[0]["attempts"])
	assert.NotContains(t, srv.log.String(), email, "the server's reply named the recipient; the log does not")
}
