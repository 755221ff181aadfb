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

// A password with accents, composed (NFC) and decomposed (each accent a
// combining mark after its letter).
const (
	composedPassword   = "cr\u00e8me br\u00fbl\u00e9e, s'il vous pla\u00eet"
	decomposedPassword = "cre\u0300me bru\u0302le\u0301e, s'il vous plai\u0302t"
)

// storedHash returns the password hash stored for email.
func (e *env) storedHash(t *testing.T, email string) string {
	t.Helper()
	u, err := e.Store.Stores().Users.ByEmail(context.Background(), email)
	require.NoError(t, err)
	return u.PasswordHash
}

func TestPasswordsAreOnePasswordWhateverTheirUnicodeForm(t *testing.T) {
	require.NotEqual(t, composedPassword, decomposedPassword)
	for _, tt := range []struct{ name, registered, typed string }{
		{"registered composed, typed decomposed", composedPassword, decomposedPassword},
		{"registered decomposed, typed composed", decomposedPassword, composedPassword},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			_, err := e.Auth.Register(ctx, app.RegisterInput{Email: "nfc@example.com", Password: tt.registered, Client: client})
			require.NoError(t, err)
			assert.Equal(t, "fake$"+composedPassword, e.storedHash(t, "nfc@example.com"), "the normal form is hashed")

			_, err = e.Auth.Login(ctx, "nfc@example.com", tt.typed, client)
			require.NoError(t, err)
		})
	}
}

func TestChangeAndResetNormalizeTheNewPassword(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tokens := e.register(t, "nfc@example.com")
	claims := e.Claims(t, tokens.AccessToken)

	require.NoError(t, e.Account.ChangePassword(ctx, claims, "correct horse battery staple", decomposedPassword))
	assert.Equal(t, "fake$"+composedPassword, e.storedHash(t, "nfc@example.com"), "change")
	_, err := e.Auth.Login(ctx, "nfc@example.com", composedPassword, client)
	require.NoError(t, err)

	require.NoError(t, e.Account.ForgotPassword(ctx, app.ForgotPasswordInput{Email: "nfc@example.com", Client: client}))
	e.Wait()
	const decomposedReset = "n\u0303ame n\u0303ame n\u0303ame"
	require.NoError(t, e.Account.ResetPassword(ctx, e.linkToken(t, "nfc@example.com", domain.EmailResetPassword), decomposedReset, client))
	assert.Equal(t, "fake$\u00f1ame \u00f1ame \u00f1ame", e.storedHash(t, "nfc@example.com"), "reset")
}

func TestThePolicyJudgesTheNormalForm(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Eight code points as typed, four characters: too short.
	short := strings.Repeat("e\u0301", 4)
	_, err := e.Auth.Register(ctx, app.RegisterInput{Email: "nfc@example.com", Password: short, Client: client})
	requireProblems(t, err, "password:too_short")

	// 256 characters, 512 code points as typed: long enough, not too long.
	long := strings.Repeat("e\u0301", domain.MaxPasswordLength)
	_, err = e.Auth.Register(ctx, app.RegisterInput{Email: "nfc@example.com", Password: long, Client: client})
	require.NoError(t, err)

	tokens := e.register(t, "nfc2@example.com")
	err = e.Account.ChangePassword(ctx, e.Claims(t, tokens.AccessToken), "correct horse battery staple", short)
	requireProblems(t, err, "new_password:too_short")
}

func TestLoginRehashesAHashOfAnUnnormalizedPassword(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.register(t, "old@example.com").User
	// A hash stored before normalisation: of the bytes as the user typed
	// them.
	stored, err := e.Store.Stores().Users.ByID(ctx, u.ID)
	require.NoError(t, err)
	stored.PasswordHash = "fake$" + decomposedPassword
	_, err = e.Store.Stores().Users.Update(ctx, stored)
	require.NoError(t, err)

	_, err = e.Auth.Login(ctx, "old@example.com", decomposedPassword, client)
	require.NoError(t, err, "the old hash still verifies")
	assert.Equal(t, "fake$"+composedPassword, e.storedHash(t, "old@example.com"), "and is replaced by the normal form's")

	_, err = e.Auth.Login(ctx, "old@example.com", composedPassword, client)
	require.NoError(t, err, "now either form logs in")
	_, err = e.Auth.Login(ctx, "old@example.com", decomposedPassword, client)
	require.NoError(t, err)
}

func TestUnknownEmailsCostAsManyHashesAsWrongPasswords(t *testing.T) {
	e := newEnv(t, rateLimitsOff)
	ctx := context.Background()
	e.register(t, "known@example.com")

	for typed, want := range map[string]int64{
		composedPassword:   1,
		decomposedPassword: 2, // the normal form, then the bytes as typed
	} {
		before := e.Hasher.Verifies()
		_, err := e.Auth.Login(ctx, "known@example.com", typed+"!", client)
		require.ErrorIs(t, err, domain.ErrInvalidCredentials)
		known := e.Hasher.Verifies() - before
		assert.Equal(t, want, known, "%q", typed)

		before = e.Hasher.Verifies()
		_, err = e.Auth.Login(ctx, "unknown@example.com", typed+"!", client)
		require.ErrorIs(t, err, domain.ErrInvalidCredentials)
		assert.Equal(t, known, e.Hasher.Verifies()-before, "%q", typed)
	}
}
