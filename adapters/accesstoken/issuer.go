// Package accesstoken issues and verifies Gatehouse's access tokens: ES256
// JWTs whose signing keys live in the database, so that every replica signs
// and verifies with the same set. It is Gatehouse's domain.AccessTokens and
// serves the JWKS.
//
// # Tokens
//
// A token's header is {"alg":"ES256","kid":…,"typ":"at+jwt"} (RFC 9068) and
// nothing else; its claims are iss, aud (a single string), sub, sid, tier,
// email_verified, iat, exp and jti, with times as JSON integers of seconds
// (a string or a fraction is refused). Verify pins the algorithm to ES256
// and the key to the stored key named by kid; it refuses any other header
// parameter (jwk, jku, x5u, x5c, crit and the rest), so a token can never
// bring its own key.
//
// Expiry has no leeway: a token is expired from the second of its exp on.
// An iat up to [Leeway] in the future is accepted, because the replica that
// verifies a token may run a little behind the one that issued it.
//
// # Keys
//
// Each key is a P-256 pair stored through domain.KeyStore with:
//
//   - ID: 16 random bytes, base64url without padding (22 characters);
//   - Algorithm: "ES256";
//   - PublicKey: the PKIX (SubjectPublicKeyInfo) DER encoding;
//   - EncryptedPrivateKey: nonce || AES-256-GCM(PKCS #8 DER), where the nonce
//     is 12 random bytes, the additional data is the key ID (so a ciphertext
//     cannot be moved to another key's row) and the AES key is
//     HKDF-SHA256(secret, salt = none, info = "gatehouse signing key v1").
//
// A secret that cannot open the newest stored key stops [New] with
// [ErrWrongSecret]. Keys are never changed or deleted.
//
// # Rotation and replicas
//
// A key is published before it signs, so that no verifier meets a token
// whose key is missing from the JWKS it holds. Every Issuer caches the key
// set and reads it again when it is older than Config.ReloadInterval, and
// at once (single-flight, at most once a second) when Verify meets a key ID
// it has never seen. A stored key is in an Issuer's JWKS, and verifies
// there, from the moment that Issuer has read it: at once on the Issuer
// that added it, within ReloadInterval on every other.
//
// A key is active from CreatedAt + ReloadInterval + [JWKSMaxAge] + [Leeway]
// (the activation delay, 95 seconds by default): by then every replica has
// published it, every JWKS fetched before that has left its verifier's
// cache, and Leeway covers the clocks' difference. The newest active key
// signs. While no key is active, which happens only during the activation
// delay after a new database's first key is made, the oldest key signs:
// the first key signs at once, as no JWKS was served before it existed.
// The signer changes at the instant a key activates, on every replica that
// has read the key, without another read of the store; this relies on
// every replica having the same ReloadInterval.
//
// So [Issuer.Rotate] adds a key that every replica publishes within
// ReloadInterval and that signs everywhere from its CreatedAt + the
// activation delay, without a restart.
//
// An older key stays published, and verifies, until its successor's
// CreatedAt + activation delay + ReloadInterval + TTL + Leeway (17m10s
// with the defaults and a 15-minute TTL): every replica stops signing with it when the
// successor activates, and a token signed just before lives at most TTL +
// Leeway (the most Issue allows). The ReloadInterval is margin, for a
// replica that could not read the store around the rotation and for the
// clocks of the replica and of a verifier. After that every token the key
// signed has expired, and the key leaves the JWKS and is no longer
// accepted.
package accesstoken

