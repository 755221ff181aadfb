package domain

import (
	"context"
	"time"
)

// Claims are what an access token asserts about its bearer.
type Claims struct {
	ID            string // jti: unique per token
	Subject       UserID
	SessionID     SessionID
	Tier          Tier
	EmailVerified bool
	// Methods (amr) are how the session was authenticated, and AAL (aal)
	// the assurance level they reach (AssuranceOf). A token that predates
	// them verifies with no methods and AAL1.
	Methods   []AuthMethod
	AAL       AAL
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// AccessTokens issues and verifies signed access tokens.
type AccessTokens interface {
	// Issue signs c with the current signing key and returns the token.
	// Issuer, audience and key id are the implementation's to add.
	Issue(ctx context.Context, c Claims) (string, error)
	// Verify checks token's signature, algorithm, key, issuer, audience
	// and expiry at now, and returns its claims. It returns
	// ErrAccessTokenExpired for a token that is valid but expired, and
	// ErrInvalidAccessToken for anything else wrong with it.
	Verify(ctx context.Context, token string, now time.Time) (Claims, error)
}

// SigningKey is one asymmetric key pair that signs access tokens. The
// private half is stored only encrypted; which cipher is the signing
// adapter's business.
type SigningKey struct {
	ID                  string // the kid published in the JWKS and in token headers
	Algorithm           string // a JOSE algorithm name, such as ES256
	PublicKey           []byte // PKIX, ASN.1 DER
	EncryptedPrivateKey []byte
	CreatedAt           time.Time
}

// KeyStore keeps signing keys, so that every replica signs and verifies
// with the same set. Keys are never changed once stored.
// It is a standalone store: every method called inside a unit of work
// returns an error wrapping ErrInsideUnitOfWork (see Standalone).
type KeyStore interface {
	// Add stores k. A key ID that is already stored is an error.
	Add(ctx context.Context, k SigningKey) error
	// List returns every stored key, newest first.
	List(ctx context.Context) ([]SigningKey, error)
}
