package verifier_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/client/verifier"
)

const issuer = "https://auth.example.com"

var start = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// gatehouse is a stand-in for Gatehouse's JWKS endpoint and signer: one
// key at a time, a max-age, a count of fetches.
type gatehouse struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	keys    map[string]*ecdsa.PrivateKey
	kid     string // the key that signs
	cache   string // Cache-Control of the JWKS
	down    bool
	fetches atomic.Int32
	now     time.Time
}

func newGatehouse(t *testing.T) *gatehouse {
	g := &gatehouse{t: t, keys: map[string]*ecdsa.PrivateKey{}, cache: "public, max-age=60", now: start}
	g.rotate()
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		g.fetches.Add(1)
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.down {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		var set jose.JSONWebKeySet
		for kid, k := range g.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"})
		}
		w.Header().Set("Cache-Control", g.cache)
		require.NoError(t, json.NewEncoder(w).Encode(set))
	}))
	t.Cleanup(g.srv.Close)
	return g
}

// rotate adds a key that signs from now on and returns its ID.
func (g *gatehouse) rotate() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(g.t, err)
	g.kid = rand.Text()
	g.keys[g.kid] = k
	return g.kid
}

func (g *gatehouse) Now() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.now
}

func (g *gatehouse) advance(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.now = g.now.Add(d)
}

// claims are a member's, as Gatehouse issues them at g's clock.
func (g *gatehouse) claims() jwt.MapClaims {
	now := g.Now()
	return jwt.MapClaims{
		"iss": issuer, "aud": "gatehouse", "sub": "user-1", "sid": "session-1", "tier": "member",
		"email_verified": true, "amr": []string{"pwd"}, "aal": "aal1",
		"iat": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(), "jti": "token-1",
	}
}

// sign signs claims with the signing key, with header changes applied.
func (g *gatehouse) sign(claims jwt.MapClaims, header ...func(map[string]any)) string {
	g.mu.Lock()
	key, kid := g.keys[g.kid], g.kid
	g.mu.Unlock()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["typ"], tok.Header["kid"] = "at+jwt", kid
	for _, h := range header {
		h(tok.Header)
	}
	s, err := tok.SignedString(key)
	require.NoError(g.t, err)
	return s
}

func (g *gatehouse) verifier(opts ...func(*verifier.Config)) *verifier.Verifier {
	cfg := verifier.Config{JWKSURL: g.srv.URL, Issuer: issuer, Now: g.Now, HTTPClient: g.srv.Client()}
	for _, o := range opts {
		o(&cfg)
	}
	v, err := verifier.New(cfg)
	require.NoError(g.t, err)
	return v
}

func TestVerifyReturnsTheClaims(t *testing.T) {
	g := newGatehouse(t)
	v := g.verifier()

	c, err := v.Verify(context.Background(), g.sign(g.claims()))

	require.NoError(t, err)
	assert.Equal(t, &verifier.Claims{
		Issuer: issuer, Audience: []string{"gatehouse"}, Subject: "user-1", SessionID: "session-1",
		Tier: "member", EmailVerified: true, AMR: []string{"pwd"}, AAL: "aal1",
		IssuedAt: start, ExpiresAt: start.Add(15 * time.Minute), ID: "token-1",
	}, c)
}

func TestVerifyTakesATokenWithoutAALAsAAL1(t *testing.T) {
	g := newGatehouse(t)
	claims := g.claims()
	delete(claims, "aal")

	c, err := g.verifier().Verify(context.Background(), g.sign(claims))

	require.NoError(t, err)
	assert.Equal(t, "aal1", c.AAL)
}

func TestVerifyRefuses(t *testing.T) {
	g := newGatehouse(t)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	with := func(k string, v any) jwt.MapClaims { c := g.claims(); c[k] = v; return c }
	without := func(k string) jwt.MapClaims { c := g.claims(); delete(c, k); return c }
	es384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	es384Token := jwt.NewWithClaims(jwt.SigningMethodES384, g.claims())
	es384Token.Header["typ"], es384Token.Header["kid"] = "at+jwt", g.kid
	es384Signed, err := es384Token.SignedString(es384)
	require.NoError(t, err)
	hs256 := jwt.NewWithClaims(jwt.SigningMethodHS256, g.claims())
	hs256.Header["typ"], hs256.Header["kid"] = "at+jwt", g.kid
	hs256Signed, err := hs256.SignedString([]byte("a shared secret nobody should use"))
	require.NoError(t, err)
	forged := jwt.NewWithClaims(jwt.SigningMethodES256, g.claims())
	forged.Header["typ"], forged.Header["kid"] = "at+jwt", g.kid
	forgedSigned, err := forged.SignedString(other)
	require.NoError(t, err)

	for name, token := range map[string]string{
		"another issuer":        g.sign(with("iss", "https://evil.example.com")),
		"another audience":      g.sign(with("aud", "billing")),
		"no exp":                g.sign(without("exp")),
		"iat in the future":     g.sign(with("iat", start.Add(time.Minute).Unix())),
		"no subject":            g.sign(without("sub")),
		"not at+jwt":            g.sign(g.claims(), func(h map[string]any) { h["typ"] = "JWT" }),
		"no kid":                g.sign(g.claims(), func(h map[string]any) { delete(h, "kid") }),
		"an unknown kid":        g.sign(g.claims(), func(h map[string]any) { h["kid"] = "nobody" }),
		"ES384":                 es384Signed,
		"HS256":                 hs256Signed,
		"signed by another key": forgedSigned,
		"not a JWT":             "at-123",
		"an empty string":       "",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := g.verifier().Verify(context.Background(), token)
			require.ErrorIs(t, err, verifier.ErrInvalidToken)
		})
	}
}

