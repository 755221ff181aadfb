package e2e_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/test/otptest"
)

// authenticator is an authenticator app holding one key: it makes the
// codes with the tests' own RFC 6238 implementation, and never offers a
// code of a time step it already gave, as the server accepts a step once.
type authenticator struct {
	key  string
	last int64 // the last step it gave a code of
}

// next returns a code the server accepts now: of the current step, or
// of the one after it when the current one is spent (the server allows
// a step of drift). Tests use at most two codes per 30 seconds, so none
// waits for the clock.
func (a *authenticator) next(t testing.TB) string {
	t.Helper()
	step := max(a.last+1, time.Now().Unix()/30)
	a.last = step
	code, err := otptest.CodeOfText(a.key, time.Unix(step*30, 0))
	require.NoError(t, err)
	return code
}

// spent returns the code of the last step given again: a replay.
func (a *authenticator) spent(t testing.TB) string {
	t.Helper()
	code, err := otptest.CodeOfText(a.key, time.Unix(a.last*30, 0))
	require.NoError(t, err)
	return code
}

// enrolTOTP enrols and verifies an authenticator app for the session of
// reg, and returns it with the recovery codes.
func (c *client) enrolTOTP(t testing.TB, reg tokenResponse) (*authenticator, []string) {
	t.Helper()
	r := c.do(t, withBearer(c.newRequest(t, http.MethodPost, "/v1/me/mfa/totp", ""), reg.AccessToken))
	require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	var e struct {
		Secret     string `json:"secret"`
		OTPAuthURI string `json:"otpauth_uri"`
	}
	require.NoError(t, json.Unmarshal(r.body, &e))
	usedSecrets.add(e.Secret)
	app := &authenticator{key: e.Secret}
	r = c.do(t, withBearer(c.newRequest(t, http.MethodPost, "/v1/me/mfa/totp/verify", `{"code":"`+app.next(t)+`"}`), reg.AccessToken))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	var codes struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	require.NoError(t, json.Unmarshal(r.body, &codes))
	require.Len(t, codes.RecoveryCodes, 10)
	for _, code := range codes.RecoveryCodes {
		usedSecrets.add(code)
	}
	return app, codes.RecoveryCodes
}

// mfaChallenge logs in with email and password, which must answer
// mfa_required, and returns the challenge token.
func (c *client) mfaChallenge(t testing.TB, email, password string) string {
	t.Helper()
	r := c.post(t, "/v1/auth/login", credentials(email, password))
	r.problem(t, http.StatusUnauthorized, "mfa_required")
	var p struct {
		MFAToken string   `json:"mfa_token"`
		Factors  []string `json:"factors"`
	}
	require.NoError(t, json.Unmarshal(r.body, &p))
	require.NotEmpty(t, p.MFAToken)
	assert.Equal(t, []string{"totp"}, p.Factors)
	return p.MFAToken
}

// mfaAnswer is the body of /v1/auth/mfa/verify.
func mfaAnswer(t testing.TB, challenge, member, code string) string {
	t.Helper()
	return string(mustJSON(t, map[string]string{"mfa_token": challenge, member: code}))
}

// testMFA: an authenticator app as the second factor, end to end. Once
// it is verified a password alone gets mfa_required; the code finishes
// the sign-in with an aal2 session whose token says amr pwd+otp. A wrong
// or replayed code is refused, the challenge is single-use, each recovery
// code works once, and a service that demands aal2 refuses the
// registration's aal1 token and takes the new one.
func testMFA(t *testing.T, c *client) {
	email, password := newEmail("mfa"), newPassword()
	reg := c.register(t, email, password)
	app, recovery := c.enrolTOTP(t, reg)

	challenge := c.mfaChallenge(t, email, password)
	c.post(t, "/v1/auth/mfa/verify", mfaAnswer(t, challenge, "code", "000000")).problem(t, http.StatusUnauthorized, "invalid_mfa_code")
	c.post(t, "/v1/auth/mfa/verify", mfaAnswer(t, challenge, "code", app.spent(t))).problem(t, http.StatusUnauthorized, "invalid_mfa_code")
	strong := c.post(t, "/v1/auth/mfa/verify", mfaAnswer(t, challenge, "code", app.next(t))).tokens(t, http.StatusOK)
	claims := jwtClaims(t, strong.AccessToken)
	assert.Equal(t, "aal2", claims["aal"])
	assert.Equal(t, []any{"pwd", "otp"}, claims["amr"])
	assert.Equal(t, reg.User.ID, strong.User.ID)
	c.post(t, "/v1/auth/mfa/verify", mfaAnswer(t, challenge, "code", app.spent(t))).problem(t, http.StatusUnauthorized, "invalid_mfa_token")

	second := c.mfaChallenge(t, email, password)
	byRecovery := c.post(t, "/v1/auth/mfa/verify", mfaAnswer(t, second, "recovery_code", recovery[0])).tokens(t, http.StatusOK)
	assert.Equal(t, []any{"pwd", "recovery"}, jwtClaims(t, byRecovery.AccessToken)["amr"])
	third := c.mfaChallenge(t, email, password)
	c.post(t, "/v1/auth/mfa/verify", mfaAnswer(t, third, "recovery_code", recovery[0])).problem(t, http.StatusUnauthorized, "invalid_mfa_code")

	set, _ := c.jwks(t)
	assert.Equal(t, http.StatusForbidden, requireAAL2(t, set, reg.AccessToken), "the registration's token is aal1")
	assert.Equal(t, http.StatusOK, requireAAL2(t, set, strong.AccessToken))
	assert.Equal(t, http.StatusOK, requireAAL2(t, set, byRecovery.AccessToken))
}

