package e2e_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// privateJWKMembers are the JWK members that carry private key material
// (RFC 7518, section 6).
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// testJWKS: the published keys are public only, and verify an issued
// access token with an independent JOSE library, whose claims are those
// API.md promises.
func testJWKS(t *testing.T, c *client) {
	reg := c.register(t, newEmail("jwks"), newPassword())

	r := c.get(t, "/.well-known/jwks.json", "")
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	set, raw := c.jwks(t)
	require.NotEmpty(t, set.Keys)
	for i, k := range set.Keys {
		assert.True(t, k.Valid(), "JWK %s is valid", k.KeyID)
		assert.True(t, k.IsPublic(), "JWK %s is public", k.KeyID)
		for _, member := range privateJWKMembers {
			assert.NotContains(t, raw[i], member, "JWK %s publishes private key material", k.KeyID)
		}
		assert.Equal(t, "ES256", k.Algorithm)
		assert.Equal(t, "sig", k.Use)
		assert.NotEmpty(t, k.KeyID)
	}

	jws, err := jose.ParseSigned(reg.AccessToken, []jose.SignatureAlgorithm{jose.ES256})
	require.NoError(t, err)
	require.Len(t, jws.Signatures, 1)
	kid := jws.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	require.Len(t, keys, 1, "the JWKS has key %q of the token's header", kid)
	payload, err := jws.Verify(keys[0])
	require.NoError(t, err, "the token verifies with the published key")

	// The control: verification with go-jose can fail.
	stranger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	_, err = jws.Verify(&stranger.PublicKey)
	require.Error(t, err)

	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	require.NoError(t, dec.Decode(&claims))
	assert.Equal(t, c.srv.env["GATEHOUSE_PUBLIC_URL"], claims["iss"])
	assert.Equal(t, "gatehouse", claims["aud"])
	assert.Equal(t, reg.User.ID, claims["sub"])
	assert.Equal(t, "free", claims["tier"])
	assert.Equal(t, false, claims["email_verified"])
	for _, name := range []string{"sid", "jti"} {
		v, ok := claims[name].(string)
		assert.True(t, ok && v != "", "claim %s is a non-empty string: %v", name, claims[name])
	}
	iat, exp := intClaim(t, claims, "iat"), intClaim(t, claims, "exp")
	assert.Equal(t, int64(reg.ExpiresIn), exp-iat, "exp is iat plus the TTL")
	assert.WithinDuration(t, time.Now(), time.Unix(iat, 0), time.Minute, "iat is now")
}

// intClaim returns a claim that must be a JSON integer.
func intClaim(t testing.TB, claims map[string]any, name string) int64 {
	t.Helper()
	n, ok := claims[name].(json.Number)
	require.True(t, ok, "claim %s is a number: %v", name, claims[name])
	v, err := n.Int64()
	require.NoError(t, err, "claim %s is an integer", name)
	return v
}

var newKeyLine = regexp.MustCompile(`(?m)^new signing key (\S+)$`)

// activationDelay is how long after `gatehouse keys rotate` the new key
// starts to sign: the servers' key reload interval (30s), plus the JWKS's
// max-age (60s), plus the clock leeway (5s).
const activationDelay = 95 * time.Second

// testKeyRotation: `gatehouse keys rotate` adds a key that servers publish
// before any of them signs with it. A server started after the rotation
// publishes both keys at once and goes on signing with the old one, so a
// verifier that cached the JWKS before the rotation still verifies its
// tokens, and the servers verify each other's tokens. That the new key
// signs once the delay has passed is for the unit tests, with a fake
// clock: this scenario does not wait for it.
func testKeyRotation(t *testing.T, b backend) {
	env := with(b.database(t), map[string]string{"GATEHOUSE_PUBLIC_URL": publicURL})
	email, password := newEmail("rotate"), newPassword()

	a := startServer(t, env)
	ca := newClient(t, a)
	t1 := ca.register(t, email, password).AccessToken
	oldKid := kidOf(t, t1)
	cached, _ := ca.jwks(t) // a verifier's copy, fetched before the rotation
	require.Equal(t, []string{oldKid}, kids(cached))

	rotatedBy := time.Now()
	out, code := runGatehouse(t, env, "keys", "rotate")
	require.Zero(t, code, "gatehouse keys rotate: %s", out)
	m := newKeyLine.FindStringSubmatch(out)
	require.NotNil(t, m, "gatehouse keys rotate prints the new kid: %s", out)
	newKid := m[1]
	require.NotEqual(t, oldKid, newKid)

	if !b.concurrent {
		a.stop(t)
	}
	srvB := startServer(t, env)
	cb := newClient(t, srvB)
	set, _ := cb.jwks(t)
	assert.ElementsMatch(t, []string{oldKid, newKid}, kids(set), "a server started after the rotation publishes both keys")
	t2 := cb.login(t, email, password).AccessToken
	require.Less(t, time.Since(rotatedBy), activationDelay, "the scenario must log in before the new key may sign")
	assert.Equal(t, oldKid, kidOf(t, t2), "it signs with the old key until the new one activates")
	verifyWithJWKS(t, cached, t2)

	cb.me(t, t2).user(t)
	cb.me(t, t1).user(t) // tokens from A verify on B

	if b.concurrent {
		ca.me(t, t2).user(t) // A verifies B's tokens
		t3 := ca.login(t, email, password).AccessToken
		assert.Equal(t, oldKid, kidOf(t, t3), "A too signs with the old key")
		cb.me(t, t3).user(t)
		set, _ := ca.jwks(t)
		assert.Contains(t, kids(set), oldKid)
	}
}

// verifyWithJWKS verifies token with the key of set its kid names, as a
// verifier holding set would, with an independent JOSE library.
func verifyWithJWKS(t testing.TB, set jose.JSONWebKeySet, token string) {
	t.Helper()
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	require.NoError(t, err)
	require.Len(t, jws.Signatures, 1)
	kid := jws.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	require.Len(t, keys, 1, "the JWKS %v has the token's key %s", kids(set), kid)
	_, err = jws.Verify(keys[0])
	require.NoError(t, err)
}
