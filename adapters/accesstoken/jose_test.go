package accesstoken_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// TestGoJoseVerifiesIssuedTokens checks the JWKS and the tokens with an
// independent JOSE implementation, as a downstream service would.
func TestGoJoseVerifiesIssuedTokens(t *testing.T) {
	e := newEnv()
	iss := e.replica(t)
	oldTok := e.issue(t, iss)
	e.clock.Advance(time.Second)
	kid, err := iss.Rotate(t.Context())
	require.NoError(t, err)

	// A verifier fetches the JWKS right after the rotation and caches it;
	// by the time the new key signs, that cached set must do.
	raw, err := iss.JWKS(t.Context())
	require.NoError(t, err)
	var set jose.JSONWebKeySet
	require.NoError(t, json.Unmarshal(raw, &set))
	require.Len(t, set.Keys, 2)

	e.clock.Set(e.createdAt(t, kid).Add(testActivation))
	newTok := e.issue(t, iss)
	require.Equal(t, kid, header(t, newTok)["kid"])
	require.NotEqual(t, header(t, oldTok)["kid"], kid)

	for _, tok := range []string{oldTok, newTok} {
		jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
		require.NoError(t, err)
		require.Len(t, jws.Signatures, 1)
		h := jws.Signatures[0].Header
		require.Equal(t, "ES256", h.Algorithm)
		require.Equal(t, "at+jwt", h.ExtraHeaders[jose.HeaderType])

		keys := set.Key(h.KeyID)
		require.Len(t, keys, 1, "the token's kid is in the JWKS")
		key := keys[0]
		require.True(t, key.IsPublic())
		require.True(t, key.Valid())
		require.Equal(t, "sig", key.Use)
		require.Equal(t, "ES256", key.Algorithm)

		body, err := jws.Verify(key)
		require.NoError(t, err)
		var claims map[string]any
		require.NoError(t, json.Unmarshal(body, &claims))
		require.Equal(t, testIssuer, claims["iss"])
		require.Equal(t, testAudience, claims["aud"])
		require.Equal(t, "user-1", claims["sub"])
		require.Equal(t, "session-1", claims["sid"])
		require.Equal(t, "member", claims["tier"])
		require.Equal(t, true, claims["email_verified"])
		require.NotEmpty(t, claims["jti"])
		require.IsType(t, float64(0), claims["iat"])
		require.Equal(t, claims["iat"].(float64)+testTTL.Seconds(), claims["exp"])

		// The other key must not verify it: the check above could fail.
		for _, other := range set.Keys {
			if other.KeyID != h.KeyID {
				_, err := jws.Verify(other)
				require.Error(t, err)
			}
		}
	}
}

// TestVerifyAcceptsGoJoseTokens signs a token with go-jose and the stored
// key, decrypted by the documented format: Verify reads standard JOSE, not
// just what golang-jwt writes.
func TestVerifyAcceptsGoJoseTokens(t *testing.T) {
	e := newEnv()
	iss := e.replica(t)
	kid := e.keys.stored()[0].ID

	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.ES256, Key: e.privateKey(t, kid)},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", kid),
	)
	require.NoError(t, err)
	obj, err := signer.Sign(mustJSON(t, validClaims(t0)))
	require.NoError(t, err)
	tok, err := obj.CompactSerialize()
	require.NoError(t, err)

	got, err := iss.Verify(t.Context(), tok, t0)
	require.NoError(t, err)
	require.Equal(t, domain.Claims{
		ID: "forged", Subject: "user-1", SessionID: "session-1", Tier: domain.TierFree,
		EmailVerified: false, AAL: domain.AAL1, IssuedAt: t0, ExpiresAt: t0.Add(testTTL),
	}, got, "a token without amr and aal, as before they existed, is aal1")
}
