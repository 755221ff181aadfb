package app_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/apptest"
	"github.com/gatehouse-auth/gatehouse/test/webauthntest"
)

// withPasskey registers email and a passkey on a new software
// authenticator from the registration's session, and returns the
// registration's tokens and the authenticator.
func (e *env) withPasskey(t *testing.T, email string) (app.Tokens, *webauthntest.Authenticator) {
	t.Helper()
	reg := e.register(t, email)
	a := webauthntest.New(apptest.PasskeyOrigin)
	e.addPasskey(t, e.Claims(t, reg.AccessToken), a, "Laptop")
	return reg, a
}

// addPasskey registers a passkey on a for the caller of claims.
func (e *env) addPasskey(t *testing.T, claims domain.Claims, a *webauthntest.Authenticator, name string) app.PasskeyInfo {
	t.Helper()
	ctx := context.Background()
	begun, err := e.Account.BeginPasskeyRegistration(ctx, claims)
	require.NoError(t, err)
	response, err := a.Create(begun.Options)
	require.NoError(t, err)
	info, err := e.Account.FinishPasskeyRegistration(ctx, claims, app.FinishPasskeyRegistrationInput{
		Ceremony: begun.Token, Response: response, Name: name,
	})
	require.NoError(t, err)
	return info
}

// passwordless signs in with a's passkey without a password.
func (e *env) passwordless(t *testing.T, a *webauthntest.Authenticator) (app.Tokens, error) {
	t.Helper()
	ctx := context.Background()
	begun, err := e.Auth.BeginPasskeySignIn(ctx, app.BeginPasskeySignInInput{Client: client})
	require.NoError(t, err)
	response, err := a.Get(begun.Options)
	require.NoError(t, err)
	return e.Auth.FinishPasskeySignIn(ctx, app.FinishPasskeySignInInput{Ceremony: begun.Token, Response: response, Client: client})
}

func TestPasskeySignsInWithoutAPasswordAtAAL2(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg, a := e.withPasskey(t, "passkey@example.com")

	tokens, err := e.passwordless(t, a)
	require.NoError(t, err)
	claims := e.Claims(t, tokens.AccessToken)
	assert.Equal(t, reg.User.ID, claims.Subject)
	assert.Equal(t, []domain.AuthMethod{domain.AuthHardwareKey, domain.AuthMultiFactor}, claims.Methods)
	assert.Equal(t, domain.AAL2, claims.AAL)

	infos, err := e.Account.Passkeys(ctx, claims)
	require.NoError(t, err)
	require.Len(t, infos, 1)
	assert.Equal(t, "Laptop", infos[0].Name)
	assert.Equal(t, e.Clock.Now(), infos[0].LastUsedAt, "the sign-in was recorded")
	assert.True(t, infos[0].BackedUp)

	a.UserVerified = false
	_, err = e.passwordless(t, a)
	require.ErrorIs(t, err, domain.ErrInvalidPasskey, "without a password the authenticator must verify the user")
}

func TestPasskeyCeremoniesAreSingleUseAndShortLived(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, a := e.withPasskey(t, "once@example.com")

	begun, err := e.Auth.BeginPasskeySignIn(ctx, app.BeginPasskeySignInInput{Client: client})
	require.NoError(t, err)
	response, err := a.Get(begun.Options)
	require.NoError(t, err)
	finish := app.FinishPasskeySignInInput{Ceremony: begun.Token, Response: response, Client: client}
	_, err = e.Auth.FinishPasskeySignIn(ctx, finish)
	require.NoError(t, err)
	_, err = e.Auth.FinishPasskeySignIn(ctx, finish)
	require.ErrorIs(t, err, app.ErrInvalidCeremony, "a ceremony finishes once")

	begun, err = e.Auth.BeginPasskeySignIn(ctx, app.BeginPasskeySignInInput{Client: client})
	require.NoError(t, err)
	a.Origin = "https://evil.example.net"
	response, err = a.Get(begun.Options)
	require.NoError(t, err)
	_, err = e.Auth.FinishPasskeySignIn(ctx, app.FinishPasskeySignInInput{Ceremony: begun.Token, Response: response, Client: client})
	require.ErrorIs(t, err, domain.ErrInvalidPasskey, "a page of another origin")
	a.Origin = apptest.PasskeyOrigin
	response, err = a.Get(begun.Options)
	require.NoError(t, err)
	_, err = e.Auth.FinishPasskeySignIn(ctx, app.FinishPasskeySignInInput{Ceremony: begun.Token, Response: response, Client: client})
	require.ErrorIs(t, err, app.ErrInvalidCeremony, "a refused answer spent the ceremony too")

	begun, err = e.Auth.BeginPasskeySignIn(ctx, app.BeginPasskeySignInInput{Client: client})
	require.NoError(t, err)
	response, err = a.Get(begun.Options)
	require.NoError(t, err)
	e.Clock.Advance(domain.TokenPasskeySignIn.TTL())
	_, err = e.Auth.FinishPasskeySignIn(ctx, app.FinishPasskeySignInInput{Ceremony: begun.Token, Response: response, Client: client})
	require.ErrorIs(t, err, app.ErrInvalidCeremony, "a ceremony lives 5 minutes")
	_, err = e.Auth.FinishPasskeySignIn(ctx, app.FinishPasskeySignInInput{Ceremony: "garbage", Response: response, Client: client})
	require.ErrorIs(t, err, app.ErrInvalidCeremony)
}

