package app_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// owner is the client the account's owner signs in from: its own address,
// apart from those lockAccount guesses from.
var owner = app.Client{IP: "192.0.2.50", UserAgent: "owner/1.0"}

func TestADeviceTokenLetsTheOwnerPastTheAccountLimit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg := e.register(t, "ada@example.com")
	require.NotEmpty(t, reg.Device, "a sign-in hands the client a device token")
	bob := e.register(t, "bob@example.com")
	e.lockAccount(t, "ada@example.com")

	_, err := e.Auth.Login(ctx, "ada@example.com", "correct horse battery staple", owner)
	requireRateLimited(t, err)
	for name, device := range map[string]string{
		"another account's": bob.Device,
		"forged":            reg.Device[:len(reg.Device)-2] + "AA",
		"garbage":           "not a device token",
	} {
		_, err := e.Auth.Login(ctx, "ada@example.com", "correct horse battery staple", app.Client{IP: owner.IP, Device: device})
		var limited *domain.RateLimitedError
		assert.ErrorAs(t, err, &limited, "%s device token lets nobody past", name)
	}

	got, err := e.Auth.Login(ctx, "ada@example.com", "correct horse battery staple", app.Client{IP: owner.IP, Device: reg.Device})
	require.NoError(t, err, "the owner's device is not counted on the account")
	assert.NotEmpty(t, got.Device)
	assert.NotEqual(t, reg.Device, got.Device, "each sign-in hands out a new token")
}

func TestADeviceKeepsItsOwnLimits(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg := e.register(t, "ada@example.com")
	e.lockAccount(t, "ada@example.com")

	// A device token does not lift the limit of the client it is used
	// from: lockAccount spent client's.
	_, err := e.Auth.Login(ctx, "ada@example.com", "correct horse battery staple", app.Client{IP: client.IP, Device: reg.Device})
	requireRateLimited(t, err)

	// Nor is a device, stolen and tried from many addresses, let guess
	// more than a client would.
	for i := range 9 { // the try from client counted too
		from := app.Client{IP: fmt.Sprintf("192.0.2.%d", 100+i), Device: reg.Device}
		_, err := e.Auth.Login(ctx, "ada@example.com", "wrong", from)
		require.ErrorIs(t, err, domain.ErrInvalidCredentials, "attempt %d", i+1)
	}
	_, err = e.Auth.Login(ctx, "ada@example.com", "correct horse battery staple", app.Client{IP: owner.IP, Device: reg.Device})
	requireRateLimited(t, err)
}

func TestOnlyAProvenSignInHandsOutADeviceToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	anon, err := e.Auth.Anonymous(ctx, client)
	require.NoError(t, err)
	assert.Empty(t, anon.Device, "an anonymous user proved nothing")
	refreshed, err := e.Auth.Refresh(ctx, e.register(t, "ada@example.com").RefreshToken)
	require.NoError(t, err)
	assert.Empty(t, refreshed.Device, "a refresh is no sign-in")

	_, key, _ := e.enrolled(t, "mfa@example.com")
	mfa := e.challenged(t, "mfa@example.com")
	done, err := e.Auth.FinishSignIn(ctx, app.FinishSignInInput{Challenge: mfa.Challenge, Code: e.code(t, key), Client: client})
	require.NoError(t, err)
	assert.NotEmpty(t, done.Device, "the second factor completes the sign-in")
}
