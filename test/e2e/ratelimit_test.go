package e2e_test

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rateLimited fails t unless r is a 429 rate_limited whose Retry-After is
// a whole number of seconds from 1 to the limit's window.
func (r response) rateLimited(t testing.TB, window time.Duration) {
	t.Helper()
	r.problem(t, http.StatusTooManyRequests, "rate_limited")
	raw := r.header.Get("Retry-After")
	secs, err := strconv.Atoi(raw)
	require.NoError(t, err, "Retry-After is a number of seconds: %q", raw)
	assert.GreaterOrEqual(t, secs, 1, "Retry-After")
	assert.LessOrEqual(t, secs, int(window/time.Second), "Retry-After is within the limit's window")
}

// The windows of the limits tested here (README.md lists them).
const (
	loginWindow         = 15 * time.Minute
	registerWindow      = time.Hour
	anonymousWindow     = time.Hour
	forgotWindow        = time.Hour
	resendWindow        = time.Hour
	passwordCheckWindow = 15 * time.Minute
)

// replicas are two servers, A and B, on one Postgres database, with the
// rate limits on.
type replicas struct {
	srvA, srvB *server
	a, b       *client
	mail       *mailbox
}

// alternate returns the client of A for even i, of B for odd.
func (p *replicas) alternate(i int) *client {
	if i%2 == 0 {
		return p.a
	}
	return p.b
}

// TestRateLimits: the limits hold across two instances that serve one
// Postgres database, because their counts live there, and they count
// atomically.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	gatehouseBinary(t)
	mb := startMailbox(t, mailboxOptions{})
	env := with(postgresBackend(t).database(t), with(mb.env(t), noShutdownDelay))
	env["GATEHOUSE_RATE_LIMITS"] = "on" // the harness turns them off by default
	env["GATEHOUSE_PUBLIC_URL"] = publicURL
	p := &replicas{srvA: startServer(t, env), srvB: startServer(t, env), mail: mb}
	for _, s := range []*server{p.srvA, p.srvB} {
		require.NotContains(t, s.log.String(), "every rate limit is disabled")
	}
	p.a, p.b = newClient(t, p.srvA), newClient(t, p.srvB)

	runConcurrently(t,
		subtest{"failed logins", func(t *testing.T) { testLoginLimit(t, p) }},
		subtest{"parallel failed logins", func(t *testing.T) { testLoginLimitRace(t, p) }},
		subtest{"registrations per client", func(t *testing.T) { testRegisterLimit(t, p) }},
		subtest{"password checks", func(t *testing.T) { testPasswordCheckLimit(t, p) }},
		subtest{"anonymous users per client", func(t *testing.T) { testAnonymousLimit(t, p) }},
		subtest{"reset requests", func(t *testing.T) { testForgotLimits(t, p) }},
		subtest{"verification resends", func(t *testing.T) { testResendLimit(t, p) }},
		subtest{"second-factor codes", func(t *testing.T) { testMFALimit(t, p) }},
		subtest{"logins per client", func(t *testing.T) { testLoginIPLimit(t, p) }},
		subtest{"the owner's device is not locked out", func(t *testing.T) { testDeviceExemption(t, p) }},
		subtest{"a reset lifts a lockout", func(t *testing.T) { testResetLiftsLockout(t, p) }},
		subtest{"a second factor lifts a lockout", func(t *testing.T) { testSecondFactorLiftsLockout(t, p) }},
	)
}

// testLoginLimit: ten failed logins for one account from one client,
// alternating between the replicas, lock that account out for that client
// on both; other accounts, and other clients, are unaffected.
func testLoginLimit(t *testing.T, p *replicas) {
	email, password := newEmail("locked"), newPassword()
	p.a.register(t, email, password)
	bystander, bystanderPassword := newEmail("bystander"), newPassword()
	p.b.register(t, bystander, bystanderPassword)

	wrong := credentials(email, password+"-wrong")
	for i := range 10 {
		p.alternate(i).post(t, "/v1/auth/login", wrong).problem(t, http.StatusUnauthorized, "invalid_credentials")
	}
	p.a.post(t, "/v1/auth/login", wrong).rateLimited(t, loginWindow)
	// Attempts count before the password is checked: the right one does
	// not get through either.
	p.b.post(t, "/v1/auth/login", credentials(email, password)).rateLimited(t, loginWindow)

	// Another account from the same client is unaffected.
	p.a.post(t, "/v1/auth/login", credentials(bystander, bystanderPassword+"-wrong")).problem(t, http.StatusUnauthorized, "invalid_credentials")
	p.b.login(t, bystander, bystanderPassword)

	// So is the same account from another client, and its success resets
	// only that client's count.
	elsewhere := newClientFrom(t, p.srvB, "127.0.0.4")
	got := elsewhere.login(t, email, password)
	sessions := elsewhere.sessions(t, got.AccessToken)
	require.Contains(t, sessions, sid(t, got.AccessToken))
	assert.Equal(t, "127.0.0.4", sessions[sid(t, got.AccessToken)].IP, "the server saw the other client address")
	p.a.post(t, "/v1/auth/login", credentials(email, password)).rateLimited(t, loginWindow)
}

