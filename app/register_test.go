package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
)

func TestRegisterCreatesAFreeUserWithASession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tokens := e.register(t, "  Ada.Lovelace@Example.COM ")

	assert.Equal(t, "ada.lovelace@example.com", tokens.User.Email)
	assert.Equal(t, domain.TierFree, tokens.User.Tier)
	assert.False(t, tokens.User.EmailVerified)
	assert.Equal(t, accessTTL, tokens.ExpiresIn)
	stored, err := e.Store.Stores().Users.ByEmail(ctx, "ada.lovelace@example.com")
	require.NoError(t, err)
	assert.Equal(t, "fake$correct horse battery staple", stored.PasswordHash, "only the hash is stored")

	claims := e.Claims(t, tokens.AccessToken)
	assert.Equal(t, tokens.User.ID, claims.Subject)
	assert.Equal(t, domain.TierFree, claims.Tier)
	session, err := e.Store.Stores().Sessions.ByTokenHash(ctx, domain.HashToken(tokens.RefreshToken))
	require.NoError(t, err, "the refresh token's hash is the session's current hash")
	assert.Equal(t, claims.SessionID, session.ID)
	assert.Equal(t, client.IP, session.IP)
	assert.Equal(t, client.UserAgent, session.UserAgent)
	assert.Equal(t, e.Clock.Now().Add(refreshTTL), session.ExpiresAt)
	assert.Equal(t, refreshTTL, tokens.RefreshExpiresIn)
}

func TestRegisterRejectsATakenEmailInAnyCase(t *testing.T) {
	e := newEnv(t)
	e.register(t, "grace@example.com")
	_, err := e.Auth.Register(context.Background(), app.RegisterInput{Email: "GRACE@example.com", Password: "another fine passphrase"})
	require.ErrorIs(t, err, domain.ErrEmailTaken)
}

func TestRegisterValidatesEmailAndPasswordTogether(t *testing.T) {
	e := newEnv(t)
	hashesBefore := e.Hasher.Hashes()
	for _, tc := range []struct {
		email, password string
		want            []string
	}{
		{"not-an-email", "correct horse battery staple", []string{"email:invalid_email"}},
		{"Ada <ada@example.com>", "correct horse battery staple", []string{"email:invalid_email"}},
		{"ada@localhost", "correct horse battery staple", []string{"email:invalid_email"}},
		{"a@[127.0.0.1]", "correct horse battery staple", []string{"email:invalid_email"}},
		{"a@[ipv6:2001:db8::1]", "correct horse battery staple", []string{"email:invalid_email"}},
		{"ada@192.0.2.1", "correct horse battery staple", []string{"email:invalid_email"}},
		{"ada@exa_mple.com", "correct horse battery staple", []string{"email:invalid_email"}},
		{"ada@-example.com", "correct horse battery staple", []string{"email:invalid_email"}},
		{"ada@example-.com", "correct horse battery staple", []string{"email:invalid_email"}},
		{"ada@example..com", "correct horse battery staple", []string{"email:invalid_email"}},
		{"ada@example.com.", "correct horse battery staple", []string{"email:invalid_email"}},
		{"ada@" + strings.Repeat("a", 64) + ".com", "correct horse battery staple", []string{"email:invalid_email"}},
		{"ada@bücher.example", "correct horse battery staple", []string{"email:invalid_email"}},
		{"", "correct horse battery staple", []string{"email:required"}},
		{"ada@example.com", "short", []string{"password:too_short"}},
		{"ada@example.com", "password123", []string{"password:weak_password"}},
		{"ada@example.com", "my name is ada.... really", []string{"password:weak_password"}},
		{"nope", "1234567", []string{"email:invalid_email", "password:too_short"}},
	} {
		_, err := e.Auth.Register(context.Background(), app.RegisterInput{Email: tc.email, Password: tc.password})
		requireProblems(t, err, tc.want...)
	}
	assert.Equal(t, hashesBefore, e.Hasher.Hashes(), "invalid input is refused before any hashing work")
}