import (
	"context"
	"crypto/ecdsa"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Leeway is the clock difference tolerated between replicas: how far in the
// future a token's iat may be, how much longer a new key waits before it
// signs and how much longer a retired key stays published. Expiry itself
// has no leeway.
const Leeway = 5 * time.Second

// JWKSMaxAge is the longest a verifier may cache the JWKS: a new key is
// published at least this long before it signs. The endpoint that serves
// the JWKS announces it as its max-age, from [Issuer.MaxAge], so that the
// two cannot drift apart.
const JWKSMaxAge = 60 * time.Second

// MinSecretLength is the length in bytes of the shortest secret New accepts.
const MinSecretLength = 32

// DefaultReloadInterval is the ReloadInterval of a Config that leaves it zero.
const DefaultReloadInterval = 30 * time.Second

const (
	tokenType = "at+jwt"
	// maxTokenLength bounds the work an oversized bearer token can cause;
	// Gatehouse's own tokens are about 450 bytes.
	maxTokenLength = 8 << 10
	// unknownKeyReloadInterval is how often, at most, a token with a key ID
	// never seen reads the key set again; forged key IDs cost the store no
	// more than this.
	unknownKeyReloadInterval = time.Second
	// maxReloadRetry is how soon a failed reload is tried again.
	maxReloadRetry = 5 * time.Second
)

// ErrWrongSecret means the configured secret cannot decrypt the stored
// signing keys: it is not the secret they were created with, or a key's row
// was corrupted.
var ErrWrongSecret = errors.New("accesstoken: the secret does not match the stored signing keys")

// Config configures an Issuer.
type Config struct {
	// Issuer is the iss claim of every token: GATEHOUSE_PUBLIC_URL.
	Issuer string
	// Audience is the aud claim of every token.
	Audience string
	// TTL is the access-token lifetime. Issue refuses a token that would
	// outlive it, and it decides how long a retired key stays published.
	TTL time.Duration
	// Secret is GATEHOUSE_SECRET, at least MinSecretLength bytes: the key
	// that encrypts the private halves is derived from it.
	Secret []byte
	// Keys stores the signing keys every replica shares.
	Keys domain.KeyStore
	// Clock tells the time for key creation, reloads and the JWKS.
	Clock domain.Clock
	// Logger receives reloads and their failures; nil discards them.
	Logger *slog.Logger
	// ReloadInterval is how often the key set is read again from Keys:
	// the longest a key added by another process waits before it is
	// published here. It is part of the activation delay and of the
	// retention of retired keys, so every replica must use the same.
	// Zero means DefaultReloadInterval.
	ReloadInterval time.Duration
}

// Issuer signs and verifies access tokens with the keys in a
// domain.KeyStore and publishes their public halves. It implements
// domain.AccessTokens. Its methods are safe for concurrent use.
type Issuer struct {
	cfg    Config
	log    *slog.Logger
	sealer sealer
	parser *jwt.Parser
	// verified remembers the tokens that verified.
	verified *verifiedCache

	set atomic.Pointer[keySet]
	// signing is the key Issue last signed with, to log when it changes.
	signing atomic.Pointer[signer]
	// reloading makes reloads single-flight and guards lastUnknown.
	reloading sync.Mutex
	// lastUnknown is when a key ID never seen last made the set reload.
	lastUnknown time.Time
}

var _ domain.AccessTokens = (*Issuer)(nil)

// New returns an Issuer over cfg.Keys. It loads the stored keys and, when
// there are none, creates the first one. It returns ErrWrongSecret when
// cfg.Secret cannot decrypt a key that signs now or will sign later (which
// includes the newest), and an error for a configuration it cannot work
// with or a store that fails.
func New(ctx context.Context, cfg Config) (*Issuer, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("accesstoken: issuer is empty")
	case cfg.Audience == "":
		return nil, errors.New("accesstoken: audience is empty")
	case cfg.TTL <= 0:
		return nil, errors.New("accesstoken: token lifetime must be positive")
	case len(cfg.Secret) < MinSecretLength:
		return nil, fmt.Errorf("accesstoken: secret must be at least %d bytes", MinSecretLength)
	case cfg.Keys == nil:
		return nil, errors.New("accesstoken: no key store")
	case cfg.Clock == nil:
		return nil, errors.New("accesstoken: no clock")
	case cfg.ReloadInterval < 0:
		return nil, errors.New("accesstoken: reload interval must not be negative")
	}
	if cfg.ReloadInterval == 0 {
		cfg.ReloadInterval = DefaultReloadInterval
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	aesKey, err := hkdf.Key(sha256.New, cfg.Secret, nil, keyInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("accesstoken: derive key: %w", err)
	}
	i := &Issuer{
		cfg:      cfg,
		log:      log,
		sealer:   sealer{key: aesKey},
		verified: newVerifiedCache(),
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
			jwt.WithStrictDecoding(),
			// Claims are checked by Verify against its now argument.
			jwt.WithoutClaimsValidation(),
		),
	}

	now := cfg.Clock.Now()
	set, err := i.load(ctx, now)
	if errors.Is(err, errNoKeys) {
		// Another replica starting at the same moment may add its own
		// first key too; both then verify, the older signs, and the
		// newer takes over when it activates.
		var k domain.SigningKey
		if k, err = i.addKey(ctx, now); err != nil {
			return nil, err
		}
		log.InfoContext(ctx, "created the first access-token signing key", "kid", k.ID)
		set, err = i.load(ctx, now)
	}
	if err != nil {
		return nil, err
	}
	i.set.Store(set)
	i.signing.Store(set.signerAt(now))
	return i, nil
}

