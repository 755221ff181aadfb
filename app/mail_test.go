package app_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// TestEmailsCarryTheRedirectTheyWereAskedFor: register, resend and forgot
// each put the redirect they were given into their email, and an email
// asked for without one carries none.
func TestEmailsCarryTheRedirectTheyWereAskedFor(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const (
		onRegister = "https://app.example.com/welcome"
		onResend   = "https://app.example.com/welcome?again=1"
		onForgot   = "https://app.example.com/signed-out"
	)

	tokens, err := e.Auth.Register(ctx, app.RegisterInput{
		Email: "ada@example.com", Password: "correct horse battery staple", Client: client, RedirectTo: onRegister,
	})
	require.NoError(t, err)
	require.NoError(t, e.Account.ResendVerification(ctx, e.Claims(t, tokens.AccessToken), onResend))
	require.NoError(t, e.Account.ResendVerification(ctx, e.Claims(t, tokens.AccessToken), ""))
	require.NoError(t, e.Account.ForgotPassword(ctx, app.ForgotPasswordInput{Email: "ada@example.com", RedirectTo: onForgot, Client: client}))
	e.Wait()
	e.register(t, "grace@example.com")

	var got []string
	for _, m := range e.Mailer.To("ada@example.com", domain.EmailVerifyAddress) {
		got = append(got, m.RedirectTo)
	}
	assert.Equal(t, []string{onRegister, onResend, ""}, got, "verification emails, oldest first")
	reset := e.Mailer.To("ada@example.com", domain.EmailResetPassword)
	require.Len(t, reset, 1)
	assert.Equal(t, onForgot, reset[0].RedirectTo)
	grace := e.Mailer.To("grace@example.com")
	require.Len(t, grace, 1)
	assert.Empty(t, grace[0].RedirectTo, "a registration without one")
}
