package domain_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gatehouse-auth/gatehouse/domain"
)

func TestTokenKindTTL(t *testing.T) {
	assert.Equal(t, 24*time.Hour, domain.TokenEmailVerification.TTL())
	assert.Equal(t, time.Hour, domain.TokenPasswordReset.TTL())
	assert.Zero(t, domain.TokenKind{}.TTL(), "an invalid kind has no lifetime")
}