// requireAAL2 is the check of README's example, as a service behind
// Gatehouse makes it with a JOSE library of its own: the token's
// signature from the JWKS, then its aal claim. It returns the status the
// service answers with.
func requireAAL2(t testing.TB, set jose.JSONWebKeySet, token string) int {
	t.Helper()
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil || len(jws.Signatures) != 1 {
		return http.StatusUnauthorized
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		return http.StatusUnauthorized
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		return http.StatusUnauthorized
	}
	var claims struct {
		AAL string `json:"aal"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return http.StatusUnauthorized
	}
	if claims.AAL != "aal2" {
		return http.StatusForbidden
	}
	return http.StatusOK
}

// challengeWait bounds how long testMFAChallengeExpiry awaits the expiry
// of a challenge that lives a minute: its lifetime with a wide margin for
// a busy machine.
const challengeWait = 3 * time.Minute

// testMFAChallengeExpiry: on a server whose challenges live a minute
// (GATEHOUSE_MFA_CHALLENGE_TTL, at its minimum), a challenge answers with
// wrong codes as invalid_mfa_code while it lives, then, once it has
// expired, invalid_mfa_token, even to the right code. The test awaits the
// expiry by asking, never by sleeping a guess.
func testMFAChallengeExpiry(t *testing.T, b backend) {
	srv := startServer(t, with(b.database(t), map[string]string{"GATEHOUSE_PUBLIC_URL": publicURL, "GATEHOUSE_MFA_CHALLENGE_TTL": "1m"}))
	c := newClient(t, srv)
	email, password := newEmail("mfa-expiry"), newPassword()
	reg := c.register(t, email, password)
	app, _ := c.enrolTOTP(t, reg)
	challenge := c.mfaChallenge(t, email, password)

	deadline := time.Now().Add(challengeWait)
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	live := 0
	for {
		r := c.post(t, "/v1/auth/mfa/verify", mfaAnswer(t, challenge, "code", "000000"))
		if r.codeOf() == "invalid_mfa_token" {
			break
		}
		r.problem(t, http.StatusUnauthorized, "invalid_mfa_code")
		live++
		require.True(t, time.Now().Before(deadline), "the challenge still lived %s after it was made", challengeWait)
		<-tick.C
	}
	assert.Positive(t, live, "it lived first")
	c.post(t, "/v1/auth/mfa/verify", mfaAnswer(t, challenge, "code", app.next(t))).problem(t, http.StatusUnauthorized, "invalid_mfa_token")
}

// testMFALimit: codes for one user are limited across replicas: five
// wrong ones on one challenge, alternating between A and B, and the next
// attempt, even with the right code, is refused with Retry-After.
func testMFALimit(t *testing.T, p *replicas) {
	email, password := newEmail("mfa-limit"), newPassword()
	reg := p.a.register(t, email, password)
	app, _ := p.a.enrolTOTP(t, reg)
	challenge := p.b.mfaChallenge(t, email, password)
	for i := range 5 {
		p.alternate(i).post(t, "/v1/auth/mfa/verify", mfaAnswer(t, challenge, "code", "000000")).problem(t, http.StatusUnauthorized, "invalid_mfa_code")
	}
	p.a.post(t, "/v1/auth/mfa/verify", mfaAnswer(t, challenge, "code", app.next(t))).rateLimited(t, 5*time.Minute)
}
