package accesstoken

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// verifiedCacheSize bounds the tokens Verify remembers, at about 300
// bytes each: about 1.2 MB when full. A client presents the same access
// token with every request of its lifetime, so the cache has to hold the
// tokens of the clients that call a replica often; a token that is not
// there costs a full ECDSA verification. When the cache is full, expired
// entries go first, then arbitrary ones. Its size shows in the process's
// peak memory under load, which is what settled it: docs/BENCHMARKS.md
// ("GET /v1/me", change 1) has the sizes tried and what they cost.
const verifiedCacheSize = 4096

// verifiedToken is what Verify learnt from a token whose signature,
// header and claims it checked: what it returns, and the key that signed
// it, which must still verify when the token is presented again.
type verifiedToken struct {
	claims domain.Claims
	kid    string
}

// verifiedCache remembers tokens that verified, keyed by the SHA-256 of
// their exact bytes, so that a token presented again costs a hash instead
// of an ECDSA verification, which costs far more CPU (docs/MICROBENCHMARKS.md
// compares the two). It holds successes only: a token that failed is
// checked in full every time. What depends on the time of the request
// (expiry, a key's retirement) is checked again on every hit. It is safe
// for concurrent use.
type verifiedCache struct {
	mu     sync.RWMutex
	tokens map[[sha256.Size]byte]verifiedToken
}

func newVerifiedCache() *verifiedCache {
	return &verifiedCache{tokens: make(map[[sha256.Size]byte]verifiedToken)}
}

// get returns what was learnt from the token with digest d.
func (c *verifiedCache) get(d [sha256.Size]byte) (verifiedToken, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.tokens[d]
	return v, ok
}

// put remembers v for the token with digest d, making room first when the
// cache is full: every entry expired at now goes, and if that frees less
// than an eighth of the cache, arbitrary entries (Go's map order) go too.
func (c *verifiedCache) put(d [sha256.Size]byte, v verifiedToken, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.tokens) >= verifiedCacheSize {
		for k, t := range c.tokens {
			if !now.Before(t.claims.ExpiresAt) {
				delete(c.tokens, k)
			}
		}
		for k := range c.tokens {
			if len(c.tokens) <= verifiedCacheSize-verifiedCacheSize/8 {
				break
			}
			delete(c.tokens, k)
		}
	}
	c.tokens[d] = v
}
