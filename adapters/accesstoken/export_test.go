package accesstoken

// CachedTokens returns how many tokens i remembers as verified.
func (i *Issuer) CachedTokens() int { return i.verified.len() }
