package accesstoken_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/accesstoken"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/fake"
)

func TestIssueVerifyRoundTrip(t *testing.T) {
	e := newEnv()
	iss := e.replica(t)
	kid := e.keys.stored()[0].ID

	for _, c := range []domain.Claims{
		{
			ID: "jti-1", Subject: "user-1", SessionID: "session-1", Tier: domain.TierMember,
			EmailVerified: true, Methods: []domain.AuthMethod{domain.AuthPassword, domain.AuthOTP}, AAL: domain.AAL2,
			IssuedAt: t0, ExpiresAt: t0.Add(testTTL),
		},
		{
			ID: "jti-2", Subject: "user-2", SessionID: "session-2", Tier: domain.TierAnonymous,
			EmailVerified: false, AAL: domain.AAL1, IssuedAt: t0, ExpiresAt: t0.Add(time.Minute),
		},
	} {
		tok, err := iss.Issue(t.Context(), c)
		require.NoError(t, err)

		got, err := iss.Verify(t.Context(), tok, t0)
		require.NoError(t, err)
		require.Equal(t, c, got)

		require.Equal(t, map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": kid}, header(t, tok))
		require.Equal(t, map[string]any{
			"iss":            testIssuer,
			"aud":            testAudience, // a single string, not an array
			"sub":            string(c.Subject),
			"sid":            string(c.SessionID),
			"tier":           c.Tier.String(),
			"email_verified": c.EmailVerified,
			"amr":            amrOf(c.Methods),
			"aal":            string(c.AAL),
			"iat":            float64(c.IssuedAt.Unix()),
			"exp":            float64(c.ExpiresAt.Unix()),
			"jti":            c.ID,
		}, payload(t, tok))
	}
}

// amrOf is methods as the amr claim decodes into a map: an array of their
// names, empty for none.
func amrOf(methods []domain.AuthMethod) []any {
	amr := []any{}
	for _, m := range methods {
		amr = append(amr, m.String())
	}
	return amr
}

func TestVerifyReadsTheAssuranceClaims(t *testing.T) {
	e := newEnv()
	iss := e.replica(t)
	kid := e.keys.stored()[0].ID
	sign := func(claims map[string]any) string {
		return forge(t, map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": kid}, claims, jwt.SigningMethodES256, e.privateKey(t, kid))
	}

	claims := validClaims(t0)
	claims["amr"], claims["aal"] = []string{"pwd", "webauthn-of-the-future", "otp"}, "aal2"
	got, err := iss.Verify(t.Context(), sign(claims), t0)
	require.NoError(t, err)
	assert.Equal(t, []domain.AuthMethod{domain.AuthPassword, domain.AuthOTP}, got.Methods, "a method this version does not know is left out")
	assert.Equal(t, domain.AAL2, got.AAL)

	for _, bad := range []any{"aal3", "AAL2", 2, []string{"aal2"}} {
		claims["aal"] = bad
		_, err := iss.Verify(t.Context(), sign(claims), t0)
		assert.ErrorIs(t, err, domain.ErrInvalidAccessToken, "aal %v", bad)
	}
}

func TestIssueTruncatesTimesToSeconds(t *testing.T) {
	e := newEnv()
	e.clock.Set(t0.Add(700 * time.Millisecond))
	iss := e.replica(t)

	tok := e.issue(t, iss)

	require.Equal(t, float64(t0.Unix()), payload(t, tok)["iat"])
	got, err := iss.Verify(t.Context(), tok, e.clock.Now())
	require.NoError(t, err)
	require.Equal(t, t0, got.IssuedAt)
	require.Equal(t, t0.Add(testTTL), got.ExpiresAt)
}

func TestIssueRejectsClaims(t *testing.T) {
	e := newEnv()
	iss := e.replica(t)
	for name, change := range map[string]func(*domain.Claims){
		"no id":                   func(c *domain.Claims) { c.ID = "" },
		"no subject":              func(c *domain.Claims) { c.Subject = "" },
		"no session":              func(c *domain.Claims) { c.SessionID = "" },
		"zero tier":               func(c *domain.Claims) { c.Tier = domain.Tier{} },
		"no issue time":           func(c *domain.Claims) { c.IssuedAt = time.Time{} },
		"expires when issued":     func(c *domain.Claims) { c.ExpiresAt = c.IssuedAt },
		"outlives the ttl":        func(c *domain.Claims) { c.ExpiresAt = c.IssuedAt.Add(testTTL + accesstoken.Leeway + time.Second) },
		"issued late, long-lived": func(c *domain.Claims) { c.IssuedAt = t0.Add(time.Hour); c.ExpiresAt = c.IssuedAt.Add(testTTL) },
	} {
		t.Run(name, func(t *testing.T) {
			c := e.claims()
			change(&c)
			tok, err := iss.Issue(t.Context(), c)
			require.Error(t, err)
			require.Empty(t, tok)
		})
	}
}

func TestNewRejectsConfig(t *testing.T) {
	e := newEnv()
	for name, change := range map[string]func(*accesstoken.Config){
		"no issuer":       func(c *accesstoken.Config) { c.Issuer = "" },
		"no audience":     func(c *accesstoken.Config) { c.Audience = "" },
		"zero ttl":        func(c *accesstoken.Config) { c.TTL = 0 },
		"short secret":    func(c *accesstoken.Config) { c.Secret = testSecret[:accesstoken.MinSecretLength-1] },
		"no secret":       func(c *accesstoken.Config) { c.Secret = nil },
		"no key store":    func(c *accesstoken.Config) { c.Keys = nil },
		"no clock":        func(c *accesstoken.Config) { c.Clock = nil },
		"negative reload": func(c *accesstoken.Config) { c.ReloadInterval = -time.Second },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := e.config()
			change(&cfg)
			iss, err := accesstoken.New(t.Context(), cfg)
			require.Error(t, err)
			require.Nil(t, iss)
		})
	}
	require.Empty(t, e.keys.stored(), "a rejected config must not create a key")
}

