package accesstoken

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// digestOf returns a distinct digest for each n.
func digestOf(n int) [sha256.Size]byte {
	var d [sha256.Size]byte
	binary.BigEndian.PutUint64(d[:], uint64(n))
	return d
}

func expiringAt(t time.Time) verifiedToken {
	return verifiedToken{claims: domain.Claims{ExpiresAt: t}, kid: "k"}
}

func TestVerifiedCacheDropsExpiredEntriesFirst(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	c := newVerifiedCache()
	for n := range verifiedCacheSize {
		exp := now.Add(time.Minute)
		if n%2 == 0 {
			exp = now // expired at now
		}
		c.put(digestOf(n), expiringAt(exp), now.Add(-time.Hour))
	}
	require.Equal(t, verifiedCacheSize, c.len())

	c.put(digestOf(verifiedCacheSize), expiringAt(now.Add(time.Minute)), now)
	require.Equal(t, verifiedCacheSize/2+1, c.len(), "every expired entry went, and nothing else")
	for n := 1; n < verifiedCacheSize; n += 2 {
		_, ok := c.get(digestOf(n))
		require.True(t, ok, "live entry %d kept", n)
	}
}

func TestVerifiedCacheStaysBounded(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	c := newVerifiedCache()
	for n := range 3 * verifiedCacheSize {
		c.put(digestOf(n), expiringAt(now.Add(time.Hour)), now)
		require.LessOrEqual(t, c.len(), verifiedCacheSize)
	}
	last, ok := c.get(digestOf(3*verifiedCacheSize - 1))
	require.True(t, ok, "the newest entry is always kept")
	require.Equal(t, now.Add(time.Hour), last.claims.ExpiresAt)
}
