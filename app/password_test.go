package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
)

func TestForgotPasswordMailsOnlyExistingAccounts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.register(t, "ada@example.com")

	require.NoError(t, e.Account.ForgotPassword(ctx, app.ForgotPasswordInput{Email: "ADA@example.com", Client: client}))
	require.NoError(t, e.Account.ForgotPassword(ctx, app.ForgotPasswordInput{Email: "nobody@example.com", Client: client}), "the same answer for an unknown address")
	e.Wait()

	reset := e.Mailer.To("ada@example.com")
	require.Len(t, reset, 2, "verification and reset")
	assert.Equal(t, domain.EmailResetPassword, reset[1].Purpose)
	assert.True(t, domain.WellFormedOpaqueToken(reset[1].Secret), "the mail carries a reset token")
	assert.Equal(t, e.Clock.Now().Add(time.Hour), reset[1].ExpiresAt)
	assert.Empty(t, e.Mailer.To("nobody@example.com"))

	requireProblems(t, e.Account.ForgotPassword(ctx, app.ForgotPasswordInput{Email: "not an email", Client: client}), "email:invalid_email")
}

func TestResetPasswordSetsThePasswordAndEndsEverySession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := e.register(t, "ada@example.com")
	second, err := e.Auth.Login(ctx, "ada@example.com", "correct horse battery staple", client)
	require.NoError(t, err)
	require.NoError(t, e.Account.ForgotPassword(ctx, app.ForgotPasswordInput{Email: "ada@example.com", Client: client}))
	e.Wait()
	token := e.linkToken(t, "ada@example.com", domain.EmailResetPassword)

	require.NoError(t, e.Account.ResetPassword(ctx, token, "a brand new passphrase", client))
	for _, refresh := range []string{first.RefreshToken, second.RefreshToken} {
		_, err := e.Auth.Refresh(ctx, refresh)
		require.ErrorIs(t, err, domain.ErrInvalidRefreshToken, "every session was revoked")
	}
	_, err = e.Auth.Login(ctx, "ada@example.com", "correct horse battery staple", client)
	require.ErrorIs(t, err, domain.ErrInvalidCredentials, "the old password is gone")
	u, err := e.Auth.Login(ctx, "ada@example.com", "a brand new passphrase", client)
	require.NoError(t, err)
	assert.True(t, u.User.EmailVerified, "the reset link proved the address")

	require.ErrorIs(t, e.Account.ResetPassword(ctx, token, "yet another passphrase", client), domain.ErrInvalidToken, "single use")
}

func TestResetPasswordKeepsTheTokenWhenThePasswordIsRejected(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.register(t, "ada@example.com")
	require.NoError(t, e.Account.ForgotPassword(ctx, app.ForgotPasswordInput{Email: "ada@example.com", Client: client}))
	e.Wait()
	token := e.linkToken(t, "ada@example.com", domain.EmailResetPassword)

	requireProblems(t, e.Account.ResetPassword(ctx, token, "password", client), "password:weak_password")
	requireProblems(t, e.Account.ResetPassword(ctx, token, "ada-rules-forever", client), "password:weak_password")
	require.NoError(t, e.Account.ResetPassword(ctx, token, "a brand new passphrase", client), "the rejected attempts spent nothing")
}

func TestResetPasswordRejectsExpiredForeignAndMalformedTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.register(t, "ada@example.com")
	verification := e.linkToken(t, "ada@example.com", domain.EmailVerifyAddress)
	require.NoError(t, e.Account.ForgotPassword(ctx, app.ForgotPasswordInput{Email: "ada@example.com", Client: client}))
	e.Wait()
	reset := e.linkToken(t, "ada@example.com", domain.EmailResetPassword)

	require.ErrorIs(t, e.Account.ResetPassword(ctx, verification, "a brand new passphrase", client), domain.ErrInvalidToken)
	require.ErrorIs(t, e.Account.ResetPassword(ctx, "garbage", "a brand new passphrase", client), domain.ErrInvalidToken)
	e.Clock.Advance(time.Hour)
	require.ErrorIs(t, e.Account.ResetPassword(ctx, reset, "a brand new passphrase", client), domain.ErrInvalidToken, "expired after an hour")
}

func TestChangePasswordKeepsOnlyTheCurrentSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	current := e.register(t, "ada@example.com")
	other, err := e.Auth.Login(ctx, "ada@example.com", "correct horse battery staple", client)
	require.NoError(t, err)
	bearer := e.Claims(t, current.AccessToken)

	require.ErrorIs(t, e.Account.ChangePassword(ctx, bearer, "wrong", "a brand new passphrase"), domain.ErrInvalidCredentials)
	requireProblems(t, e.Account.ChangePassword(ctx, bearer, "correct horse battery staple", "short"), "new_password:too_short")

	require.NoError(t, e.Account.ChangePassword(ctx, bearer, "correct horse battery staple", "a brand new passphrase"))
	_, err = e.Auth.Refresh(ctx, current.RefreshToken)
	require.NoError(t, err, "the current session stays")
	_, err = e.Auth.Refresh(ctx, other.RefreshToken)
	require.ErrorIs(t, err, domain.ErrInvalidRefreshToken, "other sessions are revoked")
	_, err = e.Auth.Login(ctx, "ada@example.com", "a brand new passphrase", client)
	require.NoError(t, err)
}

func TestChangePasswordOfAnAnonymousUser(t *testing.T) {
	e := newEnv(t)
	anon, err := e.Auth.Anonymous(context.Background(), client)
	require.NoError(t, err)
	err = e.Account.ChangePassword(context.Background(), e.Claims(t, anon.AccessToken), "", "a brand new passphrase")
	require.ErrorIs(t, err, domain.ErrInvalidCredentials)
}