func TestNewCreatesTheFirstKeyOnce(t *testing.T) {
	e := newEnv()
	e.replica(t)
	e.clock.Advance(time.Minute)
	e.replica(t)

	stored := e.keys.stored()
	require.Len(t, stored, 1)
	k := stored[0]
	require.Equal(t, "ES256", k.Algorithm)
	require.Equal(t, t0, k.CreatedAt)

	// kid: 16 random bytes, base64url without padding.
	raw, err := base64.RawURLEncoding.DecodeString(k.ID)
	require.NoError(t, err)
	require.Len(t, raw, 16)
	require.LessOrEqual(t, len(k.ID), 64)

	// PublicKey: PKIX DER of a P-256 key.
	parsed, err := x509.ParsePKIXPublicKey(k.PublicKey)
	require.NoError(t, err)
	pub, ok := parsed.(*ecdsa.PublicKey)
	require.True(t, ok)
	require.Equal(t, elliptic.P256(), pub.Curve)

	// EncryptedPrivateKey: the documented format opens to the matching
	// private half, and is nonce (12) || ciphertext || tag (16).
	priv := openDocumented(t, testSecret, k)
	require.True(t, priv.PublicKey.Equal(pub))
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(t, err)
	require.Len(t, k.EncryptedPrivateKey, 12+len(der)+16)
	require.False(t, bytes.Contains(k.EncryptedPrivateKey, der), "the private key must not be stored in the clear")
}

