package app_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

func TestLoginStartsANewSession(t *testing.T) {
	e := newEnv(t)
	registered := e.register(t, "ada@example.com")

	tokens, err := e.Auth.Login(context.Background(), " ADA@example.com", "correct horse battery staple", client)
	require.NoError(t, err)
	assert.Equal(t, registered.User.ID, tokens.User.ID)
	assert.NotEqual(t, e.Claims(t, registered.AccessToken).SessionID, e.Claims(t, tokens.AccessToken).SessionID)
	list, err := e.Store.Stores().Sessions.ListActive(context.Background(), tokens.User.ID, e.Clock.Now())
	require.NoError(t, err)
	assert.Len(t, list, 2, "registering and logging in are two sessions")
}

func TestLoginFailuresLookAlike(t *testing.T) {
	e := newEnv(t)
	e.register(t, "ada@example.com")
	ctx := context.Background()

	before := e.Hasher.Verifies()
	_, wrongPassword := e.Auth.Login(ctx, "ada@example.com", "not the password", client)
	_, unknownEmail := e.Auth.Login(ctx, "nobody@example.com", "not the password", client)
	require.ErrorIs(t, wrongPassword, domain.ErrInvalidCredentials)
	require.ErrorIs(t, unknownEmail, domain.ErrInvalidCredentials)
	assert.Equal(t, wrongPassword.Error(), unknownEmail.Error())
	assert.Equal(t, before+2, e.Hasher.Verifies(), "an unknown email still costs one password verification")
}

func TestLoginUpgradesALegacyHash(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.register(t, "legacy@example.com").User
	stored, err := e.Store.Stores().Users.ByID(ctx, u.ID)
	require.NoError(t, err)
	stored.PasswordHash = "legacy$correct horse battery staple"
	_, err = e.Store.Stores().Users.Update(ctx, stored)
	require.NoError(t, err)

	_, err = e.Auth.Login(ctx, "legacy@example.com", "correct horse battery staple", client)
	require.NoError(t, err)
	after, err := e.Store.Stores().Users.ByID(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, "fake$correct horse battery staple", after.PasswordHash)
}

func TestMeReturnsTheCurrentUser(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tokens := e.register(t, "me@example.com")
	claims, err := e.Auth.Authenticate(ctx, tokens.AccessToken)
	require.NoError(t, err)

	u, err := e.Account.Me(ctx, claims)
	require.NoError(t, err)
	assert.Equal(t, "me@example.com", u.Email)

	require.NoError(t, e.Store.Stores().Users.Delete(ctx, u.ID))
	_, err = e.Account.Me(ctx, claims)
	require.ErrorIs(t, err, domain.ErrInvalidAccessToken, "a deleted user's token names no one")
}

func TestAuthenticateRejectsExpiredAndUnknownTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tokens := e.register(t, "expiring@example.com")
	_, err := e.Auth.Authenticate(ctx, "at-never-issued")
	require.ErrorIs(t, err, domain.ErrInvalidAccessToken)
	e.Clock.Advance(accessTTL)
	_, err = e.Auth.Authenticate(ctx, tokens.AccessToken)
	require.ErrorIs(t, err, domain.ErrAccessTokenExpired)
}