// accountWindow is the window of the account-wide login limit.
const accountWindow = time.Hour

// lockOut spends the account-wide login limit of email with ten wrong
// passwords from each of ten client addresses (127.0.<net>.1 to .10),
// alternating between the replicas, as the attack did, and checks
// that the right password is then refused from an eleventh address.
func lockOut(t *testing.T, p *replicas, net int, email, password string) {
	t.Helper()
	wrong := credentials(email, password+"-wrong")
	for a := range 10 {
		ip := fmt.Sprintf("127.0.%d.%d", net, a+1)
		attackers := []*client{newClientFrom(t, p.srvA, ip), newClientFrom(t, p.srvB, ip)}
		for i := range 10 {
			attackers[i%2].post(t, "/v1/auth/login", wrong).problem(t, http.StatusUnauthorized, "invalid_credentials")
		}
	}
	fresh := newClientFrom(t, p.srvA, fmt.Sprintf("127.0.%d.100", net))
	fresh.post(t, "/v1/auth/login", credentials(email, password)).rateLimited(t, accountWindow)
}

// testResetLiftsLockout: an account locked by other clients' guesses is
// let in again once its owner resets the password, from any client.
func testResetLiftsLockout(t *testing.T, p *replicas) {
	email, password := newEmail("locked-reset"), newPassword()
	p.a.register(t, email, password)
	lockOut(t, p, 10, email, password)

	owner := newClientFrom(t, p.srvB, "127.0.10.200")
	owner.post(t, "/v1/auth/password/forgot", jsonBody(map[string]string{"email": email})).accepted(t)
	fresh := newPassword()
	owner.post(t, "/v1/auth/password/reset", resetBody(p.mail.await(t, email, resetPage).Token(), fresh)).noContent(t)
	newClientFrom(t, p.srvA, "127.0.10.201").login(t, email, fresh)
}

// testSecondFactorLiftsLockout: so is an account whose owner answers a
// second-factor challenge begun before the lockout.
func testSecondFactorLiftsLockout(t *testing.T, p *replicas) {
	email, password := newEmail("locked-mfa"), newPassword()
	reg := p.a.register(t, email, password)
	app, _ := p.a.enrolTOTP(t, reg)
	owner := newClientFrom(t, p.srvB, "127.0.11.200")
	challenge := owner.mfaChallenge(t, email, password)
	lockOut(t, p, 11, email, password)

	owner.post(t, "/v1/auth/mfa/verify", mfaAnswer(t, challenge, "code", app.next(t))).tokens(t, http.StatusOK)
	newClientFrom(t, p.srvA, "127.0.11.201").mfaChallenge(t, email, password)
}

// testLoginIPLimit: a hundred logins from one client address, alternating
// between the replicas, spend its allowance whichever emails they name,
// known or not, and whether they succeed or not; another address is
// unaffected.
func testLoginIPLimit(t *testing.T, p *replicas) {
	email, password := newEmail("sprayed"), newPassword()
	p.a.register(t, email, password)
	sprayer := []*client{newClientFrom(t, p.srvA, "127.0.12.1"), newClientFrom(t, p.srvB, "127.0.12.1")}
	for i := range 100 {
		c := sprayer[i%2]
		switch {
		case i == 50:
			c.login(t, email, password)
		case i%10 == 0:
			c.post(t, "/v1/auth/login", credentials(email, password+"-wrong")).problem(t, http.StatusUnauthorized, "invalid_credentials")
		default:
			c.post(t, "/v1/auth/login", credentials(newEmail("spray-nobody"), password)).problem(t, http.StatusUnauthorized, "invalid_credentials")
		}
	}
	sprayer[0].post(t, "/v1/auth/login", credentials(newEmail("spray-nobody"), password)).rateLimited(t, loginWindow)
	sprayer[1].post(t, "/v1/auth/login", credentials(email, password)).rateLimited(t, loginWindow)
	newClientFrom(t, p.srvB, "127.0.12.2").login(t, email, password)
}