func TestNewFailsWithTheWrongSecret(t *testing.T) {
	other := []byte("another secret of thirty-two byt")
	for name, setup := range map[string]func(t *testing.T, e *env){
		"one key": func(t *testing.T, e *env) { e.replica(t) },
		// The older key signs; the newer one, which this secret cannot
		// open either, must be caught now rather than when it activates.
		"a newer key not active yet": func(t *testing.T, e *env) {
			iss := e.replica(t)
			e.clock.Advance(testActivation + time.Minute)
			_, err := iss.Rotate(t.Context())
			require.NoError(t, err)
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv()
			setup(t, e)
			stored := e.keys.stored()

			cfg := e.config()
			cfg.Secret = other
			iss, err := accesstoken.New(t.Context(), cfg)

			require.ErrorIs(t, err, accesstoken.ErrWrongSecret)
			require.Nil(t, iss)
			require.Contains(t, err.Error(), "secret does not match the stored signing keys")
			require.Contains(t, err.Error(), stored[len(stored)-1].ID, "the newest key is the one checked first")
			require.NotContains(t, err.Error(), string(other))
			require.NotContains(t, err.Error(), string(testSecret))
			require.Len(t, e.keys.stored(), len(stored), "a wrong secret must not add a key")
		})
	}
}

func TestNewRefusesTamperedKeys(t *testing.T) {
	e := newEnv()
	iss := e.replica(t)
	e.clock.Advance(time.Second)
	_, err := iss.Rotate(t.Context())
	require.NoError(t, err)
	stored := e.keys.stored() // oldest first
	older, newer := stored[0], stored[1]

	t.Run("ciphertext moved to another key", func(t *testing.T) {
		moved := newer
		moved.EncryptedPrivateKey = older.EncryptedPrivateKey
		_, err := accesstoken.New(t.Context(), withKeys(e, older, moved))
		require.ErrorIs(t, err, accesstoken.ErrWrongSecret)
	})
	t.Run("private half of another key", func(t *testing.T) {
		swapped := newer
		swapped.EncryptedPrivateKey = sealDocumented(t, testSecret, newer.ID, e.privateKey(t, older.ID))
		_, err := accesstoken.New(t.Context(), withKeys(e, older, swapped))
		require.ErrorContains(t, err, "does not match the public key")
		require.NotErrorIs(t, err, accesstoken.ErrWrongSecret)
	})
	t.Run("truncated ciphertext", func(t *testing.T) {
		cut := newer
		cut.EncryptedPrivateKey = newer.EncryptedPrivateKey[:20]
		_, err := accesstoken.New(t.Context(), withKeys(e, older, cut))
		require.ErrorIs(t, err, accesstoken.ErrWrongSecret)
	})
	t.Run("untouched", func(t *testing.T) {
		_, err := accesstoken.New(t.Context(), withKeys(e, older, newer))
		require.NoError(t, err)
	})
	// Until the newer key activates the older one signs, so it must open.
	t.Run("the signing key's ciphertext truncated", func(t *testing.T) {
		cut := older
		cut.EncryptedPrivateKey = older.EncryptedPrivateKey[:20]
		_, err := accesstoken.New(t.Context(), withKeys(e, cut, newer))
		require.ErrorIs(t, err, accesstoken.ErrWrongSecret)
	})
	// Once the newer key signs, the older one's private half is never
	// needed again; its public half goes on verifying.
	t.Run("a superseded key's ciphertext truncated", func(t *testing.T) {
		cut := older
		cut.EncryptedPrivateKey = older.EncryptedPrivateKey[:20]
		cfg := withKeys(e, cut, newer)
		now := newer.CreatedAt.Add(testActivation)
		cfg.Clock = fake.NewClock(now)
		iss, err := accesstoken.New(t.Context(), cfg)
		require.NoError(t, err)
		tok := forge(t, validHeader(older.ID), validClaims(now), jwt.SigningMethodES256, e.privateKey(t, older.ID))
		_, err = iss.Verify(t.Context(), tok, now)
		require.NoError(t, err)
	})
}

// withKeys returns e's config over a new store holding keys.
func withKeys(e *env, keys ...domain.SigningKey) accesstoken.Config {
	cfg := e.config()
	cfg.Keys = &fakeKeys{keys: keys}
	return cfg
}

// sealDocumented encrypts priv for kid in the documented format.
func sealDocumented(t testing.TB, secret []byte, kid string, priv *ecdsa.PrivateKey) []byte {
	t.Helper()
	aesKey, err := hkdf.Key(sha256.New, secret, nil, "gatehouse signing key v1", 32)
	require.NoError(t, err)
	block, err := aes.NewCipher(aesKey)
	require.NoError(t, err)
	gcm, err := cipher.NewGCM(block)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(t, err)
	nonce := make([]byte, gcm.NonceSize())
	rand.Read(nonce)
	return gcm.Seal(nonce, nonce, der, []byte(kid))
}