func TestPasskeyCloneIsRefused(t *testing.T) {
	e := newEnv(t)
	_, a := e.withPasskey(t, "clone@example.com")
	_, err := e.passwordless(t, a)
	require.NoError(t, err)

	clone := *a // the same key, and the counter where it was
	_, err = e.passwordless(t, a)
	require.NoError(t, err)
	_, err = e.passwordless(t, &clone)
	require.ErrorIs(t, err, domain.ErrInvalidPasskey, "a counter that did not go up")
	require.ErrorIs(t, err, domain.ErrPasskeyCloned)
}

func TestPasskeyAnswersTheMFAChallenge(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, a := e.withPasskey(t, "second@example.com")

	_, err := e.Auth.Login(ctx, "second@example.com", mfaPassword, client)
	var mfa *app.MFARequiredError
	require.ErrorAs(t, err, &mfa, "a passkey is a second factor")
	assert.Equal(t, []domain.FactorKind{domain.FactorPasskey}, mfa.Factors)

	begun, err := e.Auth.BeginPasskeySignIn(ctx, app.BeginPasskeySignInInput{Challenge: mfa.Challenge, Client: client})
	require.NoError(t, err)
	a.UserVerified = false // after a password, presence is enough
	response, err := a.Get(begun.Options)
	require.NoError(t, err)
	tokens, err := e.Auth.FinishPasskeySignIn(ctx, app.FinishPasskeySignInInput{Ceremony: begun.Token, Response: response, Client: client})
	require.NoError(t, err)
	claims := e.Claims(t, tokens.AccessToken)
	assert.Equal(t, []domain.AuthMethod{domain.AuthPassword, domain.AuthHardwareKey}, claims.Methods)
	assert.Equal(t, domain.AAL2, claims.AAL)

	_, err = e.Auth.BeginPasskeySignIn(ctx, app.BeginPasskeySignInInput{Challenge: mfa.Challenge, Client: client})
	require.ErrorIs(t, err, app.ErrInvalidMFAChallenge, "the challenge was spent")

	// Another user's passkey does not answer this user's challenge.
	_, other := e.withPasskey(t, "other@example.com")
	_, err = e.Auth.Login(ctx, "second@example.com", mfaPassword, client)
	require.ErrorAs(t, err, &mfa)
	begun, err = e.Auth.BeginPasskeySignIn(ctx, app.BeginPasskeySignInInput{Challenge: mfa.Challenge, Client: client})
	require.NoError(t, err)
	response, err = other.Get(begun.Options)
	require.NoError(t, err)
	_, err = e.Auth.FinishPasskeySignIn(ctx, app.FinishPasskeySignInInput{Ceremony: begun.Token, Response: response, Client: client})
	require.ErrorIs(t, err, domain.ErrInvalidPasskey)
}

func TestPasskeyAndTOTPBothAnswer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg, key, _ := e.enrolled(t, "both@example.com")
	mfa := e.challenged(t, "both@example.com")
	tokens, err := e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: mfa.Challenge, Code: e.code(t, key), Client: client})
	require.NoError(t, err)
	strong := e.Claims(t, tokens.AccessToken)

	_, err = e.Account.BeginPasskeyRegistration(ctx, e.Claims(t, reg.AccessToken))
	require.ErrorIs(t, err, app.ErrAAL2Required, "adding a passkey is a sensitive change")
	a := webauthntest.New(apptest.PasskeyOrigin)
	e.addPasskey(t, strong, a, "")

	_, err = e.Auth.Login(ctx, "both@example.com", mfaPassword, client)
	require.ErrorAs(t, err, &mfa)
	assert.Equal(t, []domain.FactorKind{domain.FactorTOTP, domain.FactorPasskey}, mfa.Factors)
	infos, err := e.Account.Passkeys(ctx, strong)
	require.NoError(t, err)
	require.Len(t, infos, 1)
	assert.Equal(t, "Passkey", infos[0].Name, "the default name")
}

func TestPasskeyRegistrationRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	anon, err := e.Auth.Anonymous(ctx, client)
	require.NoError(t, err)
	_, err = e.Account.BeginPasskeyRegistration(ctx, e.Claims(t, anon.AccessToken))
	require.ErrorIs(t, err, app.ErrNoEmail)

	reg, a := e.withPasskey(t, "rules@example.com")
	old := e.Claims(t, reg.AccessToken) // aal1, from before the passkey
	_, err = e.Account.BeginPasskeyRegistration(ctx, old)
	require.ErrorIs(t, err, app.ErrAAL2Required, "with a passkey, a second one needs aal2")

	tokens, err := e.passwordless(t, a)
	require.NoError(t, err)
	strong := e.Claims(t, tokens.AccessToken)
	begun, err := e.Account.BeginPasskeyRegistration(ctx, strong)
	require.NoError(t, err)
	response, err := webauthntest.New(apptest.PasskeyOrigin).Create(begun.Options)
	require.NoError(t, err)

	other := e.Claims(t, e.register(t, "thief@example.com").AccessToken)
	_, err = e.Account.FinishPasskeyRegistration(ctx, other, app.FinishPasskeyRegistrationInput{Ceremony: begun.Token, Response: response})
	require.ErrorIs(t, err, app.ErrInvalidCeremony, "another user's ceremony")
	_, err = e.Account.FinishPasskeyRegistration(ctx, strong, app.FinishPasskeyRegistrationInput{Ceremony: begun.Token, Response: response})
	require.ErrorIs(t, err, app.ErrInvalidCeremony, "the failed attempt spent it")

	begun, err = e.Account.BeginPasskeyRegistration(ctx, strong)
	require.NoError(t, err)
	long := string(make([]rune, 101))
	_, err = e.Account.FinishPasskeyRegistration(ctx, strong, app.FinishPasskeyRegistrationInput{Ceremony: begun.Token, Response: response, Name: long + "x"})
	requireProblems(t, err, "name:too_long")
}

func TestDeletePasskey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg, a := e.withPasskey(t, "delete@example.com")
	old := e.Claims(t, reg.AccessToken)
	infos, err := e.Account.Passkeys(ctx, old)
	require.NoError(t, err)
	require.Len(t, infos, 1)

	require.ErrorIs(t, e.Account.DeletePasskey(ctx, old, infos[0].ID), app.ErrAAL2Required)
	tokens, err := e.passwordless(t, a)
	require.NoError(t, err)
	strong := e.Claims(t, tokens.AccessToken)
	other := e.Claims(t, e.register(t, "not-theirs@example.com").AccessToken)
	require.ErrorIs(t, e.Account.DeletePasskey(ctx, other, infos[0].ID), domain.ErrNotFound, "not the caller's passkey")
	require.NoError(t, e.Account.DeletePasskey(ctx, strong, infos[0].ID))
	require.ErrorIs(t, e.Account.DeletePasskey(ctx, strong, infos[0].ID), domain.ErrNotFound)

	_, err = e.Auth.Login(ctx, "delete@example.com", mfaPassword, client)
	require.NoError(t, err, "without the passkey a password signs in again")
	_, err = e.passwordless(t, a)
	require.ErrorIs(t, err, domain.ErrInvalidPasskey, "the deleted passkey signs in no more")
}

func TestAdminRemoveFactorsRemovesPasskeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg, a := e.withPasskey(t, "admin-removes@example.com")
	require.NoError(t, e.Admin.RemoveFactors(ctx, reg.User.ID))
	_, err := e.Auth.Login(ctx, "admin-removes@example.com", mfaPassword, client)
	require.NoError(t, err)
	_, err = e.passwordless(t, a)
	require.ErrorIs(t, err, domain.ErrInvalidPasskey)
}

func TestPasskeyAnswersToTheChallengeAreRateLimited(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, a := e.withPasskey(t, "limited@example.com")
	_, err := e.Auth.Login(ctx, "limited@example.com", mfaPassword, client)
	var mfa *app.MFARequiredError
	require.ErrorAs(t, err, &mfa)

	a.Origin = "https://evil.example.net"
	for i := range 5 {
		begun, err := e.Auth.BeginPasskeySignIn(ctx, app.BeginPasskeySignInInput{Challenge: mfa.Challenge, Client: client})
		require.NoError(t, err)
		response, err := a.Get(begun.Options)
		require.NoError(t, err)
		_, err = e.Auth.FinishPasskeySignIn(ctx, app.FinishPasskeySignInInput{Ceremony: begun.Token, Response: response, Client: client})
		require.ErrorIs(t, err, domain.ErrInvalidPasskey, "attempt %d", i+1)
	}
	a.Origin = apptest.PasskeyOrigin
	begun, err := e.Auth.BeginPasskeySignIn(ctx, app.BeginPasskeySignInInput{Challenge: mfa.Challenge, Client: client})
	require.NoError(t, err)
	response, err := a.Get(begun.Options)
	require.NoError(t, err)
	_, err = e.Auth.FinishPasskeySignIn(ctx, app.FinishPasskeySignInInput{Ceremony: begun.Token, Response: response, Client: client})
	requireRateLimited(t, err)
}

func TestConcurrentFinishesOfOneCeremonyStartOneSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, a := e.withPasskey(t, "race@example.com")
	begun, err := e.Auth.BeginPasskeySignIn(ctx, app.BeginPasskeySignInInput{Client: client})
	require.NoError(t, err)
	response, err := a.Get(begun.Options)
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = e.Auth.FinishPasskeySignIn(ctx, app.FinishPasskeySignInInput{Ceremony: begun.Token, Response: response, Client: client})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		require.ErrorIs(t, err, app.ErrInvalidCeremony)
	}
	assert.Equal(t, 1, won)
}
