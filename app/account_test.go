package app_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/apptest"
)

func TestDeleteAccountNeedsThePasswordAndFreesTheEmail(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tokens := e.register(t, "ada@example.com")
	bearer := e.Claims(t, tokens.AccessToken)

	require.ErrorIs(t, e.Account.DeleteAccount(ctx, bearer, "wrong"), domain.ErrInvalidCredentials)
	require.NoError(t, e.Account.DeleteAccount(ctx, bearer, "correct horse battery staple"))

	_, err := e.Account.Me(ctx, bearer)
	require.ErrorIs(t, err, domain.ErrInvalidAccessToken)
	_, err = e.Auth.Refresh(ctx, tokens.RefreshToken)
	require.ErrorIs(t, err, domain.ErrInvalidRefreshToken, "its sessions went with it")
	again := e.register(t, "ada@example.com")
	assert.NotEqual(t, tokens.User.ID, again.User.ID, "the email registers again as a new user")
	require.ErrorIs(t, e.Account.DeleteAccount(ctx, bearer, "correct horse battery staple"), domain.ErrInvalidAccessToken)
}

func TestDeleteAnonymousAccount(t *testing.T) {
	e := newEnv(t)
	anon, err := e.Auth.Anonymous(context.Background(), client)
	require.NoError(t, err)
	require.NoError(t, e.Account.DeleteAccount(context.Background(), e.Claims(t, anon.AccessToken), ""))
	_, err = e.Store.Stores().Users.ByID(context.Background(), anon.User.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)
}

func TestSessionsListAndRevoke(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	current := e.register(t, "ada@example.com")
	other, err := e.Auth.Login(ctx, "ada@example.com", "correct horse battery staple", client)
	require.NoError(t, err)
	stranger := e.register(t, "eve@example.com")
	bearer := e.Claims(t, current.AccessToken)

	list, err := e.Account.Sessions(ctx, bearer)
	require.NoError(t, err)
	require.Len(t, list, 2)
	currents := 0
	for _, s := range list {
		assert.Equal(t, current.User.ID, s.UserID)
		if s.Current {
			currents++
			assert.Equal(t, bearer.SessionID, s.ID)
		}
	}
	assert.Equal(t, 1, currents)

	strangerSession := e.Claims(t, stranger.AccessToken).SessionID
	require.ErrorIs(t, e.Account.RevokeSession(ctx, bearer, strangerSession), domain.ErrNotFound, "not the caller's")
	require.ErrorIs(t, e.Account.RevokeSession(ctx, bearer, "no-such-session"), domain.ErrNotFound)
	_, err = e.Auth.Refresh(ctx, stranger.RefreshToken)
	require.NoError(t, err, "the stranger's session is untouched")

	require.NoError(t, e.Account.RevokeSession(ctx, bearer, e.Claims(t, other.AccessToken).SessionID))
	_, err = e.Auth.Refresh(ctx, other.RefreshToken)
	require.ErrorIs(t, err, domain.ErrInvalidRefreshToken)
	list, err = e.Account.Sessions(ctx, bearer)
	require.NoError(t, err)
	require.Len(t, list, 1)
}

func TestAdminSetTierReachesTheNextAccessToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tokens := e.register(t, "ada@example.com")

	u, err := e.Admin.SetTier(ctx, tokens.User.ID, "member")
	require.NoError(t, err)
	assert.Equal(t, domain.TierMember, u.Tier)
	got, err := e.Admin.User(ctx, tokens.User.ID)
	require.NoError(t, err)
	assert.Equal(t, domain.TierMember, got.Tier)
	refreshed, err := e.Auth.Refresh(ctx, tokens.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, domain.TierMember, e.Claims(t, refreshed.AccessToken).Tier)

	_, err = e.Admin.SetTier(ctx, tokens.User.ID, "Gold")
	requireProblems(t, err, "tier:invalid_tier")
	_, err = e.Admin.SetTier(ctx, "no-such-user", "free")
	require.ErrorIs(t, err, domain.ErrNotFound)
	_, err = e.Admin.User(ctx, "no-such-user")
	require.ErrorIs(t, err, domain.ErrNotFound)
}

func TestAdminTierChangesCannotCrossRegistration(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	registered := e.register(t, "ada@example.com")
	anon, err := e.Auth.Anonymous(ctx, client)
	require.NoError(t, err)

	_, err = e.Admin.SetTier(ctx, registered.User.ID, "anonymous")
	requireProblems(t, err, "tier:invalid_tier")
	_, err = e.Admin.SetTier(ctx, anon.User.ID, "member")
	requireProblems(t, err, "tier:invalid_tier")

	require.ErrorIs(t, e.Account.DeleteAccount(ctx, e.Claims(t, registered.AccessToken), ""), domain.ErrInvalidCredentials,
		"a registered user still needs the password")
	u, err := e.Admin.User(ctx, registered.User.ID)
	require.NoError(t, err)
	assert.Equal(t, domain.TierFree, u.Tier, "the refused change changed nothing")
}

func TestSessionsOfADeletedUser(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tokens := e.register(t, "ada@example.com")
	require.NoError(t, e.Store.Stores().Users.Delete(ctx, tokens.User.ID))
	_, err := e.Account.Sessions(ctx, e.Claims(t, tokens.AccessToken))
	require.ErrorIs(t, err, domain.ErrInvalidAccessToken)
	require.ErrorIs(t, e.Account.RevokeOtherSessions(ctx, e.Claims(t, tokens.AccessToken)), domain.ErrInvalidAccessToken)
	require.ErrorIs(t, e.Account.RevokeAllSessions(ctx, e.Claims(t, tokens.AccessToken)), domain.ErrInvalidAccessToken)
}

func TestNilLoggerDiscards(t *testing.T) {
	e := newEnv(t, apptest.WithLogger(nil))
	tokens := e.register(t, "ada@example.com")

	u, err := e.Admin.SetTier(context.Background(), tokens.User.ID, "member")
	require.NoError(t, err, "a use case that logs works without a logger")
	assert.Equal(t, domain.TierMember, u.Tier)
}