// Rotate adds a new signing key and returns its ID. This Issuer publishes
// it at once and every other within ReloadInterval; all of them go on
// signing with the current key until the new one activates, the activation
// delay after its creation (see the package doc). When the key is stored
// but the set cannot be read back, Rotate returns the key's ID with the
// error.
func (i *Issuer) Rotate(ctx context.Context) (string, error) {
	i.reloading.Lock()
	defer i.reloading.Unlock()
	now := i.cfg.Clock.Now()
	set, err := i.reload(ctx, i.set.Load(), now)
	if err != nil {
		return "", err
	}
	// The new key must sort newest, or it would never sign: on a host whose
	// clock is behind the one that made the newest key, date it just after
	// (its activation moves by as much).
	created := now
	if newest := set.keys[0].createdAt; !created.After(newest) {
		created = newest.Add(time.Millisecond)
	}
	k, err := i.addKey(ctx, created)
	if err != nil {
		return "", err
	}
	i.log.InfoContext(ctx, "added an access-token signing key", "kid", k.ID)
	if _, err := i.reload(ctx, set, now); err != nil {
		return k.ID, err
	}
	return k.ID, nil
}

// JWKS returns the JSON Web Key Set of every key that may still verify a
// live token, newest first, with public parameters only: the document
// served at /.well-known/jwks.json, to be cached for at most JWKSMaxAge.
// It includes keys that do not sign yet, which is what lets verifiers
// know them before they do.
func (i *Issuer) JWKS(ctx context.Context) ([]byte, error) {
	set := i.current(ctx)
	now := i.cfg.Clock.Now()
	doc := jwks{Keys: make([]jwk, 0, len(set.keys))}
	for _, k := range set.keys {
		if k.publishedAt(now) {
			doc.Keys = append(doc.Keys, k.jwk)
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("accesstoken: encode jwks: %w", err)
	}
	return b, nil
}

// MaxAge returns how long a verifier may cache what JWKS returns:
// JWKSMaxAge. The endpoint serving the JWKS must announce no more, because
// a new key is published only that long, plus the reload interval and
// Leeway, before it signs.
func (i *Issuer) MaxAge() time.Duration { return JWKSMaxAge }

// jwks is a JSON Web Key Set (RFC 7517, section 5).
type jwks struct {
	Keys []jwk `json:"keys"`
}

// jwk is the public half of one P-256 key (RFC 7517, RFC 7518 section 6.2.1).
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

// publicJWK returns the JWK of pub, a P-256 key.
func publicJWK(kid string, pub *ecdsa.PublicKey) (jwk, error) {
	point, err := pub.Bytes() // 0x04 || X || Y, 32 bytes each
	if err != nil || len(point) != 65 {
		return jwk{}, fmt.Errorf("accesstoken: key %s: encode public key: %w", kid, errNotP256)
	}
	return jwk{
		Kty: "EC",
		Crv: "P-256",
		X:   b64.EncodeToString(point[1:33]),
		Y:   b64.EncodeToString(point[33:]),
		Kid: kid,
		Use: "sig",
		Alg: algorithm,
	}, nil
}