// deviceCookieName is the device cookie's name at publicURL (HTTPS).
const deviceCookieName = "__Host-gatehouse-device"

// deviceCookie returns the device cookie r sets, failing t unless it sets
// exactly one, with the attributes README.md promises.
func deviceCookie(t *testing.T, r response) *http.Cookie {
	t.Helper()
	var found []*http.Cookie
	for _, v := range r.header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(v)
		require.NoError(t, err)
		if c.Name == deviceCookieName {
			found = append(found, c)
		}
	}
	require.Len(t, found, 1, "one device cookie")
	c := found[0]
	assert.True(t, c.HttpOnly)
	assert.True(t, c.Secure)
	assert.Equal(t, http.SameSiteStrictMode, c.SameSite)
	assert.Equal(t, "/", c.Path)
	assert.Equal(t, 365*24*60*60, c.MaxAge, "a year")
	return c
}

// loginWithDevice posts the credentials from c with the device cookie
// device.
func loginWithDevice(t *testing.T, c *client, email, password string, device *http.Cookie) response {
	t.Helper()
	req := c.newRequest(t, http.MethodPost, "/v1/auth/login", credentials(email, password))
	req.AddCookie(&http.Cookie{Name: device.Name, Value: device.Value})
	return c.do(t, req)
}

// testDeviceExemption: a client that signed in to an account before
// holds a device cookie, which lets it past that account's limit once
// guesses from elsewhere have spent it, on either replica; another
// account's cookie, or a forged one, does not; a client without one still
// meets the limit.
func testDeviceExemption(t *testing.T, p *replicas) {
	email, password := newEmail("device-owner"), newPassword()
	other, otherPassword := newEmail("device-other"), newPassword()
	deviceCookie(t, p.a.post(t, "/v1/auth/register", credentials(email, password)))
	ownerA, ownerB := newClientFrom(t, p.srvA, "127.0.13.200"), newClientFrom(t, p.srvB, "127.0.13.200")
	device := deviceCookie(t, ownerA.post(t, "/v1/auth/login", credentials(email, password)))
	othersDevice := deviceCookie(t, p.b.post(t, "/v1/auth/register", credentials(other, otherPassword)))
	lockOut(t, p, 13, email, password)

	ownerB.post(t, "/v1/auth/login", credentials(email, password)).rateLimited(t, accountWindow)
	forged := &http.Cookie{Name: device.Name, Value: device.Value[:len(device.Value)-4] + "AAAA"}
	for _, c := range []*http.Cookie{othersDevice, forged} {
		loginWithDevice(t, ownerA, email, password, c).rateLimited(t, accountWindow)
	}
	got := loginWithDevice(t, ownerB, email, password, device).tokens(t, http.StatusOK)
	assert.Equal(t, email, *got.User.Email)
}

// loginRacers is how many failed logins arrive at once.
const loginRacers = 30

