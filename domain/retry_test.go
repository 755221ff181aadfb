package domain_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

func TestRetrySecretOpensOnlyUnderItsParent(t *testing.T) {
	parent, _ := domain.NewOpaqueToken()
	child, _ := domain.NewOpaqueToken()
	sealed := domain.SealRetry(parent, child)
	assert.False(t, bytes.Contains(sealed, []byte(child)), "the child is not stored in the clear")

	got, err := domain.OpenRetry(parent, sealed)
	require.NoError(t, err)
	assert.Equal(t, child, got)

	other, _ := domain.NewOpaqueToken()
	_, err = domain.OpenRetry(other, sealed)
	assert.Error(t, err, "another token opens nothing")
	_, err = domain.OpenRetry(child, sealed)
	assert.Error(t, err, "nor does the child itself")

	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	_, err = domain.OpenRetry(parent, tampered)
	assert.Error(t, err, "a changed byte is refused")
	_, err = domain.OpenRetry(parent, sealed[:5])
	assert.Error(t, err, "a truncated secret is refused")

	assert.NotEqual(t, sealed, domain.SealRetry(parent, child), "each seal has its own nonce")
}
