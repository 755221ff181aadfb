package accesstoken

import (
	"cmp"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

const (
	algorithm = "ES256"
	// keyInfo is the HKDF info of the key that encrypts private halves;
	// a new storage format gets a new info.
	keyInfo = "gatehouse signing key v1"
	// kidBytes is the randomness in a key ID.
	kidBytes = 16
)

var (
	b64        = base64.RawURLEncoding
	errNoKeys  = errors.New("accesstoken: no signing keys stored")
	errNotP256 = errors.New("not a P-256 key")
)

// key is one stored key as this process uses it for verification.
type key struct {
	id        string
	createdAt time.Time
	// retireAt is when the key leaves the JWKS and stops verifying; zero
	// for the newest key.
	retireAt time.Time
	public   *ecdsa.PublicKey
	jwk      jwk
}

// publishedAt reports whether k is in the JWKS, and so verifies, at now.
func (k *key) publishedAt(now time.Time) bool {
	return k.retireAt.IsZero() || now.Before(k.retireAt)
}

// signer is a key whose private half this process holds because it signs
// now or will sign later.
type signer struct {
	id       string
	activeAt time.Time // createdAt + the activation delay
	private  *ecdsa.PrivateKey
}

// keySet is one reading of the key store. It is never changed once
// published; a reload publishes a new one.
type keySet struct {
	keys []*key // newest first
	byID map[string]*key
	// signers are the keys that may sign while this set is in use,
	// newest first: every key newer than the one that signed when the set
	// was read, then that one. Their private halves are ready, so the
	// signer changes at the instant a key activates, without a reload.
	signers []*signer
	// checkedAt is when the store was last read (or tried), nextLoad when
	// it is due again.
	checkedAt time.Time
	nextLoad  time.Time
}

// signerAt returns the key that signs at now: the newest active key or,
// while none is active, the oldest (the last of signers).
func (s *keySet) signerAt(now time.Time) *signer {
	last := len(s.signers) - 1
	for _, k := range s.signers[:last] {
		if !now.Before(k.activeAt) {
			return k
		}
	}
	return s.signers[last]
}

// due reports whether the set should be read again at now. A clock that
// went backwards also makes it due, so the set cannot freeze.
func (s *keySet) due(now time.Time) bool {
	return !now.Before(s.nextLoad) || now.Before(s.checkedAt)
}

// current returns the key set, reading it again first when it is due.
// While another call is reloading it returns the set it has, so signing
// never queues behind the store.
func (i *Issuer) current(ctx context.Context) *keySet {
	set := i.set.Load()
	now := i.cfg.Clock.Now()
	if !set.due(now) || !i.reloading.TryLock() {
		return set
	}
	defer i.reloading.Unlock()
	if set = i.set.Load(); !set.due(now) {
		return set // another call has just reloaded
	}
	set, _ = i.reload(ctx, set, now) // a failure is logged; keep the old set
	return set
}

// lookup returns the key named kid. A kid never seen makes the set reload
// at once, because another process may have just rotated; such reloads are
// single-flight and happen at most once per unknownKeyReloadInterval. It
// returns ErrInvalidAccessToken for a kid that is not stored and an error
// without a sentinel when the store cannot be read.
func (i *Issuer) lookup(ctx context.Context, kid string) (*key, error) {
	if k, ok := i.current(ctx).byID[kid]; ok {
		return k, nil
	}
	i.reloading.Lock()
	defer i.reloading.Unlock()
	set := i.set.Load()
	if k, ok := set.byID[kid]; ok {
		return k, nil // a concurrent reload found it
	}
	now := i.cfg.Clock.Now()
	if since := now.Sub(i.lastUnknown); !set.due(now) && since >= 0 && since < unknownKeyReloadInterval {
		return nil, invalid("unknown key")
	}
	i.lastUnknown = now
	set, err := i.reload(ctx, set, now)
	if err != nil {
		return nil, err
	}
	if k, ok := set.byID[kid]; ok {
		return k, nil
	}
	return nil, invalid("unknown key")
}

// reload reads the store and publishes the new set. On failure it keeps
// old (nil only in New), logs, and tries again after a short pause, unless
// the failure is ctx's own. The caller holds i.reloading.
func (i *Issuer) reload(ctx context.Context, old *keySet, now time.Time) (*keySet, error) {
	set, err := i.load(ctx, now)
	if err != nil {
		if ctx.Err() == nil && old != nil {
			i.log.ErrorContext(ctx, "reload access-token signing keys; keeping the cached set", "err", err)
			stale := *old
			stale.checkedAt = now
			stale.nextLoad = now.Add(min(i.cfg.ReloadInterval, maxReloadRetry))
			i.set.Store(&stale)
		}
		return old, err
	}
	if newest := set.signers[0]; old != nil && old.keys[0].id != newest.id {
		i.log.InfoContext(ctx, "access-token signing key published", "kid", newest.id, "signs_from", newest.activeAt, "keys", len(set.keys))
	}
	i.set.Store(set)
	return set, nil
}

// load reads every stored key, works out how long each stays published,
// and decrypts the private halves of the key that signs at now and of
// every newer one. So a secret that cannot open the newest key fails here,
// long before that key would sign.
func (i *Issuer) load(ctx context.Context, now time.Time) (*keySet, error) {
	stored, err := i.cfg.Keys.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("accesstoken: list signing keys: %w", err)
	}
	if len(stored) == 0 {
		return nil, errNoKeys
	}
	// Sort here rather than trust the store, with the ID breaking ties, so
	// that every replica agrees on the signer and on the JWKS order.
	stored = slices.Clone(stored)
	slices.SortFunc(stored, func(a, b domain.SigningKey) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})

	set := &keySet{
		keys:      make([]*key, 0, len(stored)),
		byID:      make(map[string]*key, len(stored)),
		checkedAt: now,
		nextLoad:  now.Add(i.cfg.ReloadInterval),
	}
	delay, retention := i.activationDelay(), i.retention()
	for n, sk := range stored {
		if sk.Algorithm != algorithm {
			return nil, fmt.Errorf("accesstoken: key %s: unsupported algorithm %q", sk.ID, sk.Algorithm)
		}
		pub, err := parsePublic(sk.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("accesstoken: key %s: %w", sk.ID, err)
		}
		k := &key{id: sk.ID, createdAt: sk.CreatedAt, public: pub}
		if n > 0 {
			k.retireAt = stored[n-1].CreatedAt.Add(delay + retention)
		}
		if k.jwk, err = publicJWK(sk.ID, pub); err != nil {
			return nil, err
		}
		set.keys = append(set.keys, k)
		set.byID[k.id] = k
	}

	// Decrypt newest first down to the key that signs at now: the newest
	// active one, or the oldest when none is active.
	for n, sk := range stored {
		activeAt := sk.CreatedAt.Add(delay)
		priv, err := i.sealer.open(sk)
		if err != nil {
			return nil, err
		}
		if !priv.PublicKey.Equal(set.keys[n].public) {
			return nil, fmt.Errorf("accesstoken: key %s: private half does not match the public key", sk.ID)
		}
		set.signers = append(set.signers, &signer{id: sk.ID, activeAt: activeAt, private: priv})
		if !now.Before(activeAt) {
			break
		}
	}
	return set, nil
}

