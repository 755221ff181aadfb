package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/apptest"
)

const retryGrace = 10 * time.Second

// newGraceEnv builds an env whose refreshes keep a retry for retryGrace.
func newGraceEnv(t *testing.T) *env {
	return newEnv(t, apptest.WithConfig(func(c *app.Config) { c.RefreshReuseGrace = retryGrace }))
}

func TestARefreshRetriedWithinTheGraceGetsTheSameToken(t *testing.T) {
	e := newGraceEnv(t)
	ctx := context.Background()
	reg := e.register(t, "retry@example.com")

	first, err := e.Auth.Refresh(ctx, reg.RefreshToken)
	require.NoError(t, err)
	e.Clock.Advance(retryGrace - time.Millisecond)
	for range 3 { // the answer was lost, and lost again
		again, err := e.Auth.Refresh(ctx, reg.RefreshToken)
		require.NoError(t, err, "a retry within the grace is no reuse")
		assert.Equal(t, first.RefreshToken, again.RefreshToken, "the same successor, however often")
		assert.NotEqual(t, first.AccessToken, again.AccessToken, "with a fresh access token")
		assert.Equal(t, e.Claims(t, first.AccessToken).SessionID, e.Claims(t, again.AccessToken).SessionID)
	}

	next, err := e.Auth.Refresh(ctx, first.RefreshToken)
	require.NoError(t, err, "the successor refreshes")
	_, err = e.Auth.Refresh(ctx, reg.RefreshToken)
	require.ErrorIs(t, err, domain.ErrRefreshTokenReused, "once its successor was used, the spent token is reuse")
	_, err = e.Auth.Refresh(ctx, next.RefreshToken)
	require.ErrorIs(t, err, domain.ErrInvalidRefreshToken, "and the session is revoked")
}

func TestARetryAfterTheGraceIsReuse(t *testing.T) {
	e := newGraceEnv(t)
	ctx := context.Background()
	reg := e.register(t, "late@example.com")
	first, err := e.Auth.Refresh(ctx, reg.RefreshToken)
	require.NoError(t, err)

	e.Clock.Advance(retryGrace)
	_, err = e.Auth.Refresh(ctx, reg.RefreshToken)
	require.ErrorIs(t, err, domain.ErrRefreshTokenReused)
	_, err = e.Auth.Refresh(ctx, first.RefreshToken)
	require.ErrorIs(t, err, domain.ErrInvalidRefreshToken, "the session is revoked")
}

func TestAnAncestorTwoRotationsBackIsReuseWithinTheGrace(t *testing.T) {
	e := newGraceEnv(t)
	ctx := context.Background()
	reg := e.register(t, "ancestor@example.com")
	first, err := e.Auth.Refresh(ctx, reg.RefreshToken)
	require.NoError(t, err)
	second, err := e.Auth.Refresh(ctx, first.RefreshToken)
	require.NoError(t, err)

	_, err = e.Auth.Refresh(ctx, reg.RefreshToken)
	require.ErrorIs(t, err, domain.ErrRefreshTokenReused)
	_, err = e.Auth.Refresh(ctx, second.RefreshToken)
	require.ErrorIs(t, err, domain.ErrInvalidRefreshToken, "the session is revoked")
}

func TestConcurrentRefreshesWithinTheGraceShareOneSuccessor(t *testing.T) {
	e := newGraceEnv(t)
	ctx := context.Background()
	reg := e.register(t, "tabs@example.com")

	results, errs := refreshAtOnce(e, reg.RefreshToken, 20)
	for i, err := range errs {
		require.NoError(t, err, "refresh %d", i)
		assert.Equal(t, results[0].RefreshToken, results[i].RefreshToken, "refresh %d got the one successor", i)
	}
	_, err := e.Auth.Refresh(ctx, results[0].RefreshToken)
	require.NoError(t, err, "the successor they share still refreshes")
}

func TestAStrictServiceKeepsNoRetrySecret(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg := e.register(t, "strict@example.com")
	_, err := e.Auth.Refresh(ctx, reg.RefreshToken)
	require.NoError(t, err)
	_, _, _, err = e.Store.Stores().Sessions.Retry(ctx, domain.HashToken(reg.RefreshToken), e.Clock.Now())
	require.ErrorIs(t, err, domain.ErrNotFound, "with no grace, no successor is kept, sealed or not")
}
