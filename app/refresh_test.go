package app_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/apptest"
)

func TestRefreshRotatesTheToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := e.register(t, "ada@example.com")
	e.Clock.Advance(time.Minute)

	second, err := e.Auth.Refresh(ctx, first.RefreshToken)
	require.NoError(t, err)
	assert.NotEqual(t, first.RefreshToken, second.RefreshToken)
	assert.Equal(t, e.Claims(t, first.AccessToken).SessionID, e.Claims(t, second.AccessToken).SessionID, "same session")
	session, err := e.Store.Stores().Sessions.ByTokenHash(ctx, domain.HashToken(second.RefreshToken))
	require.NoError(t, err)
	assert.Equal(t, e.Clock.Now().Add(refreshTTL), session.ExpiresAt, "each refresh extends the session")
	assert.Equal(t, refreshTTL, second.RefreshExpiresIn, "the client learns when its token expires")

	third, err := e.Auth.Refresh(ctx, second.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, first.User.ID, third.User.ID)
}

func TestRefreshCarriesTheCurrentTier(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tokens := e.register(t, "member@example.com")
	u, err := e.Store.Stores().Users.ByID(ctx, tokens.User.ID)
	require.NoError(t, err)
	u.Tier = domain.TierMember
	_, err = e.Store.Stores().Users.Update(ctx, u)
	require.NoError(t, err)

	refreshed, err := e.Auth.Refresh(ctx, tokens.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, domain.TierMember, e.Claims(t, refreshed.AccessToken).Tier)
	assert.Equal(t, domain.TierMember, refreshed.User.Tier)
}

func TestRefreshReuseRevokesTheWholeSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	stolen := e.register(t, "victim@example.com")
	other, err := e.Auth.Login(ctx, "victim@example.com", "correct horse battery staple", client)
	require.NoError(t, err)
	child, err := e.Auth.Refresh(ctx, stolen.RefreshToken)
	require.NoError(t, err)
	grandchild, err := e.Auth.Refresh(ctx, child.RefreshToken)
	require.NoError(t, err)

	_, err = e.Auth.Refresh(ctx, stolen.RefreshToken)
	require.ErrorIs(t, err, domain.ErrRefreshTokenReused, "an ancestor two rotations back is detected")
	_, err = e.Auth.Refresh(ctx, grandchild.RefreshToken)
	require.ErrorIs(t, err, domain.ErrInvalidRefreshToken, "every descendant died with the session")
	_, err = e.Auth.Refresh(ctx, other.RefreshToken)
	require.NoError(t, err, "the user's other session is untouched")
}

func TestRefreshRejectsUnknownExpiredAndMalformedTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tokens := e.register(t, "ada@example.com")
	unknown, _ := domain.NewOpaqueToken()

	for name, token := range map[string]string{
		"unknown": unknown, "empty": "", "too short": "abc", "not base64url": strings.Repeat("*", 43),
		"padded": unknown[:42] + "=",
	} {
		_, err := e.Auth.Refresh(ctx, token)
		require.ErrorIs(t, err, domain.ErrInvalidRefreshToken, name)
	}
	e.Clock.Advance(refreshTTL)
	_, err := e.Auth.Refresh(ctx, tokens.RefreshToken)
	require.ErrorIs(t, err, domain.ErrInvalidRefreshToken, "expired")
}

func TestConcurrentRefreshesRotateOnceAndLeaveAtMostOneUsableDescendant(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tokens := e.register(t, "racer@example.com")

	results, errs := refreshAtOnce(e, tokens.RefreshToken, 20)

	rotated, usable := 0, 0
	for i, err := range errs {
		if err != nil {
			require.True(t, errors.Is(err, domain.ErrRefreshTokenReused) || errors.Is(err, domain.ErrInvalidRefreshToken), "goroutine %d: %v", i, err)
			continue
		}
		rotated++
		if _, err := e.Auth.Refresh(ctx, results[i].RefreshToken); err == nil {
			usable++
		}
	}
	assert.Equal(t, 1, rotated, "exactly one of the concurrent refreshes rotates the token")
	assert.LessOrEqual(t, usable, 1)
}

func TestLogoutRevokesTheSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tokens := e.register(t, "leaving@example.com")
	require.NoError(t, e.Auth.Logout(ctx, tokens.RefreshToken))
	_, err := e.Auth.Refresh(ctx, tokens.RefreshToken)
	require.ErrorIs(t, err, domain.ErrInvalidRefreshToken)

	require.NoError(t, e.Auth.Logout(ctx, tokens.RefreshToken), "logging out twice succeeds")
	unknown, _ := domain.NewOpaqueToken()
	require.NoError(t, e.Auth.Logout(ctx, unknown), "an unknown token is not an error")
	require.NoError(t, e.Auth.Logout(ctx, "garbage"))
}

func TestLogoutWithARotatedAwayTokenRevokesTheSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := e.register(t, "old-token@example.com")
	second, err := e.Auth.Refresh(ctx, first.RefreshToken)
	require.NoError(t, err)
	require.NoError(t, e.Auth.Logout(ctx, first.RefreshToken))
	_, err = e.Auth.Refresh(ctx, second.RefreshToken)
	require.ErrorIs(t, err, domain.ErrInvalidRefreshToken)
}

func TestRefreshesNeverExtendASessionPastItsMaxAge(t *testing.T) {
	e := newEnv(t, apptest.WithConfig(func(c *app.Config) { c.SessionMaxAge = 2 * time.Hour }))
	ctx := context.Background()
	tokens := e.register(t, "aged@example.com")
	started := e.Clock.Now()
	assert.Equal(t, started.Add(2*time.Hour), sessionOf(t, e, tokens.RefreshToken).ExpiresAt,
		"a new session lives its max age, shorter than the idle lifetime")

	for range 3 {
		e.Clock.Advance(30 * time.Minute)
		var err error
		tokens, err = e.Auth.Refresh(ctx, tokens.RefreshToken)
		require.NoError(t, err)
		assert.Equal(t, started.Add(2*time.Hour), sessionOf(t, e, tokens.RefreshToken).ExpiresAt, "refreshes do not extend it")
		assert.Equal(t, started.Add(2*time.Hour).Sub(e.Clock.Now()), tokens.RefreshExpiresIn)
	}
	e.Clock.Advance(20 * time.Minute)
	tokens, err := e.Auth.Refresh(ctx, tokens.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, 10*time.Minute, tokens.ExpiresIn, "the access token ends with the session, before its usual 15 minutes")
	assert.Equal(t, started.Add(2*time.Hour), e.Claims(t, tokens.AccessToken).ExpiresAt)

	e.Clock.Advance(10 * time.Minute)
	_, err = e.Auth.Refresh(ctx, tokens.RefreshToken)
	require.ErrorIs(t, err, domain.ErrInvalidRefreshToken, "at its max age the session ends, however active")
}

// refreshAtOnce refreshes token from n goroutines at once and returns what
// each got.
func refreshAtOnce(e *env, token string, n int) ([]app.Tokens, []error) {
	results := make([]app.Tokens, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = e.Auth.Refresh(context.Background(), token) })
	}
	wg.Wait()
	return results, errs
}
