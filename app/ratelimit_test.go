package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// requireRateLimited fails unless err is a rate-limited error.
func requireRateLimited(t *testing.T, err error) *domain.RateLimitedError {
	t.Helper()
	var limited *domain.RateLimitedError
	require.ErrorAs(t, err, &limited)
	require.Positive(t, limited.RetryAfter)
	return limited
}

// A request that read its clock before the one that opened the window
// (a concurrent request, or a replica whose clock is behind) is told to
// wait no longer than the window.
func TestRetryAfterIsAtMostTheWindow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.register(t, "ada@example.com")
	opened := e.Clock.Now()
	for i := range 10 {
		_, err := e.Auth.Login(ctx, "ada@example.com", "wrong", client)
		require.ErrorIs(t, err, domain.ErrInvalidCredentials, "attempt %d", i+1)
	}

	e.Clock.Set(opened.Add(-time.Second))
	_, err := e.Auth.Login(ctx, "ada@example.com", "wrong", client)
	limited := requireRateLimited(t, err)
	assert.Equal(t, 15*time.Minute, limited.RetryAfter)
}

func TestFailedLoginsFromOneClientAreLimited(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.register(t, "ada@example.com")

	for i := range 10 {
		_, err := e.Auth.Login(ctx, "ada@example.com", "wrong", client)
		require.ErrorIs(t, err, domain.ErrInvalidCredentials, "attempt %d", i+1)
	}
	verifies := e.Hasher.Verifies()
	_, err := e.Auth.Login(ctx, "ada@example.com", "correct horse battery staple", client)
	limited := requireRateLimited(t, err)
	assert.Equal(t, 15*time.Minute, limited.RetryAfter)
	assert.Equal(t, verifies, e.Hasher.Verifies(), "a limited attempt checks no password")

	_, err = e.Auth.Login(ctx, "ada@example.com", "correct horse battery staple", app.Client{IP: "198.51.100.1"})
	require.NoError(t, err, "another client is not limited by this one's failures")

	e.Clock.Advance(15 * time.Minute)
	_, err = e.Auth.Login(ctx, "ada@example.com", "correct horse battery staple", client)
	require.NoError(t, err, "the window has passed")
}

func TestParallelWrongPasswordsCannotSlipPastTheLimit(t *testing.T) {
	e := newEnv(t)
	e.register(t, "ada@example.com")
	var wg sync.WaitGroup
	errs := make([]error, 30)
	for i := range errs {
		wg.Go(func() { _, errs[i] = e.Auth.Login(context.Background(), "ada@example.com", "wrong", client) })
	}
	wg.Wait()
	checked := 0
	for _, err := range errs {
		var limited *domain.RateLimitedError
		if errors.As(err, &limited) {
			continue
		}
		require.ErrorIs(t, err, domain.ErrInvalidCredentials)
		checked++
	}
	assert.Equal(t, 10, checked, "exactly ten passwords were checked")
}

func TestASuccessfulLoginResetsTheFailures(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.register(t, "ada@example.com")
	for range 9 {
		_, err := e.Auth.Login(ctx, "ada@example.com", "wrong", client)
		require.ErrorIs(t, err, domain.ErrInvalidCredentials)
	}
	_, err := e.Auth.Login(ctx, "ada@example.com", "correct horse battery staple", client)
	require.NoError(t, err)
	for i := range 9 {
		_, err := e.Auth.Login(ctx, "ada@example.com", "wrong", client)
		require.ErrorIs(t, err, domain.ErrInvalidCredentials, "attempt %d after the reset", i+1)
	}
}

func TestAccountWideLoginLimitAcrossClients(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.register(t, "ada@example.com")
	for i := range 100 {
		_, err := e.Auth.Login(ctx, "ada@example.com", "wrong", app.Client{IP: fmt.Sprintf("198.51.100.%d", i)})
		require.ErrorIs(t, err, domain.ErrInvalidCredentials, "attempt %d", i+1)
	}
	_, err := e.Auth.Login(ctx, "ada@example.com", "correct horse battery staple", app.Client{IP: "203.0.113.200"})
	limited := requireRateLimited(t, err)
	assert.Equal(t, time.Hour, limited.RetryAfter)
}

func TestPerIPLimitsOnAccountCreationAndResetMail(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range 20 {
		_, err := e.Auth.Anonymous(ctx, client)
		require.NoError(t, err, "anonymous %d", i+1)
	}
	_, err := e.Auth.Anonymous(ctx, client)
	requireRateLimited(t, err)

	for i := range 20 {
		_, err := e.Auth.Register(ctx, app.RegisterInput{Email: fmt.Sprintf("u%d@example.com", i), Password: "correct horse battery staple", Client: client})
		require.NoError(t, err, "register %d", i+1)
	}
	_, err = e.Auth.Register(ctx, app.RegisterInput{Email: "one-more@example.com", Password: "correct horse battery staple", Client: client})
	requireRateLimited(t, err)

	for i := range 10 {
		require.NoError(t, e.Account.ForgotPassword(ctx, app.ForgotPasswordInput{Email: fmt.Sprintf("f%d@example.com", i), Client: client}))
	}
	requireRateLimited(t, e.Account.ForgotPassword(ctx, app.ForgotPasswordInput{Email: "f-last@example.com", Client: client}))
	for i := range 5 {
		require.NoError(t, e.Account.ForgotPassword(ctx, app.ForgotPasswordInput{Email: "target@example.com", Client: app.Client{IP: fmt.Sprintf("198.51.100.%d", i)}}))
	}
	requireRateLimited(t, e.Account.ForgotPassword(ctx, app.ForgotPasswordInput{Email: "target@example.com", Client: app.Client{IP: "198.51.100.99"}}))
	e.Wait()
}