// activationDelay is how long after its creation a key starts to sign:
// by then every replica has published it (within ReloadInterval), every
// JWKS fetched before that has expired from its verifier's cache
// (JWKSMaxAge), and Leeway covers the difference between the clock that
// dated the key and the one that signs.
func (i *Issuer) activationDelay() time.Duration {
	return i.cfg.ReloadInterval + JWKSMaxAge + Leeway
}

// retention is how long a key stays published after its successor has
// activated. Every replica that has read the store since the successor
// was added stops signing with the key at that instant, and a token it
// signed just before expires at most TTL + Leeway later, the longest
// lifetime Issue allows. The extra ReloadInterval is margin: for a replica
// that could not read the store from before the rotation until up to that
// long past the activation, and for the difference between the clock of
// the replica that drops the key and the verifier's.
func (i *Issuer) retention() time.Duration {
	return i.cfg.ReloadInterval + i.cfg.TTL + Leeway
}

// addKey creates a key pair and stores it.
func (i *Issuer) addKey(ctx context.Context, now time.Time) (domain.SigningKey, error) {
	k, err := i.sealer.newKey(now)
	if err != nil {
		return domain.SigningKey{}, err
	}
	if err := i.cfg.Keys.Add(ctx, k); err != nil {
		return domain.SigningKey{}, fmt.Errorf("accesstoken: add signing key: %w", err)
	}
	return k, nil
}

// sealer encrypts and decrypts private halves with AES-256-GCM.
type sealer struct {
	key []byte // HKDF-SHA256(secret, nil, keyInfo), 32 bytes
}

func (s sealer) aead() (cipher.AEAD, error) {
	block, err := aes.NewCipher(s.key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// newKey returns a fresh P-256 key, its private half sealed.
func (s sealer) newKey(now time.Time) (domain.SigningKey, error) {
	id := make([]byte, kidBytes)
	rand.Read(id) // never fails, per its documentation
	kid := b64.EncodeToString(id)

	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return domain.SigningKey{}, fmt.Errorf("accesstoken: generate key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return domain.SigningKey{}, fmt.Errorf("accesstoken: encode public key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return domain.SigningKey{}, fmt.Errorf("accesstoken: encode private key: %w", err)
	}
	aead, err := s.aead()
	if err != nil {
		return domain.SigningKey{}, fmt.Errorf("accesstoken: cipher: %w", err)
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(der)+aead.Overhead())
	rand.Read(nonce)
	return domain.SigningKey{
		ID:                  kid,
		Algorithm:           algorithm,
		PublicKey:           pub,
		EncryptedPrivateKey: aead.Seal(nonce, nonce, der, []byte(kid)),
		CreatedAt:           now,
	}, nil
}

// open decrypts k's private half. It returns ErrWrongSecret when the
// ciphertext does not authenticate under this secret and k's ID.
func (s sealer) open(k domain.SigningKey) (*ecdsa.PrivateKey, error) {
	aead, err := s.aead()
	if err != nil {
		return nil, fmt.Errorf("accesstoken: cipher: %w", err)
	}
	sealed := k.EncryptedPrivateKey
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("%w: key %s: ciphertext too short", ErrWrongSecret, k.ID)
	}
	ns := aead.NonceSize()
	der, err := aead.Open(nil, sealed[:ns], sealed[ns:], []byte(k.ID))
	if err != nil {
		return nil, fmt.Errorf("%w: key %s does not decrypt", ErrWrongSecret, k.ID)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("accesstoken: key %s: parse private key: %w", k.ID, err)
	}
	priv, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("accesstoken: key %s: private key: %w", k.ID, errNotP256)
	}
	return priv, nil
}

// parsePublic parses a PKIX P-256 public key.
func parsePublic(der []byte) (*ecdsa.PublicKey, error) {
	parsed, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	pub, ok := parsed.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("public key: %w", errNotP256)
	}
	return pub, nil
}
