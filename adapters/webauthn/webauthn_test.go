package webauthn_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/setting"
	"github.com/gatehouse-auth/gatehouse/adapters/webauthn"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/webauthntest"
)

const origin = "https://app.example.com"

// newRelyingParty returns the relying party example.com for origin.
func newRelyingParty(t *testing.T) *webauthn.RelyingParty {
	t.Helper()
	rp, err := webauthn.New(webauthn.Settings{RPID: "example.com", Origins: []string{origin}, RPName: "Gatehouse"})
	require.NoError(t, err)
	return rp
}

// register registers a passkey of user on a, and returns user with it.
func register(t *testing.T, rp *webauthn.RelyingParty, a *webauthntest.Authenticator, user domain.PasskeyUser) domain.PasskeyUser {
	t.Helper()
	c, err := rp.BeginRegistration(user)
	require.NoError(t, err)
	response, err := a.Create(c.Options)
	require.NoError(t, err)
	p, err := rp.FinishRegistration(user, c.State, response)
	require.NoError(t, err)
	user.Passkeys = append(user.Passkeys, p)
	return user
}

// ownerIs returns an owner callback that knows user alone and records
// whom it was asked for.
func ownerIs(user domain.PasskeyUser, asked *domain.UserID) func(domain.UserID) (domain.PasskeyUser, error) {
	return func(id domain.UserID) (domain.PasskeyUser, error) {
		*asked = id
		if id != user.ID {
			return domain.PasskeyUser{}, domain.ErrNotFound
		}
		return user, nil
	}
}

var ada = domain.PasskeyUser{ID: "0190d6a4-8e2b-7c3d-9f00-00000000a1a1", Name: "ada@example.com"}

