package e2e_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testRefreshRotation: every refresh returns a new refresh token; reusing a
// rotated one revokes its session, down to the newest token, and leaves
// the user's other sessions alone.
func testRefreshRotation(t *testing.T, c *client) {
	email, password := newEmail("rotation"), newPassword()
	reg := c.register(t, email, password)
	sid := jwtClaims(t, reg.AccessToken)["sid"]
	require.NotEmpty(t, sid)

	first := c.refresh(t, reg.RefreshToken).tokens(t, http.StatusOK)
	second := c.refresh(t, first.RefreshToken).tokens(t, http.StatusOK)
	seen := map[string]bool{reg.RefreshToken: true}
	for _, tr := range []tokenResponse{first, second} {
		assert.False(t, seen[tr.RefreshToken], "every refresh returns a new refresh token")
		seen[tr.RefreshToken] = true
		assert.Equal(t, reg.User.ID, tr.User.ID)
		claims := jwtClaims(t, tr.AccessToken)
		assert.Equal(t, sid, claims["sid"], "the same session")
		assert.NotEqual(t, jwtClaims(t, reg.AccessToken)["jti"], claims["jti"])
		assert.Equal(t, reg.User.ID, c.me(t, tr.AccessToken).user(t).ID)
	}

	other := c.login(t, email, password)
	require.NotEqual(t, sid, jwtClaims(t, other.AccessToken)["sid"])

	c.refresh(t, reg.RefreshToken).problem(t, http.StatusUnauthorized, "refresh_token_reused")
	c.refresh(t, second.RefreshToken).problem(t, http.StatusUnauthorized, "invalid_refresh_token")
	c.refresh(t, first.RefreshToken).problem(t, http.StatusUnauthorized, "refresh_token_reused")

	still := c.refresh(t, other.RefreshToken).tokens(t, http.StatusOK)
	assert.Equal(t, reg.User.ID, still.User.ID, "the user's other session is untouched")
}

// refreshRacers is how many clients refresh one token at once.
const refreshRacers = 20

// testRefreshRace: many concurrent refreshes of one token (tabs of one
// browser, a client's retries) all succeed within the reuse grace, with one
// and the same new refresh token, which refreshes on; once it has, the
// token they shared is reuse.
func testRefreshRace(t *testing.T, c *client) {
	reg := c.register(t, newEmail("race"), newPassword())

	type result struct {
		r   response
		err error
	}
	results := make([]result, refreshRacers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range results {
		req := c.newRequest(t, http.MethodPost, "/v1/auth/refresh", refreshBody(reg.RefreshToken))
		wg.Go(func() {
			<-start
			r, err := c.send(req)
			results[i] = result{r, err}
		})
	}
	close(start)
	wg.Wait()

	successors := map[string]bool{}
	for i, res := range results {
		require.NoError(t, res.err, "refresh %d", i)
		tr := res.r.tokens(t, http.StatusOK)
		assert.Equal(t, reg.User.ID, tr.User.ID)
		successors[tr.RefreshToken] = true
	}
	require.Len(t, successors, 1, "all %d concurrent refreshes of one token got the same successor", refreshRacers)
	for successor := range successors {
		c.refresh(t, successor).tokens(t, http.StatusOK)
	}
	c.refresh(t, reg.RefreshToken).problem(t, http.StatusUnauthorized, "refresh_token_reused")
}

// testRefreshRetry: a client whose refresh committed but whose answer was
// lost presents its token again and keeps its session: within the grace
// it gets the same new refresh token, as often as it retries. An
// ancestor two rotations back is still reuse, and revokes the session.
func testRefreshRetry(t *testing.T, c *client) {
	reg := c.register(t, newEmail("retry"), newPassword())
	lost := c.refresh(t, reg.RefreshToken).tokens(t, http.StatusOK) // the answer that never arrived
	for range 2 {
		again := c.refresh(t, reg.RefreshToken).tokens(t, http.StatusOK)
		assert.Equal(t, lost.RefreshToken, again.RefreshToken, "the retry gets the same successor")
		assert.Equal(t, jwtClaims(t, lost.AccessToken)["sid"], jwtClaims(t, again.AccessToken)["sid"], "in the same session")
		assert.Equal(t, reg.User.ID, c.me(t, again.AccessToken).user(t).ID)
	}
	next := c.refresh(t, lost.RefreshToken).tokens(t, http.StatusOK)
	newest := c.refresh(t, next.RefreshToken).tokens(t, http.StatusOK)

	c.refresh(t, reg.RefreshToken).problem(t, http.StatusUnauthorized, "refresh_token_reused")
	c.refresh(t, newest.RefreshToken).problem(t, http.StatusUnauthorized, "invalid_refresh_token")
}

// testLogout: logout revokes the session and answers 204 whatever the
// token.
func testLogout(t *testing.T, c *client) {
	reg := c.register(t, newEmail("logout"), newPassword())

	r := c.post(t, "/v1/auth/logout", refreshBody(reg.RefreshToken))
	require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
	assert.Empty(t, r.body)
	c.refresh(t, reg.RefreshToken).problem(t, http.StatusUnauthorized, "invalid_refresh_token")

	unknown := make([]byte, 32)
	_, _ = rand.Read(unknown)
	for _, token := range []string{reg.RefreshToken, base64.RawURLEncoding.EncodeToString(unknown), "not-a-refresh-token"} {
		r := c.post(t, "/v1/auth/logout", refreshBody(token))
		assert.Equal(t, http.StatusNoContent, r.status, fmt.Sprintf("logout of %q: %s", token, r.body))
	}
}