func TestVerifyExpiry(t *testing.T) {
	e := newEnv()
	iss := e.replica(t)
	tok := e.issue(t, iss)
	exp := t0.Add(testTTL)

	_, err := iss.Verify(t.Context(), tok, exp.Add(-time.Nanosecond))
	require.NoError(t, err, "valid until the instant of exp")

	for _, now := range []time.Time{exp, exp.Add(time.Second), exp.Add(24 * time.Hour)} {
		_, err = iss.Verify(t.Context(), tok, now)
		require.ErrorIs(t, err, domain.ErrAccessTokenExpired, "at %s", now)
		require.NotErrorIs(t, err, domain.ErrInvalidAccessToken)
		requireNotQuoted(t, err, tok)
	}
	require.Equal(t, t0, e.clock.Now(), "Verify must use its now argument, not the clock")
}

func TestVerifyReportsInvalidBeforeExpired(t *testing.T) {
	e := newEnv()
	iss := e.replica(t)
	kid := e.keys.stored()[0].ID
	priv := e.privateKey(t, kid)
	after := t0.Add(testTTL + time.Hour)

	wrongAudience := forge(t, validHeader(kid), with(validClaims(t0), map[string]any{"aud": "other"}), jwt.SigningMethodES256, priv)
	_, err := iss.Verify(t.Context(), wrongAudience, after)
	requireInvalid(t, err, wrongAudience)

	tok := e.issue(t, iss)
	tampered := tok[:len(tok)-4] + flip(tok[len(tok)-4:])
	_, err = iss.Verify(t.Context(), tampered, after)
	requireInvalid(t, err, tampered)
}

func TestVerifyIssuedAtLeeway(t *testing.T) {
	e := newEnv()
	iss := e.replica(t)
	kid := e.keys.stored()[0].ID
	priv := e.privateKey(t, kid)

	ahead := forge(t, validHeader(kid), with(validClaims(t0), map[string]any{"iat": t0.Add(accesstoken.Leeway).Unix()}), jwt.SigningMethodES256, priv)
	_, err := iss.Verify(t.Context(), ahead, t0)
	require.NoError(t, err, "a replica a few seconds ahead")

	tooFar := forge(t, validHeader(kid), with(validClaims(t0), map[string]any{"iat": t0.Add(accesstoken.Leeway + time.Second).Unix()}), jwt.SigningMethodES256, priv)
	_, err = iss.Verify(t.Context(), tooFar, t0)
	requireInvalid(t, err, tooFar)
}

func TestReplicasShareKeys(t *testing.T) {
	e := newEnv()
	a := e.replica(t)
	b := e.replica(t)

	for _, pair := range [][2]*accesstoken.Issuer{{a, b}, {b, a}} {
		tok := e.issue(t, pair[0])
		got, err := pair[1].Verify(t.Context(), tok, t0)
		require.NoError(t, err)
		require.Equal(t, domain.UserID("user-1"), got.Subject)
	}
	ja, err := a.JWKS(t.Context())
	require.NoError(t, err)
	jb, err := b.JWKS(t.Context())
	require.NoError(t, err)
	require.JSONEq(t, string(ja), string(jb))
	require.Len(t, e.keys.stored(), 1)
}