// testLoginLimitRace: of many failed logins for one account that arrive
// at once, split over the replicas, exactly ten get their password
// checked: the count is atomic.
func testLoginLimitRace(t *testing.T, p *replicas) {
	email, password := newEmail("stormed"), newPassword()
	p.a.register(t, email, password)

	results := make([]response, loginRacers)
	errs := make([]error, loginRacers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range loginRacers {
		c := p.alternate(i)
		req := c.newRequest(t, http.MethodPost, "/v1/auth/login", credentials(email, password+"-wrong"))
		wg.Go(func() {
			<-start
			results[i], errs[i] = c.send(req)
		})
	}
	close(start)
	wg.Wait()

	counts := map[int]int{}
	for i, r := range results {
		require.NoError(t, errs[i], "attempt %d", i)
		counts[r.status]++
		if r.status == http.StatusTooManyRequests {
			r.rateLimited(t, loginWindow)
		}
	}
	assert.Equal(t, map[int]int{http.StatusUnauthorized: 10, http.StatusTooManyRequests: loginRacers - 10}, counts,
		"exactly 10 attempts get their password checked, however many arrive at once on either replica")
}

// testRegisterLimit: twenty registrations from one client, alternating
// between the replicas, use up that client's allowance on both.
func testRegisterLimit(t *testing.T, p *replicas) {
	// A client address of its own, so that the accounts the other
	// subtests register from 127.0.0.1 do not count.
	fromA, fromB := newClientFrom(t, p.srvA, "127.0.0.2"), newClientFrom(t, p.srvB, "127.0.0.2")
	for i := range 20 {
		[]*client{fromA, fromB}[i%2].register(t, newEmail("flood"), newPassword())
	}
	fromA.post(t, "/v1/auth/register", credentials(newEmail("flood"), newPassword())).rateLimited(t, registerWindow)
	fromB.post(t, "/v1/auth/register", credentials(newEmail("flood"), newPassword())).rateLimited(t, registerWindow)
	// The limit is the client's, not everyone's.
	newClientFrom(t, p.srvB, "127.0.0.3").register(t, newEmail("not-flood"), newPassword())
}

// testPasswordCheckLimit: ten wrong current passwords, alternating between
// the replicas, stop further password checks of that user on both, for
// password change and account deletion alike.
func testPasswordCheckLimit(t *testing.T, p *replicas) {
	email, password := newEmail("guessed"), newPassword()
	reg := p.a.register(t, email, password)
	change := jsonBody(map[string]string{"current_password": password + "-wrong", "new_password": newPassword()})
	for i := range 10 {
		p.alternate(i).call(t, http.MethodPost, "/v1/auth/password/change", change, reg.AccessToken).
			problem(t, http.StatusUnauthorized, "invalid_credentials")
	}
	p.a.call(t, http.MethodPost, "/v1/auth/password/change", change, reg.AccessToken).rateLimited(t, passwordCheckWindow)
	// The same count guards deletion, which needs the password too: even
	// the right one is not checked.
	p.b.call(t, http.MethodDelete, "/v1/me", jsonBody(map[string]string{"password": password}), reg.AccessToken).
		rateLimited(t, passwordCheckWindow)
	p.b.me(t, reg.AccessToken).user(t)
}

// testAnonymousLimit: twenty anonymous users from one client, alternating
// between the replicas, use up that client's allowance on both.
func testAnonymousLimit(t *testing.T, p *replicas) {
	fromA, fromB := newClientFrom(t, p.srvA, "127.0.0.6"), newClientFrom(t, p.srvB, "127.0.0.6")
	for i := range 20 {
		[]*client{fromA, fromB}[i%2].post(t, "/v1/auth/anonymous", `{}`).tokens(t, http.StatusCreated)
	}
	fromB.post(t, "/v1/auth/anonymous", `{}`).rateLimited(t, anonymousWindow)
	fromA.post(t, "/v1/auth/anonymous", `{}`).rateLimited(t, anonymousWindow)
}

// testForgotLimits: reset requests are limited per address, from any
// client, whether or not it has an account (five), and per client (ten),
// on both replicas alike.
func testForgotLimits(t *testing.T, p *replicas) {
	forgot := func(c *client, email string) response {
		return c.post(t, "/v1/auth/password/forgot", jsonBody(map[string]string{"email": email}))
	}

	t.Run("per address", func(t *testing.T) {
		fromA, fromB := newClientFrom(t, p.srvA, "127.0.0.5"), newClientFrom(t, p.srvB, "127.0.0.5")
		nobody := newEmail("forgot-nobody")
		for i := range 5 {
			forgot([]*client{fromA, fromB}[i%2], nobody).accepted(t)
		}
		forgot(fromA, nobody).rateLimited(t, forgotWindow)
		forgot(newClientFrom(t, p.srvB, "127.0.0.8"), nobody).rateLimited(t, forgotWindow)
		forgot(fromB, newEmail("forgot-other")).accepted(t)
	})
	t.Run("per client", func(t *testing.T) {
		fromA, fromB := newClientFrom(t, p.srvA, "127.0.0.7"), newClientFrom(t, p.srvB, "127.0.0.7")
		for i := range 10 {
			forgot([]*client{fromA, fromB}[i%2], newEmail("forgot-many")).accepted(t)
		}
		forgot(fromB, newEmail("forgot-many")).rateLimited(t, forgotWindow)
		forgot(fromA, newEmail("forgot-many")).rateLimited(t, forgotWindow)
	})
}

// testResendLimit: five verification emails per user, whichever replica
// sends them.
func testResendLimit(t *testing.T, p *replicas) {
	email := newEmail("resend-often")
	reg := p.a.register(t, email, newPassword())
	for i := range 5 {
		p.alternate(i).call(t, http.MethodPost, "/v1/auth/verify-email/resend", "", reg.AccessToken).accepted(t)
	}
	p.b.call(t, http.MethodPost, "/v1/auth/verify-email/resend", "", reg.AccessToken).rateLimited(t, resendWindow)
	for range 1 + 5 { // register's and the resends'
		p.mail.await(t, email, verifyPage)
	}
}
