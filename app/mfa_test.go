package app_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/apptest"
	"github.com/gatehouse-auth/gatehouse/test/otptest"
)

const mfaPassword = "correct horse battery staple"

// enrolled registers email, enrols and verifies a TOTP factor from the
// registration's session, and returns the registration's tokens, the key
// (as an app takes it) and the recovery codes.
func (e *env) enrolled(t *testing.T, email string) (app.Tokens, string, []string) {
	t.Helper()
	ctx := context.Background()
	reg := e.register(t, email)
	claims := e.Claims(t, reg.AccessToken)
	enrolment, err := e.Account.EnrolTOTP(ctx, claims)
	require.NoError(t, err)
	codes, err := e.Account.VerifyTOTP(ctx, claims, e.code(t, enrolment.Text))
	require.NoError(t, err)
	require.Len(t, codes, 10)
	e.Clock.Advance(otptest.Step) // the next code is of a later step
	return reg, enrolment.Text, codes
}

// code is the authenticator app's code for key now, by the tests' own
// RFC 6238 implementation.
func (e *env) code(t *testing.T, key string) string {
	t.Helper()
	code, err := otptest.CodeOfText(key, e.Clock.Now())
	require.NoError(t, err)
	return code
}

// challenged logs email in with its password and returns the MFA
// challenge the gate answers with.
func (e *env) challenged(t *testing.T, email string) *app.MFARequiredError {
	t.Helper()
	_, err := e.Auth.Login(context.Background(), email, mfaPassword, client)
	var mfa *app.MFARequiredError
	require.ErrorAs(t, err, &mfa)
	require.True(t, domain.WellFormedOpaqueToken(mfa.Challenge))
	assert.Equal(t, []domain.FactorKind{domain.FactorTOTP}, mfa.Factors)
	return mfa
}

func TestTOTPEnrolmentCountsOnceVerified(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg := e.register(t, "enrol@example.com")
	claims := e.Claims(t, reg.AccessToken)
	assert.Equal(t, domain.AAL1, claims.AAL)
	assert.Equal(t, []domain.AuthMethod{domain.AuthPassword}, claims.Methods)

	enrolment, err := e.Account.EnrolTOTP(ctx, claims)
	require.NoError(t, err)
	assert.Nil(t, enrolment.Secret, "the raw key stays inside")
	assert.Contains(t, enrolment.URI, "otpauth://totp/")
	assert.Contains(t, enrolment.QRCode, "data:image/png;base64,")
	factors, err := e.Store.Stores().Factors.ByUser(ctx, reg.User.ID)
	require.NoError(t, err)
	require.Len(t, factors, 1)
	assert.NotContains(t, string(factors[0].Secret), enrolment.Text, "the key is stored sealed")
	assert.False(t, factors[0].Verified())

	_, err = e.Auth.Login(ctx, "enrol@example.com", mfaPassword, client)
	require.NoError(t, err, "an unverified factor asks for nothing")

	_, err = e.Account.VerifyTOTP(ctx, claims, "000000")
	require.ErrorIs(t, err, app.ErrInvalidMFACode)
	codes, err := e.Account.VerifyTOTP(ctx, claims, e.code(t, enrolment.Text))
	require.NoError(t, err)
	assert.Len(t, codes, 10, "recovery codes, shown this once")
	assert.Len(t, map[string]bool{codes[0]: true, codes[1]: true, codes[9]: true}, 3)
	assert.Regexp(t, `^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$`, codes[0])

	refreshed, err := e.Auth.Refresh(ctx, reg.RefreshToken)
	require.NoError(t, err)
	stepped := e.Claims(t, refreshed.AccessToken)
	assert.Equal(t, domain.AAL2, stepped.AAL, "verifying stepped the session up")
	assert.Equal(t, []domain.AuthMethod{domain.AuthPassword, domain.AuthOTP}, stepped.Methods)

	_, err = e.Account.EnrolTOTP(ctx, stepped)
	require.ErrorIs(t, err, app.ErrFactorEnabled)
}

func TestLoginWithASecondFactorPassesTheGate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, key, _ := e.enrolled(t, "gate@example.com")

	mfa := e.challenged(t, "gate@example.com")
	_, err := e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: mfa.Challenge, Code: "123456", Client: client})
	require.ErrorIs(t, err, app.ErrInvalidMFACode)

	code := e.code(t, key)
	tokens, err := e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: mfa.Challenge, Code: code, Client: client})
	require.NoError(t, err, "a wrong code left the challenge usable")
	claims := e.Claims(t, tokens.AccessToken)
	assert.Equal(t, domain.AAL2, claims.AAL)
	assert.Equal(t, []domain.AuthMethod{domain.AuthPassword, domain.AuthOTP}, claims.Methods)
	assert.Equal(t, "gate@example.com", tokens.User.Email)

	_, err = e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: mfa.Challenge, Code: code, Client: client})
	require.ErrorIs(t, err, app.ErrInvalidMFAChallenge, "a challenge is single-use")

	again := e.challenged(t, "gate@example.com")
	_, err = e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: again.Challenge, Code: code, Client: client})
	require.ErrorIs(t, err, app.ErrInvalidMFACode, "a code is accepted once, even inside its window")
	e.Clock.Advance(otptest.Step)
	_, err = e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: again.Challenge, Code: e.code(t, key), Client: client})
	require.NoError(t, err)
}

