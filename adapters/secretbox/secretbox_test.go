package secretbox_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/secretbox"
)

var secret = []byte("a service secret of at least 32 characters")

func TestSealedSecretsOpenOnlyInTheirBox(t *testing.T) {
	box, err := secretbox.New(secret, "totp")
	require.NoError(t, err)
	plain := []byte("12345678901234567890")

	sealed, err := box.Seal(plain)
	require.NoError(t, err)
	assert.False(t, bytes.Contains(sealed, plain), "the plaintext does not show")
	again, err := box.Seal(plain)
	require.NoError(t, err)
	assert.NotEqual(t, sealed, again, "every seal has its own nonce")

	got, err := box.Open(sealed)
	require.NoError(t, err)
	assert.Equal(t, plain, got)

	otherPurpose, err := secretbox.New(secret, "webauthn")
	require.NoError(t, err)
	_, err = otherPurpose.Open(sealed)
	assert.Error(t, err, "another purpose's key")
	otherSecret, err := secretbox.New([]byte("another service secret, also 32 characters"), "totp")
	require.NoError(t, err)
	_, err = otherSecret.Open(sealed)
	assert.Error(t, err, "another service's key")

	for i := range sealed {
		tampered := bytes.Clone(sealed)
		tampered[i] ^= 1
		_, err := box.Open(tampered)
		assert.Error(t, err, "byte %d changed", i)
	}
	for _, short := range [][]byte{nil, sealed[:1], sealed[:13]} {
		_, err := box.Open(short)
		assert.Error(t, err)
	}
}

func TestNewNeedsASecretAndAPurpose(t *testing.T) {
	_, err := secretbox.New(nil, "totp")
	assert.Error(t, err)
	_, err = secretbox.New(secret, "")
	assert.Error(t, err)
}