func TestJWKSHasOnlyPublicParameters(t *testing.T) {
	e := newEnv()
	iss := e.replica(t)
	e.clock.Advance(time.Second)
	_, err := iss.Rotate(t.Context())
	require.NoError(t, err)
	stored := e.keys.stored() // oldest first

	raw, err := iss.JWKS(t.Context())
	require.NoError(t, err)
	require.NotContains(t, string(raw), `"d"`)

	var doc map[string][]map[string]string
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.Len(t, doc, 1)
	keys := doc["keys"]
	require.Len(t, keys, 2)
	for n, jwk := range keys {
		want := stored[len(stored)-1-n] // newest first
		require.Equal(t, want.ID, jwk["kid"])
		require.Equal(t, map[string]string{
			"kty": "EC", "crv": "P-256", "x": jwk["x"], "y": jwk["y"],
			"kid": want.ID, "use": "sig", "alg": "ES256",
		}, jwk)

		x, err := base64.RawURLEncoding.DecodeString(jwk["x"])
		require.NoError(t, err)
		y, err := base64.RawURLEncoding.DecodeString(jwk["y"])
		require.NoError(t, err)
		require.Len(t, x, 32)
		require.Len(t, y, 32)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		require.NoError(t, err)
		storedPub, err := x509.ParsePKIXPublicKey(want.PublicKey)
		require.NoError(t, err)
		require.True(t, pub.Equal(storedPub))
	}
}

// TestMaxAgeIsWhatActivationWaitsFor: the JWKS endpoint announces MaxAge,
// and a new key waits for a JWKS fetched before it to leave every cache.
// The activation tests hold the delay to testActivation, which writes the
// same 60 seconds out, so a MaxAge that changed alone fails here.
func TestMaxAgeIsWhatActivationWaitsFor(t *testing.T) {
	iss := newEnv().replica(t)

	assert.Equal(t, 60*time.Second, iss.MaxAge())
}

func TestUnknownKidReloadIsRateLimited(t *testing.T) {
	e := newEnv()
	iss := e.replica(t)
	stranger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	probe := func(kid string) {
		t.Helper()
		tok := forge(t, validHeader(kid), validClaims(e.clock.Now()), jwt.SigningMethodES256, stranger)
		_, err := iss.Verify(t.Context(), tok, e.clock.Now())
		requireInvalid(t, err, tok)
	}

	lists := e.keys.listCount()
	probe("unknown-1")
	require.Equal(t, lists+1, e.keys.listCount(), "the first unknown kid reloads")
	probe("unknown-2")
	require.Equal(t, lists+1, e.keys.listCount(), "within a second, no second reload")
	e.clock.Advance(time.Second)
	probe("unknown-3")
	require.Equal(t, lists+2, e.keys.listCount(), "a second later, another reload")
}

func TestUnknownKidReloadIsSingleFlight(t *testing.T) {
	e := newEnv()
	iss := e.replica(t)
	rotator := e.replica(t)
	kid, err := rotator.Rotate(t.Context())
	require.NoError(t, err)
	// No replica signs with the new key yet, but a token of it can only
	// be checked after a reload.
	tok := forge(t, validHeader(kid), validClaims(e.clock.Now()), jwt.SigningMethodES256, e.privateKey(t, kid))

	lists := e.keys.listCount()
	parallel(t, 64, func() error {
		_, err := iss.Verify(t.Context(), tok, e.clock.Now())
		return err
	})
	require.Equal(t, lists+1, e.keys.listCount())
}

func TestStaleReloadIsSingleFlight(t *testing.T) {
	e := newEnv()
	iss := e.replica(t)
	e.clock.Advance(testReload)

	lists := e.keys.listCount()
	parallel(t, 64, func() error {
		_, err := iss.Issue(t.Context(), e.claims())
		return err
	})
	require.Equal(t, lists+1, e.keys.listCount())
}