func TestMFAChallengeExpires(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, key, _ := e.enrolled(t, "expiry@example.com")
	mfa := e.challenged(t, "expiry@example.com")

	e.Clock.Advance(5 * time.Minute)
	_, err := e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: mfa.Challenge, Code: e.code(t, key), Client: client})
	require.ErrorIs(t, err, app.ErrInvalidMFAChallenge)
	_, err = e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: "not-a-challenge", Code: e.code(t, key), Client: client})
	require.ErrorIs(t, err, app.ErrInvalidMFAChallenge)
	_, err = e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: mfa.Challenge, Client: client})
	requireProblems(t, err, "code:required")
}

func TestMFAChallengeLivesAsConfigured(t *testing.T) {
	e := newEnv(t, apptest.WithConfig(func(c *app.Config) { c.MFAChallengeTTL = 2 * time.Minute }))
	ctx := context.Background()
	_, key, _ := e.enrolled(t, "configured@example.com")
	mfa := e.challenged(t, "configured@example.com")

	e.Clock.Advance(2*time.Minute - time.Second)
	_, err := e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: mfa.Challenge, Code: "000000", Client: client})
	require.ErrorIs(t, err, app.ErrInvalidMFACode, "still live a second before")
	e.Clock.Advance(time.Second)
	_, err = e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: mfa.Challenge, Code: e.code(t, key), Client: client})
	require.ErrorIs(t, err, app.ErrInvalidMFAChallenge, "gone at its lifetime")
}

func TestRecoveryCodesWorkOnceEach(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, _, codes := e.enrolled(t, "recovery@example.com")

	mfa := e.challenged(t, "recovery@example.com")
	lowered := "  " + toLowerNoDashes(codes[3])
	tokens, err := e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: mfa.Challenge, RecoveryCode: lowered, Client: client})
	require.NoError(t, err, "any case, dashes or not")
	claims := e.Claims(t, tokens.AccessToken)
	assert.Equal(t, domain.AAL2, claims.AAL)
	assert.Equal(t, []domain.AuthMethod{domain.AuthPassword, domain.AuthRecoveryCode}, claims.Methods)

	again := e.challenged(t, "recovery@example.com")
	_, err = e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: again.Challenge, RecoveryCode: codes[3], Client: client})
	require.ErrorIs(t, err, app.ErrInvalidMFACode, "each code is single-use")
	_, err = e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: again.Challenge, RecoveryCode: codes[4], Client: client})
	require.NoError(t, err, "the others still work")

	_, _, others := e.enrolled(t, "someone-else@example.com")
	third := e.challenged(t, "recovery@example.com")
	_, err = e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: third.Challenge, RecoveryCode: others[0], Client: client})
	require.ErrorIs(t, err, app.ErrInvalidMFACode, "another user's code")
	mfaOther := e.challenged(t, "someone-else@example.com")
	_, err = e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: mfaOther.Challenge, RecoveryCode: others[0], Client: client})
	require.NoError(t, err, "and it was not spent by the refused attempt")
}

// toLowerNoDashes writes a recovery code as a careless user types it.
func toLowerNoDashes(code string) string {
	out := make([]byte, 0, len(code))
	for _, c := range []byte(code) {
		switch {
		case c == '-':
		case 'A' <= c && c <= 'Z':
			out = append(out, c+'a'-'A')
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

func TestConcurrentAnswersToOneChallengeStartOneSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg, key, _ := e.enrolled(t, "race@example.com")
	mfa := e.challenged(t, "race@example.com")
	code := e.code(t, key)

	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: mfa.Challenge, Code: code, Client: client})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		assert.True(t, errors.Is(err, app.ErrInvalidMFACode) || errors.Is(err, app.ErrInvalidMFAChallenge), "%v", err)
	}
	assert.Equal(t, 1, won)
	sessions, err := e.Store.Stores().Sessions.ListActive(ctx, reg.User.ID, e.Clock.Now())
	require.NoError(t, err)
	assert.Len(t, sessions, 2, "the registration's and the one sign-in's")
}