func TestVerifyAllowsTheLeewayPastExpiry(t *testing.T) {
	g := newGatehouse(t)
	v := g.verifier()
	token := g.sign(g.claims())

	g.advance(15*time.Minute + verifier.DefaultLeeway - time.Second)
	_, err := v.Verify(context.Background(), token)
	require.NoError(t, err, "within the leeway")

	g.advance(2 * time.Second)
	_, err = v.Verify(context.Background(), token)
	require.ErrorIs(t, err, verifier.ErrTokenExpired)
	assert.NotErrorIs(t, err, verifier.ErrInvalidToken)

	_, err = g.verifier(func(c *verifier.Config) { c.Leeway = -1 }).Verify(context.Background(), g.sign(with(g.claims(), "exp", g.Now().Add(-time.Second).Unix())))
	require.ErrorIs(t, err, verifier.ErrTokenExpired, "a negative leeway is none")
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	c[k] = v
	return c
}

func TestTheJWKSIsCachedForItsMaxAge(t *testing.T) {
	g := newGatehouse(t)
	v := g.verifier()
	ctx := context.Background()

	for range 3 {
		_, err := v.Verify(ctx, g.sign(g.claims()))
		require.NoError(t, err)
	}
	assert.EqualValues(t, 1, g.fetches.Load(), "one fetch while the copy is fresh")

	g.advance(61 * time.Second)
	_, err := v.Verify(ctx, g.sign(g.claims()))
	require.NoError(t, err)
	assert.EqualValues(t, 2, g.fetches.Load(), "fetched again once max-age has passed")
}

func TestAnUnknownKeyIDRefetchesAtMostOncePerInterval(t *testing.T) {
	g := newGatehouse(t)
	v := g.verifier(func(c *verifier.Config) { c.RefetchInterval = 10 * time.Second })
	ctx := context.Background()
	_, err := v.Verify(ctx, g.sign(g.claims()))
	require.NoError(t, err)
	require.EqualValues(t, 1, g.fetches.Load())

	g.advance(10 * time.Second)
	g.rotate()
	_, err = v.Verify(ctx, g.sign(g.claims()))
	require.NoError(t, err, "a new key is fetched as soon as a token names it")
	assert.EqualValues(t, 2, g.fetches.Load())

	forged := g.sign(g.claims(), func(h map[string]any) { h["kid"] = "forged" })
	for range 5 {
		_, err = v.Verify(ctx, forged)
		require.ErrorIs(t, err, verifier.ErrInvalidToken)
	}
	assert.EqualValues(t, 2, g.fetches.Load(), "forged key IDs within the interval fetch nothing")

	g.advance(10 * time.Second)
	_, err = v.Verify(ctx, forged)
	require.ErrorIs(t, err, verifier.ErrInvalidToken)
	assert.EqualValues(t, 3, g.fetches.Load(), "after the interval one more")
}

func TestAFailedFetchKeepsTheCopyAndWithoutOneIsUnavailable(t *testing.T) {
	g := newGatehouse(t)
	v := g.verifier()
	ctx := context.Background()
	_, err := v.Verify(ctx, g.sign(g.claims()))
	require.NoError(t, err)

	g.mu.Lock()
	g.down = true
	g.mu.Unlock()
	g.advance(61 * time.Second)
	_, err = v.Verify(ctx, g.sign(g.claims()))
	require.NoError(t, err, "the stale copy still verifies its keys")
	assert.EqualValues(t, 2, g.fetches.Load(), "a refetch was tried")

	_, err = g.verifier().Verify(ctx, g.sign(g.claims()))
	require.ErrorIs(t, err, verifier.ErrKeysUnavailable, "a verifier that never had the JWKS")
}

func TestNewRefusesAnIncompleteConfig(t *testing.T) {
	for name, cfg := range map[string]verifier.Config{
		"no JWKS URL":       {Issuer: issuer},
		"no issuer":         {JWKSURL: "https://auth.example.com/.well-known/jwks.json"},
		"negative interval": {JWKSURL: "https://auth.example.com/.well-known/jwks.json", Issuer: issuer, RefetchInterval: -time.Second},
	} {
		_, err := verifier.New(cfg)
		assert.Error(t, err, name)
	}
}

func TestAtLeastOrdersTheTiers(t *testing.T) {
	for _, tc := range []struct {
		tier, want string
		ok         bool
	}{
		{"member", "member", true}, {"member", "free", true}, {"member", "anonymous", true},
		{"free", "member", false}, {"free", "free", true}, {"anonymous", "free", false},
		{"gold", "anonymous", false}, {"member", "gold", false},
	} {
		assert.Equal(t, tc.ok, (&verifier.Claims{Tier: tc.tier}).AtLeast(tc.want), "%s at least %s", tc.tier, tc.want)
	}
}