// parallel runs fn in n goroutines released together and requires every
// call to succeed.
func parallel(t *testing.T, n int, fn func() error) {
	t.Helper()
	var (
		start = make(chan struct{})
		wg    sync.WaitGroup
		errs  = make(chan error, n)
	)
	for range n {
		wg.Go(func() {
			<-start
			errs <- fn()
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestReloadFailureKeepsTheCachedKeys(t *testing.T) {
	e := newEnv()
	var logs logBuffer
	cfg := e.config()
	cfg.Logger = logs.logger()
	iss, err := accesstoken.New(t.Context(), cfg)
	require.NoError(t, err)
	kid0 := e.keys.stored()[0].ID

	e.keys.failLists(errStoreDown)
	e.clock.Advance(testReload)
	lists := e.keys.listCount()

	tok := e.issue(t, iss)
	require.Equal(t, kid0, header(t, tok)["kid"])
	_, err = iss.Verify(t.Context(), tok, e.clock.Now())
	require.NoError(t, err)
	require.Equal(t, lists+1, e.keys.listCount(), "one attempt, then a pause")
	require.Contains(t, logs.String(), "store down")

	// An unknown kid cannot be settled without the store: that is not the
	// token's fault, so it is no sentinel.
	stranger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	unknown := forge(t, validHeader("unknown"), validClaims(e.clock.Now()), jwt.SigningMethodES256, stranger)
	_, err = iss.Verify(t.Context(), unknown, e.clock.Now())
	require.ErrorIs(t, err, errStoreDown)
	require.NotErrorIs(t, err, domain.ErrInvalidAccessToken)
	require.NotErrorIs(t, err, domain.ErrAccessTokenExpired)

	e.keys.failLists(nil)
	e.clock.Advance(5 * time.Second)
	lists = e.keys.listCount()
	e.issue(t, iss)
	require.Equal(t, lists+1, e.keys.listCount(), "retried after the pause")
}

func TestConcurrentIssueVerifyRotate(t *testing.T) {
	e := newEnv()
	replicas := []*accesstoken.Issuer{e.replica(t), e.replica(t)}
	rotator := e.replica(t) // `gatehouse keys rotate`, another process

	const workers, rounds, rotations = 16, 40, 10
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				signer, verifier := replicas[(w+r)%2], replicas[(w+r+1)%2]
				tok, err := signer.Issue(t.Context(), e.claims())
				if !assert.NoError(t, err) {
					return
				}
				_, err = verifier.Verify(t.Context(), tok, e.clock.Now())
				assert.NoError(t, err)
				if r%10 == 0 {
					_, err = verifier.JWKS(t.Context())
					assert.NoError(t, err)
				}
			}
		})
	}
	wg.Go(func() {
		for range rotations {
			_, err := rotator.Rotate(t.Context())
			assert.NoError(t, err)
			e.clock.Advance(testReload)
		}
	})
	wg.Wait()

	stored := e.keys.stored()
	require.Len(t, stored, rotations+1)
	newest := stored[rotations]
	e.clock.Set(newest.CreatedAt.Add(testActivation))
	for _, iss := range replicas {
		require.Equal(t, newest.ID, e.signingKid(t, iss), "every replica ends up signing with the newest key")
	}
}

// flip changes the first character of s to another base64url character.
func flip(s string) string {
	c := "A"
	if strings.HasPrefix(s, "A") {
		c = "B"
	}
	return c + s[1:]
}

// TestVerifyRechecksCachedTokens checks that a token Verify remembers is
// still checked at every call for what changes with time, and that only
// the exact bytes of a token that verified are remembered.
func TestVerifyRechecksCachedTokens(t *testing.T) {
	e := newEnv()
	iss := e.replica(t)
	tok := e.issue(t, iss)
	tampered := tok[:len(tok)-4] + flip(tok[len(tok)-4:])

	_, err := iss.Verify(t.Context(), tampered, t0)
	requireInvalid(t, err, tampered)
	require.Zero(t, iss.CachedTokens(), "a failure is never remembered")

	first, err := iss.Verify(t.Context(), tok, t0)
	require.NoError(t, err)
	require.Equal(t, 1, iss.CachedTokens())
	again, err := iss.Verify(t.Context(), tok, t0.Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, first, again, "the remembered claims are the verified ones")
	require.Equal(t, 1, iss.CachedTokens())

	_, err = iss.Verify(t.Context(), tampered, t0)
	requireInvalid(t, err, tampered)

	_, err = iss.Verify(t.Context(), tok, t0.Add(testTTL))
	require.ErrorIs(t, err, domain.ErrAccessTokenExpired, "expiry is checked on every call")

	_, err = iss.Verify(t.Context(), tok, t0.Add(-accesstoken.Leeway-time.Second))
	requireInvalid(t, err, tok)
}
