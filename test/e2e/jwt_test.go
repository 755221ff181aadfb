package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// jwtHeader decodes a JWT's JOSE header, without verifying anything.
func jwtHeader(t testing.TB, token string) map[string]any {
	t.Helper()
	return jwtSegment(t, token, 0)
}

// jwtClaims decodes a JWT's claims, without verifying anything.
func jwtClaims(t testing.TB, token string) map[string]any {
	t.Helper()
	return jwtSegment(t, token, 1)
}

func jwtSegment(t testing.TB, token string, n int) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3, "a compact JWS has three parts")
	raw, err := base64.RawURLEncoding.DecodeString(parts[n])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

// kidOf returns the kid of a JWT's header.
func kidOf(t testing.TB, token string) string {
	t.Helper()
	kid, ok := jwtHeader(t, token)["kid"].(string)
	require.True(t, ok, "the token's header has a kid")
	return kid
}

// forge builds a compact JWS with exactly header and claims, signed by
// method with key, as an attacker would.
func forge(t testing.TB, header, claims map[string]any, method jwt.SigningMethod, key any) string {
	t.Helper()
	input := b64(mustJSON(t, header)) + "." + b64(mustJSON(t, claims))
	sig, err := method.Sign(input, key)
	require.NoError(t, err)
	return input + "." + b64(sig)
}

// unsigned builds a JWS with header and claims and no signature.
func unsigned(t testing.TB, header, claims map[string]any) string {
	t.Helper()
	return b64(mustJSON(t, header)) + "." + b64(mustJSON(t, claims)) + "."
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// withMembers returns a copy of m with changes applied; a nil value deletes.
func withMembers(m, changes map[string]any) map[string]any {
	out := make(map[string]any, len(m)+len(changes))
	for k, v := range m {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// jwks fetches the server's JWKS and returns it parsed by go-jose, with
// the raw JSON of each key.
func (c *client) jwks(t testing.TB) (jose.JSONWebKeySet, []map[string]any) {
	t.Helper()
	r := c.get(t, "/.well-known/jwks.json", "")
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	var set jose.JSONWebKeySet
	require.NoError(t, json.Unmarshal(r.body, &set), "go-jose parses the JWKS")
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(r.body, &raw))
	require.Len(t, raw.Keys, len(set.Keys))
	return set, raw.Keys
}

// kids returns the key IDs of set.
func kids(set jose.JSONWebKeySet) []string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}