func TestRegisterAcceptsHostNames(t *testing.T) {
	e := newEnv(t, rateLimitsOff)
	for _, email := range []string{
		"ada@example.com",
		"ada@mail-1.example.co.uk",
		"ada@xn--bcher-kva.example", // an internationalised domain in ASCII
		"ada@3com.com",
		"ada@" + strings.Repeat("a", 63) + ".com",
	} {
		_, err := e.Auth.Register(context.Background(), app.RegisterInput{Email: email, Password: "correct horse battery staple"})
		assert.NoError(t, err, email)
	}
}

func TestRegisterUpgradesAnAnonymousUserInPlace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	anon, err := e.Auth.Anonymous(ctx, client)
	require.NoError(t, err)
	bearer := e.Claims(t, anon.AccessToken)

	upgraded, err := e.Auth.Register(ctx, app.RegisterInput{
		Email: "Alan@example.com", Password: "correct horse battery staple", Client: client, Bearer: &bearer,
	})
	require.NoError(t, err)
	assert.Equal(t, anon.User.ID, upgraded.User.ID, "same user")
	assert.Equal(t, "alan@example.com", upgraded.User.Email)
	assert.Equal(t, domain.TierFree, upgraded.User.Tier)
	assert.Equal(t, domain.TierFree, e.Claims(t, upgraded.AccessToken).Tier)

	_, err = e.Auth.Refresh(ctx, anon.RefreshToken)
	require.ErrorIs(t, err, domain.ErrInvalidRefreshToken, "the anonymous session ended")
	_, err = e.Auth.Login(ctx, "alan@example.com", "correct horse battery staple", client)
	require.NoError(t, err, "the upgraded user logs in with the new password")
}

func TestRegisterUpgradeToATakenEmailLeavesTheUserAnonymous(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.register(t, "taken@example.com")
	anon, err := e.Auth.Anonymous(ctx, client)
	require.NoError(t, err)
	bearer := e.Claims(t, anon.AccessToken)

	_, err = e.Auth.Register(ctx, app.RegisterInput{Email: "taken@example.com", Password: "correct horse battery staple", Bearer: &bearer})
	require.ErrorIs(t, err, domain.ErrEmailTaken)
	u, err := e.Account.Me(ctx, bearer)
	require.NoError(t, err)
	assert.Equal(t, domain.TierAnonymous, u.Tier)
	assert.Empty(t, u.Email)
	_, err = e.Auth.Refresh(ctx, anon.RefreshToken)
	require.NoError(t, err, "the anonymous session survives the failed upgrade")
}

func TestRegisterWithARegisteredUsersTokenIsRefused(t *testing.T) {
	e := newEnv(t)
	tokens := e.register(t, "someone@example.com")
	bearer := e.Claims(t, tokens.AccessToken)
	_, err := e.Auth.Register(context.Background(), app.RegisterInput{Email: "other@example.com", Password: "correct horse battery staple", Bearer: &bearer})
	require.ErrorIs(t, err, app.ErrAlreadyRegistered)
	_, err = e.Store.Stores().Users.ByEmail(context.Background(), "other@example.com")
	require.ErrorIs(t, err, domain.ErrNotFound, "no second user was created")
}

func TestRegisterWithADeletedAnonymousUsersToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	anon, err := e.Auth.Anonymous(ctx, client)
	require.NoError(t, err)
	bearer := e.Claims(t, anon.AccessToken)
	require.NoError(t, e.Store.Stores().Users.Delete(ctx, anon.User.ID))

	_, err = e.Auth.Register(ctx, app.RegisterInput{Email: "ghost@example.com", Password: "correct horse battery staple", Bearer: &bearer})
	require.ErrorIs(t, err, domain.ErrInvalidAccessToken)
}

func TestAnonymousCreatesAUserWithoutEmail(t *testing.T) {
	e := newEnv(t)
	tokens, err := e.Auth.Anonymous(context.Background(), client)
	require.NoError(t, err)
	assert.Equal(t, domain.TierAnonymous, tokens.User.Tier)
	assert.Empty(t, tokens.User.Email)
	assert.Equal(t, domain.TierAnonymous, e.Claims(t, tokens.AccessToken).Tier)
	_, err = e.Auth.Refresh(context.Background(), tokens.RefreshToken)
	require.NoError(t, err, "an anonymous session refreshes like any other")
}
