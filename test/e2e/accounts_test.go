package e2e_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var rfc3339UTC = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`)

// testRegister: registration answers with tokens for a free, unverified
// user whose email is normalised, and refuses duplicates, weak passwords,
// bad emails and any attempt to choose the tier, id or verified flag.
func testRegister(t *testing.T, c *client) {
	email := newEmail("ada.lovelace")
	password := newPassword()

	r := c.post(t, "/v1/auth/register", credentials("  "+strings.ToUpper(email)+"\t", password))
	tokens := r.tokens(t, http.StatusCreated)
	assert.Equal(t, "Bearer", tokens.TokenType)
	assert.Equal(t, 900, tokens.ExpiresIn, "the default access-token TTL is 15m")
	assert.Equal(t, "free", tokens.User.Tier)
	assert.False(t, tokens.User.EmailVerified)
	require.NotNil(t, tokens.User.Email)
	assert.Equal(t, email, *tokens.User.Email, "stored trimmed and lower-cased")
	assert.NotEmpty(t, tokens.User.ID)
	assert.Regexp(t, rfc3339UTC, tokens.User.CreatedAt)

	me := c.me(t, tokens.AccessToken).user(t)
	assert.Equal(t, tokens.User, me, "GET /v1/me shows the registered user")

	t.Run("duplicate in another case", func(t *testing.T) {
		dup := strings.ToUpper(email[:1]) + email[1:]
		require.NotEqual(t, email, dup)
		c.post(t, "/v1/auth/register", credentials(dup, newPassword())).problem(t, http.StatusConflict, "email_taken")
	})

	t.Run("weak passwords", func(t *testing.T) {
		local := newEmail("grace.hopper")
		localPart, _, _ := strings.Cut(local, "@")
		for name, tc := range map[string]struct{ email, password string }{
			"common":                {newEmail("common"), "password123"},
			"contains local part":   {local, "My-" + localPart + "-rocks"},
			"contains it uppercase": {local, "My-" + strings.ToUpper(localPart) + "-rocks"},
		} {
			r := c.post(t, "/v1/auth/register", credentials(tc.email, tc.password))
			p := r.problem(t, http.StatusBadRequest, "validation_failed")
			assert.Contains(t, p.fieldErrors(), "password:weak_password", name)
		}
		// The refused accounts were not created.
		c.register(t, local, newPassword())
	})

	t.Run("invalid emails", func(t *testing.T) {
		for _, bad := range []string{"not-an-email", "ada@localhost", "Ada <ada@example.com>", "ada@@example.com"} {
			r := c.post(t, "/v1/auth/register", credentials(bad, newPassword()))
			p := r.problem(t, http.StatusBadRequest, "validation_failed")
			assert.Equal(t, []string{"email:invalid_email"}, p.fieldErrors(), "%q", bad)
		}
	})

	t.Run("client-supplied fields are ignored", func(t *testing.T) {
		email := newEmail("mallory")
		body := `{"email":"` + email + `","password":"` + newPassword() + `",` +
			`"tier":"member","id":"chosen-by-the-client","email_verified":true,"created_at":"2000-01-01T00:00:00Z"}`
		got := c.post(t, "/v1/auth/register", body).tokens(t, http.StatusCreated)
		assert.Equal(t, "free", got.User.Tier)
		assert.NotEqual(t, "chosen-by-the-client", got.User.ID)
		assert.False(t, got.User.EmailVerified)
		assert.NotEqual(t, "2000-01-01T00:00:00Z", got.User.CreatedAt)
		claims := jwtClaims(t, got.AccessToken)
		assert.Equal(t, "free", claims["tier"])
		assert.Equal(t, false, claims["email_verified"])
		assert.Equal(t, got.User.ID, claims["sub"])
		assert.Equal(t, "free", c.me(t, got.AccessToken).user(t).Tier)
	})
}

// testAnonymousUpgrade: an anonymous user registers in place, keeping its
// id, and its anonymous session ends.
func testAnonymousUpgrade(t *testing.T, c *client) {
	anon := c.post(t, "/v1/auth/anonymous", `{}`).tokens(t, http.StatusCreated)
	assert.Equal(t, "anonymous", anon.User.Tier)
	assert.Nil(t, anon.User.Email, "an anonymous user's email is null")
	assert.Contains(t, string(c.me(t, anon.AccessToken).body), `"email":null`)

	// An empty body, without a Content-Type, is as good as {}.
	empty := c.do(t, c.newRequest(t, http.MethodPost, "/v1/auth/anonymous", "")).tokens(t, http.StatusCreated)
	assert.NotEqual(t, anon.User.ID, empty.User.ID)

	email := newEmail("anon.upgrade")
	req := withBearer(c.newRequest(t, http.MethodPost, "/v1/auth/register", credentials(email, newPassword())), anon.AccessToken)
	upgraded := c.do(t, req).tokens(t, http.StatusCreated)
	assert.Equal(t, anon.User.ID, upgraded.User.ID, "upgraded in place")
	assert.Equal(t, "free", upgraded.User.Tier)
	require.NotNil(t, upgraded.User.Email)
	assert.Equal(t, email, *upgraded.User.Email)
	assert.NotEqual(t, anon.RefreshToken, upgraded.RefreshToken)

	c.refresh(t, anon.RefreshToken).problem(t, http.StatusUnauthorized, "invalid_refresh_token")
	refreshed := c.refresh(t, upgraded.RefreshToken).tokens(t, http.StatusOK)
	assert.Equal(t, anon.User.ID, refreshed.User.ID)
	assert.Equal(t, "free", refreshed.User.Tier)
	assert.Equal(t, "free", c.me(t, refreshed.AccessToken).user(t).Tier)

	// The anonymous access token is still unexpired, but its user is no
	// longer anonymous.
	again := withBearer(c.newRequest(t, http.MethodPost, "/v1/auth/register", credentials(newEmail("anon.again"), newPassword())), anon.AccessToken)
	c.do(t, again).problem(t, http.StatusConflict, "already_registered")
}

// testLogin: a login starts a new session; a wrong password and an unknown
// email get the same answer, to the byte.
func testLogin(t *testing.T, c *client) {
	email, password := newEmail("login"), newPassword()
	reg := c.register(t, email, password)

	got := c.login(t, " "+strings.ToUpper(email)+" ", password)
	assert.Equal(t, reg.User.ID, got.User.ID)
	assert.NotEqual(t, reg.RefreshToken, got.RefreshToken)
	assert.NotEqual(t, jwtClaims(t, reg.AccessToken)["sid"], jwtClaims(t, got.AccessToken)["sid"], "a new session")
	assert.Equal(t, reg.User.ID, c.me(t, got.AccessToken).user(t).ID)

	wrong := c.post(t, "/v1/auth/login", credentials(email, password+"-wrong"))
	unknown := c.post(t, "/v1/auth/login", credentials(newEmail("nobody"), password))
	wrong.problem(t, http.StatusUnauthorized, "invalid_credentials")
	unknown.problem(t, http.StatusUnauthorized, "invalid_credentials")
	assert.Equal(t, string(wrong.body), string(unknown.body), "the bodies tell nothing about whether the account exists")
	assert.Equal(t, wrong.header.Get("Content-Type"), unknown.header.Get("Content-Type"))
	assert.Equal(t, wrong.header.Get("WWW-Authenticate"), unknown.header.Get("WWW-Authenticate"))
}