func TestRateLimitsOff(t *testing.T) {
	e := newEnv(t, rateLimitsOff)
	ctx := context.Background()
	e.register(t, "ada@example.com")
	for range 15 {
		_, err := e.Auth.Login(ctx, "ada@example.com", "wrong", client)
		require.ErrorIs(t, err, domain.ErrInvalidCredentials)
	}
}

func TestPasswordChecksOfASignedInUserAreLimited(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tokens := e.register(t, "ada@example.com")
	bearer := e.Claims(t, tokens.AccessToken)

	for i := range 5 {
		require.ErrorIs(t, e.Account.ChangePassword(ctx, bearer, "guess", "a brand new passphrase"), domain.ErrInvalidCredentials, "change %d", i+1)
		require.ErrorIs(t, e.Account.DeleteAccount(ctx, bearer, "guess"), domain.ErrInvalidCredentials, "delete %d", i+1)
	}
	verifies := e.Hasher.Verifies()
	requireRateLimited(t, e.Account.DeleteAccount(ctx, bearer, "correct horse battery staple"))
	requireRateLimited(t, e.Account.ChangePassword(ctx, bearer, "correct horse battery staple", "a brand new passphrase"))
	assert.Equal(t, verifies, e.Hasher.Verifies(), "no password was checked over the limit")

	e.Clock.Advance(15 * time.Minute)
	require.NoError(t, e.Account.ChangePassword(ctx, bearer, "correct horse battery staple", "a brand new passphrase"))
}

// lockAccount makes the account-wide login limit of email refuse every
// client, with failures from many clients, client among them with ten of
// its own (its per-client limit too), as someone guessing its password
// would.
func (e *env) lockAccount(t *testing.T, email string) {
	t.Helper()
	ctx := context.Background()
	for i := range 100 {
		from := client
		if i >= 10 {
			from = app.Client{IP: fmt.Sprintf("198.51.100.%d", i)}
		}
		_, err := e.Auth.Login(ctx, email, "wrong", from)
		require.ErrorIs(t, err, domain.ErrInvalidCredentials, "attempt %d", i+1)
	}
	for _, from := range []app.Client{client, {IP: "192.0.2.77"}} {
		_, err := e.Auth.Login(ctx, email, "correct horse battery staple", from)
		requireRateLimited(t, err)
	}
}

func TestAPasswordResetLiftsTheLoginLimits(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.register(t, "ada@example.com")
	e.lockAccount(t, "ada@example.com")

	require.NoError(t, e.Account.ForgotPassword(ctx, app.ForgotPasswordInput{Email: "ada@example.com", Client: client}))
	e.Wait()
	token := e.linkToken(t, "ada@example.com", domain.EmailResetPassword)
	require.NoError(t, e.Account.ResetPassword(ctx, token, "a brand new passphrase", client))

	_, err := e.Auth.Login(ctx, "ada@example.com", "a brand new passphrase", client)
	require.NoError(t, err, "the reset lifted the account's limit and the resetting client's")
}

func TestASecondFactorSignInLiftsTheLoginLimits(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, key, _ := e.enrolled(t, "ada@example.com")
	mfa := e.challenged(t, "ada@example.com")
	e.lockAccount(t, "ada@example.com")

	_, err := e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: mfa.Challenge, Code: e.code(t, key), Client: client})
	require.NoError(t, err)

	_, err = e.Auth.Login(ctx, "ada@example.com", mfaPassword, client)
	var again *app.MFARequiredError
	require.ErrorAs(t, err, &again, "the password is checked again, not refused by the limit")
}

func TestAPasskeySignInLiftsTheLoginLimits(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, a := e.withPasskey(t, "ada@example.com")
	e.lockAccount(t, "ada@example.com")

	_, err := e.passwordless(t, a)
	require.NoError(t, err)

	_, err = e.Auth.Login(ctx, "ada@example.com", mfaPassword, client)
	var mfa *app.MFARequiredError
	require.ErrorAs(t, err, &mfa, "the password is checked again, not refused by the limit")
}

func TestLoginAttemptsFromOneClientAreLimitedWhateverTheEmail(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.register(t, "ada@example.com")
	attempt := 0
	try := func(email, password string) error {
		attempt++
		_, err := e.Auth.Login(ctx, email, password, client)
		return err
	}
	for i := range 50 {
		require.ErrorIs(t, try(fmt.Sprintf("nobody%d@example.com", i), "wrong"), domain.ErrInvalidCredentials, "attempt %d", attempt)
	}
	for range 9 {
		require.ErrorIs(t, try("ada@example.com", "wrong"), domain.ErrInvalidCredentials, "attempt %d", attempt)
	}
	require.NoError(t, try("ada@example.com", "correct horse battery staple"))
	for i := range 40 {
		require.ErrorIs(t, try(fmt.Sprintf("someone%d@example.com", i), "wrong"), domain.ErrInvalidCredentials, "attempt %d", attempt)
	}
	require.Equal(t, 100, attempt)

	verifies := e.Hasher.Verifies()
	limited := requireRateLimited(t, try("ada@example.com", "correct horse battery staple"))
	assert.Equal(t, 15*time.Minute, limited.RetryAfter, "a success reset none of the client's count")
	requireRateLimited(t, try("nobody-else@example.com", "wrong"))
	assert.Equal(t, verifies, e.Hasher.Verifies(), "a limited attempt checks no password")

	_, err := e.Auth.Login(ctx, "ada@example.com", "correct horse battery staple", app.Client{IP: "198.51.100.1"})
	require.NoError(t, err, "another client is not limited by this one's attempts")
	e.Clock.Advance(15 * time.Minute)
	require.NoError(t, try("ada@example.com", "correct horse battery staple"), "the window has passed")
}
