package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
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
	successor := refreshAtOnce(t, []*client{c}, reg)
	c.refresh(t, successor).tokens(t, http.StatusOK)
	c.refresh(t, reg.RefreshToken).problem(t, http.StatusUnauthorized, "refresh_token_reused")
}

// refreshAtOnce sends refreshRacers refreshes of reg's refresh token at
// the same moment, spread over clients in turn, and returns the one
// successor they all must get, in reg's session.
func refreshAtOnce(t *testing.T, clients []*client, reg tokenResponse) string {
	t.Helper()
	type result struct {
		r   response
		err error
	}
	results := make([]result, refreshRacers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range results {
		req := clients[i%len(clients)].newRequest(t, http.MethodPost, "/v1/auth/refresh", refreshBody(reg.RefreshToken))
		c := clients[i%len(clients)]
		wg.Go(func() {
			<-start
			r, err := c.send(req)
			results[i] = result{r, err}
		})
	}
	close(start)
	wg.Wait()

	successors := map[string]bool{}
	sid := jwtClaims(t, reg.AccessToken)["sid"]
	for i, res := range results {
		require.NoError(t, res.err, "refresh %d", i)
		tr := res.r.tokens(t, http.StatusOK)
		assert.Equal(t, reg.User.ID, tr.User.ID)
		assert.Equal(t, sid, jwtClaims(t, tr.AccessToken)["sid"], "refresh %d stays in the session", i)
		successors[tr.RefreshToken] = true
	}
	require.Len(t, successors, 1, "all %d concurrent refreshes of one token got the same successor", refreshRacers)
	for successor := range successors {
		return successor
	}
	return ""
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

// lostAnswers is how many refresh answers testRefreshLostAnswer loses.
const lostAnswers = 5

// testRefreshLostAnswer: the fault of a network that fails on the way
// back. The refresh reaches the server, which rotates the token, commits
// and answers, but the answer never reaches the client (a proxy drops it
// and cuts the connection). The client retries with the same token and
// keeps its session, time after time; the ancestors stay reuse.
func testRefreshLostAnswer(t *testing.T, c *client) {
	lossy := &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, startLossyProxy(t, c.srv.baseURL))
		},
	}}
	reg := c.register(t, newEmail("lost-answer"), newPassword())
	sid := jwtClaims(t, reg.AccessToken)["sid"]
	token := reg.RefreshToken
	for i := range lostAnswers {
		res, err := lossy.Do(c.newRequest(t, http.MethodPost, "/v1/auth/refresh", refreshBody(token)))
		if err == nil {
			_ = res.Body.Close()
		}
		require.Error(t, err, "refresh %d: the answer is lost", i)

		retried := c.refresh(t, token).tokens(t, http.StatusOK)
		assert.Equal(t, sid, jwtClaims(t, retried.AccessToken)["sid"], "refresh %d: the retry keeps the session", i)
		token = retried.RefreshToken
	}
	c.me(t, c.refresh(t, token).tokens(t, http.StatusOK).AccessToken).user(t)
	c.refresh(t, reg.RefreshToken).problem(t, http.StatusUnauthorized, "refresh_token_reused")
}

// startLossyProxy listens on loopback for one connection, which it
// forwards to the server at baseURL, and returns its address. Once the
// server starts to answer (so it has handled the request, and any write it
// made has committed), the proxy closes both connections without passing
// a byte of the answer on.
func startLossyProxy(t *testing.T, baseURL string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		defer ln.Close()
		client, err := ln.Accept()
		if err != nil {
			return
		}
		defer client.Close()
		server, err := net.Dial("tcp", strings.TrimPrefix(baseURL, "http://"))
		if err != nil {
			return
		}
		defer server.Close()
		go func() { _, _ = io.Copy(server, client) }()
		_, _ = server.Read(make([]byte, 1)) // the answer begins, and is dropped
	}()
	return ln.Addr().String()
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