func TestMFACodesAreRateLimited(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, key, _ := e.enrolled(t, "limited@example.com")
	mfa := e.challenged(t, "limited@example.com")

	for range 5 {
		_, err := e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: mfa.Challenge, Code: "000000", Client: client})
		require.ErrorIs(t, err, app.ErrInvalidMFACode)
	}
	_, err := e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: mfa.Challenge, Code: e.code(t, key), Client: client})
	requireRateLimited(t, err)

	for range 5 { // a fresh challenge, the same user: 10 attempts in all
		fresh := e.challenged(t, "limited@example.com")
		_, err := e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: fresh.Challenge, Code: "000000", Client: client})
		if err != nil && !errors.Is(err, app.ErrInvalidMFACode) {
			requireRateLimited(t, err)
		}
	}
	fresh := e.challenged(t, "limited@example.com")
	_, err = e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: fresh.Challenge, Code: e.code(t, key), Client: client})
	requireRateLimited(t, err)
}

func TestSensitiveChangesNeedAAL2WithASecondFactor(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg, key, _ := e.enrolled(t, "sensitive@example.com")
	// A session from before the factor: the registration's, not stepped
	// up by a token issued before the verification.
	old := e.Claims(t, reg.AccessToken)
	require.Equal(t, domain.AAL1, old.AAL)

	require.ErrorIs(t, e.Account.ChangePassword(ctx, old, mfaPassword, "another long passphrase"), app.ErrAAL2Required)
	require.ErrorIs(t, e.Account.DeleteAccount(ctx, old, mfaPassword), app.ErrAAL2Required)
	require.ErrorIs(t, e.Account.DisableTOTP(ctx, old), app.ErrAAL2Required)
	_, err := e.Account.RegenerateRecoveryCodes(ctx, old)
	require.ErrorIs(t, err, app.ErrAAL2Required)

	mfa := e.challenged(t, "sensitive@example.com")
	tokens, err := e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: mfa.Challenge, Code: e.code(t, key), Client: client})
	require.NoError(t, err)
	strong := e.Claims(t, tokens.AccessToken)
	codes, err := e.Account.RegenerateRecoveryCodes(ctx, strong)
	require.NoError(t, err)
	assert.Len(t, codes, 10)
	require.NoError(t, e.Account.DisableTOTP(ctx, strong))
	_, err = e.Auth.Login(ctx, "sensitive@example.com", mfaPassword, client)
	require.NoError(t, err, "without the factor a password signs in again")
	require.NoError(t, e.Account.ChangePassword(ctx, old, mfaPassword, "another long passphrase"), "nor is aal2 needed any more")
}

func TestAdminRemovesAUsersFactors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg, _, codes := e.enrolled(t, "locked-out@example.com")

	require.NoError(t, e.Admin.RemoveFactors(ctx, reg.User.ID))
	_, err := e.Auth.Login(ctx, "locked-out@example.com", mfaPassword, client)
	require.NoError(t, err, "the password alone signs in again")
	_, err = e.Store.Stores().Tokens.Find(ctx, domain.TokenRecoveryCode, domain.HashToken(codes[0][0:4]+codes[0][5:9]+codes[0][10:14]+codes[0][15:19]), e.Clock.Now())
	require.ErrorIs(t, err, domain.ErrNotFound, "the recovery codes went with the factor")
	require.ErrorIs(t, e.Admin.RemoveFactors(ctx, "no-such-user"), domain.ErrNotFound)
}

func TestFactorsListsWithoutSecrets(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg := e.register(t, "list@example.com")
	claims := e.Claims(t, reg.AccessToken)
	infos, err := e.Account.Factors(ctx, claims)
	require.NoError(t, err)
	assert.Empty(t, infos)

	_, err = e.Account.EnrolTOTP(ctx, claims)
	require.NoError(t, err)
	infos, err = e.Account.Factors(ctx, claims)
	require.NoError(t, err)
	assert.Equal(t, []app.FactorInfo{{Kind: domain.FactorTOTP, Verified: false, CreatedAt: e.Clock.Now()}}, infos)

	registered := e.Clock.Now().Add(-time.Hour)
	_, err = e.Store.Stores().Passkeys.Create(ctx, domain.Passkey{
		UserID: reg.User.ID, CredentialID: []byte("credential-1"), PublicKey: []byte("cose key"),
		AAGUID: make([]byte, 16), Name: "Passkey", CreatedAt: registered, LastUsedAt: registered,
	})
	require.NoError(t, err)
	infos, err = e.Account.Factors(ctx, claims)
	require.NoError(t, err)
	assert.Equal(t, []app.FactorInfo{
		{Kind: domain.FactorTOTP, Verified: false, CreatedAt: e.Clock.Now()},
		{Kind: domain.FactorPasskey, Verified: true, CreatedAt: registered},
	}, infos, "passkeys are factors too")
}
