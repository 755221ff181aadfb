package accesstoken

// CachedTokens returns how many tokens i remembers as verified.
func (i *Issuer) CachedTokens() int { return i.verified.len() }

// len returns the number of tokens c remembers.
func (c *verifiedCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.tokens)
}
