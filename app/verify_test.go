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

func TestRegisterMailsAVerificationLink(t *testing.T) {
	e := newEnv(t)
	e.register(t, "ada@example.com")
	mails := e.Mailer.To("ada@example.com")
	require.Len(t, mails, 1)
	assert.Equal(t, domain.EmailVerifyAddress, mails[0].Purpose)
	assert.True(t, domain.WellFormedOpaqueToken(mails[0].Secret), "the mail carries a verification token")
	assert.Equal(t, e.Clock.Now().Add(24*time.Hour), mails[0].ExpiresAt)
}

func TestVerifyEmailSpendsTheTokenOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.register(t, "ada@example.com")
	token := e.linkToken(t, "ada@example.com", domain.EmailVerifyAddress)

	u, err := e.Account.VerifyEmail(ctx, token)
	require.NoError(t, err)
	assert.True(t, u.EmailVerified)
	stored, err := e.Store.Stores().Users.ByEmail(ctx, "ada@example.com")
	require.NoError(t, err)
	assert.True(t, stored.EmailVerified)

	_, err = e.Account.VerifyEmail(ctx, token)
	require.ErrorIs(t, err, domain.ErrInvalidToken, "a second use")
}

func TestVerifyEmailRejectsExpiredForeignAndMalformedTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.register(t, "ada@example.com")
	verification := e.linkToken(t, "ada@example.com", domain.EmailVerifyAddress)
	require.NoError(t, e.Account.ForgotPassword(ctx, app.ForgotPasswordInput{Email: "ada@example.com", Client: client}))
	e.Wait()
	reset := e.linkToken(t, "ada@example.com", domain.EmailResetPassword)

	_, err := e.Account.VerifyEmail(ctx, reset)
	require.ErrorIs(t, err, domain.ErrInvalidToken, "a reset token is no verification token")
	_, err = e.Account.VerifyEmail(ctx, "not-a-token")
	require.ErrorIs(t, err, domain.ErrInvalidToken)
	e.Clock.Advance(24 * time.Hour)
	_, err = e.Account.VerifyEmail(ctx, verification)
	require.ErrorIs(t, err, domain.ErrInvalidToken, "expired after 24 hours")
}

func TestResendReplacesTheVerificationLink(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tokens := e.register(t, "ada@example.com")
	first := e.linkToken(t, "ada@example.com", domain.EmailVerifyAddress)
	bearer := e.Claims(t, tokens.AccessToken)

	require.NoError(t, e.Account.ResendVerification(ctx, bearer, ""))
	second := e.linkToken(t, "ada@example.com", domain.EmailVerifyAddress)
	require.NotEqual(t, first, second)
	_, err := e.Account.VerifyEmail(ctx, first)
	require.ErrorIs(t, err, domain.ErrInvalidToken, "the new link supersedes the old one")
	_, err = e.Account.VerifyEmail(ctx, second)
	require.NoError(t, err)

	require.ErrorIs(t, e.Account.ResendVerification(ctx, bearer, ""), domain.ErrAlreadyVerified)
}

func TestResendForAnAnonymousUser(t *testing.T) {
	e := newEnv(t)
	anon, err := e.Auth.Anonymous(context.Background(), client)
	require.NoError(t, err)
	require.ErrorIs(t, e.Account.ResendVerification(context.Background(), e.Claims(t, anon.AccessToken), ""), app.ErrNoEmail)
}