func TestRegisterThenSignInWithoutPassword(t *testing.T) {
	t.Parallel()
	rp := newRelyingParty(t)
	a := webauthntest.New(origin)

	c, err := rp.BeginRegistration(ada)
	require.NoError(t, err)
	var options struct {
		PublicKey struct {
			RP struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"rp"`
			AuthenticatorSelection struct {
				ResidentKey string `json:"residentKey"`
			} `json:"authenticatorSelection"`
		} `json:"publicKey"`
	}
	require.NoError(t, json.Unmarshal(c.Options, &options))
	assert.Equal(t, "example.com", options.PublicKey.RP.ID)
	assert.Equal(t, "Gatehouse", options.PublicKey.RP.Name)
	assert.Equal(t, "required", options.PublicKey.AuthenticatorSelection.ResidentKey, "a discoverable credential, to sign in without a password")
	response, err := a.Create(c.Options)
	require.NoError(t, err)
	p, err := rp.FinishRegistration(ada, c.State, response)
	require.NoError(t, err)
	assert.Equal(t, ada.ID, p.UserID)
	assert.Equal(t, a.CredentialID(), p.CredentialID)
	assert.NotEmpty(t, p.PublicKey)
	assert.Equal(t, []string{"internal"}, p.Transports)
	assert.True(t, p.BackupEligible)
	assert.True(t, p.BackedUp)
	user := ada
	user.Passkeys = []domain.Passkey{p}

	c, err = rp.BeginPasswordless()
	require.NoError(t, err)
	assert.Contains(t, string(c.Options), `"userVerification":"required"`)
	response, err = a.Get(c.Options)
	require.NoError(t, err)
	var asked domain.UserID
	got, err := rp.FinishSignIn(c.State, response, ownerIs(user, &asked))
	require.NoError(t, err)
	assert.Equal(t, ada.ID, asked, "the passkey's user handle named the user")
	assert.Equal(t, p.CredentialID, got.Passkey.CredentialID)
	assert.Equal(t, uint32(1), got.Passkey.SignCount, "the counter the authenticator reported")
	assert.True(t, got.UserVerified)
}

func TestPasswordlessRequiresUserVerification(t *testing.T) {
	t.Parallel()
	rp := newRelyingParty(t)
	a := webauthntest.New(origin)
	user := register(t, rp, a, ada)

	a.UserVerified = false
	c, err := rp.BeginPasswordless()
	require.NoError(t, err)
	response, err := a.Get(c.Options)
	require.NoError(t, err)
	var asked domain.UserID
	_, err = rp.FinishSignIn(c.State, response, ownerIs(user, &asked))
	require.ErrorIs(t, err, domain.ErrInvalidPasskey)
}

func TestSecondFactorAllowsTheUsersPasskeysWithoutVerification(t *testing.T) {
	t.Parallel()
	rp := newRelyingParty(t)
	a := webauthntest.New(origin)
	user := register(t, rp, a, ada)

	c, err := rp.BeginSignIn(user)
	require.NoError(t, err)
	var options struct {
		PublicKey struct {
			AllowCredentials []struct {
				ID string `json:"id"`
			} `json:"allowCredentials"`
			UserVerification string `json:"userVerification"`
		} `json:"publicKey"`
	}
	require.NoError(t, json.Unmarshal(c.Options, &options))
	require.Len(t, options.PublicKey.AllowCredentials, 1)
	assert.Equal(t, "preferred", options.PublicKey.UserVerification)

	a.UserVerified = false
	response, err := a.Get(c.Options)
	require.NoError(t, err)
	var asked domain.UserID
	got, err := rp.FinishSignIn(c.State, response, ownerIs(user, &asked))
	require.NoError(t, err)
	assert.Equal(t, ada.ID, asked)
	assert.False(t, got.UserVerified)

	other := domain.PasskeyUser{ID: "0190d6a4-8e2b-7c3d-9f00-00000000b0b0", Name: "bob@example.com"}
	other = register(t, rp, webauthntest.New(origin), other)
	c, err = rp.BeginSignIn(other)
	require.NoError(t, err)
	response, err = a.Get(c.Options)
	require.NoError(t, err)
	_, err = rp.FinishSignIn(c.State, response, ownerIs(other, &asked))
	require.ErrorIs(t, err, domain.ErrInvalidPasskey, "another user's passkey does not answer")
}

func TestRefusesWrongOriginRPIDAndChallenge(t *testing.T) {
	t.Parallel()
	rp := newRelyingParty(t)

	for name, a := range map[string]*webauthntest.Authenticator{
		"origin": webauthntest.New("https://evil.example.net"),
		"rp id":  {Origin: origin, RPID: "evil.example.net", UserVerified: true},
	} {
		c, err := rp.BeginRegistration(ada)
		require.NoError(t, err)
		response, err := a.Create(c.Options)
		require.NoError(t, err)
		_, err = rp.FinishRegistration(ada, c.State, response)
		require.ErrorIs(t, err, domain.ErrInvalidPasskey, "registration with the wrong %s", name)
	}

	a := webauthntest.New(origin)
	user := register(t, rp, a, ada)
	var asked domain.UserID
	for name, lie := range map[string]func(){
		"origin": func() { a.Origin = "https://evil.example.net" },
		"rp id":  func() { a.Origin, a.RPID = origin, "evil.example.net" },
	} {
		lie()
		c, err := rp.BeginPasswordless()
		require.NoError(t, err)
		response, err := a.Get(c.Options)
		require.NoError(t, err)
		_, err = rp.FinishSignIn(c.State, response, ownerIs(user, &asked))
		require.ErrorIs(t, err, domain.ErrInvalidPasskey, "sign-in with the wrong %s", name)
	}

	a.Origin, a.RPID = origin, "example.com"
	first, err := rp.BeginPasswordless()
	require.NoError(t, err)
	second, err := rp.BeginPasswordless()
	require.NoError(t, err)
	response, err := a.Get(first.Options)
	require.NoError(t, err)
	_, err = rp.FinishSignIn(second.State, response, ownerIs(user, &asked))
	require.ErrorIs(t, err, domain.ErrInvalidPasskey, "an answer to another ceremony's challenge")
	_, err = rp.FinishSignIn(first.State, response, ownerIs(user, &asked))
	require.NoError(t, err, "the answer to its own ceremony")
	_, err = rp.FinishSignIn(first.State, []byte(`{"id":"garbage"}`), ownerIs(user, &asked))
	require.ErrorIs(t, err, domain.ErrInvalidPasskey, "a response that does not parse")
}

func TestOwnerErrorsPassThrough(t *testing.T) {
	t.Parallel()
	rp := newRelyingParty(t)
	a := webauthntest.New(origin)
	register(t, rp, a, ada)
	c, err := rp.BeginPasswordless()
	require.NoError(t, err)
	response, err := a.Get(c.Options)
	require.NoError(t, err)
	down := errors.New("database down")
	_, err = rp.FinishSignIn(c.State, response, func(domain.UserID) (domain.PasskeyUser, error) { return domain.PasskeyUser{}, down })
	require.ErrorIs(t, err, down)
	assert.NotErrorIs(t, err, domain.ErrInvalidPasskey)
}

func TestReadSettings(t *testing.T) {
	t.Parallel()
	read := func(env map[string]string) (webauthn.Settings, error) {
		r := setting.NewReader(func(k string) string { return env[k] })
		s := webauthn.ReadSettings(r, "https://auth.example.com/base")
		return s, r.Err()
	}

	s, err := read(nil)
	require.NoError(t, err)
	assert.False(t, s.Enabled(), "no RP ID, no passkeys")

	s, err = read(map[string]string{"GATEHOUSE_WEBAUTHN_RP_ID": "Example.com"})
	require.NoError(t, err)
	assert.True(t, s.Enabled())
	assert.Equal(t, "example.com", s.RPID)
	assert.Equal(t, []string{"https://auth.example.com"}, s.Origins, "the public URL's origin by default")
	assert.Equal(t, "Gatehouse", s.RPName)

	s, err = read(map[string]string{
		"GATEHOUSE_WEBAUTHN_RP_ID": "example.com", "GATEHOUSE_WEBAUTHN_RP_NAME": "Example",
		"GATEHOUSE_WEBAUTHN_ORIGINS": "https://app.example.com, https://example.com",
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"https://app.example.com", "https://example.com"}, s.Origins)
	assert.Equal(t, "Example", s.RPName)

	s, err = read(map[string]string{"GATEHOUSE_WEBAUTHN_RP_ID": "localhost", "GATEHOUSE_WEBAUTHN_ORIGINS": "http://localhost:8080"})
	require.NoError(t, err, "plain http on localhost, as browsers allow")
	assert.Equal(t, []string{"http://localhost:8080"}, s.Origins)

	for name, env := range map[string]map[string]string{
		"GATEHOUSE_WEBAUTHN_RP_ID":   {"GATEHOUSE_WEBAUTHN_RP_ID": "https://example.com"},
		"GATEHOUSE_WEBAUTHN_ORIGINS": {"GATEHOUSE_WEBAUTHN_RP_ID": "example.com", "GATEHOUSE_WEBAUTHN_ORIGINS": "https://example.net"},
		"GATEHOUSE_WEBAUTHN_ORIGINS ": {
			"GATEHOUSE_WEBAUTHN_RP_ID": "example.com", "GATEHOUSE_WEBAUTHN_ORIGINS": "http://app.example.com",
		},
		"GATEHOUSE_PUBLIC_URL": {"GATEHOUSE_WEBAUTHN_RP_ID": "example.org"},
		"GATEHOUSE_WEBAUTHN_ORIGINS: needs GATEHOUSE_WEBAUTHN_RP_ID": {"GATEHOUSE_WEBAUTHN_ORIGINS": "https://example.com"},
	} {
		_, err := read(env)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), strings.TrimSpace(name))
	}
}
