package accesstoken_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// TestVerifyRefusesAttacks gives Verify one malicious or broken token per
// case. Unless a case says otherwise, the token is signed with the real
// signing key, so that only the one thing the case changes can be what
// Verify refuses.
func TestVerifyRefusesAttacks(t *testing.T) {
	e := newEnv()
	iss := e.replica(t)
	kid := e.keys.stored()[0].ID
	real := e.privateKey(t, kid)
	now := t0
	claims := validClaims(now)
	hdr := validHeader(kid)

	stranger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pkix, err := x509.MarshalPKIXPublicKey(&real.PublicKey)
	require.NoError(t, err)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})

	signed := func(h, c map[string]any) string { return forge(t, h, c, jwt.SigningMethodES256, real) }
	claim := func(changes map[string]any) string { return signed(hdr, with(claims, changes)) }
	head := func(changes map[string]any) string { return signed(with(hdr, changes), claims) }

	// The control: the forging helper makes tokens Verify accepts, so
	// every case below fails for its own reason.
	_, err = iss.Verify(t.Context(), signed(hdr, claims), now)
	require.NoError(t, err)

	issued := e.issue(t, iss)
	parts := strings.Split(issued, ".")
	upgraded := payload(t, issued)
	upgraded["tier"] = "member"
	upgraded["sub"] = "someone-else"
	upgradedJSON, err := json.Marshal(upgraded)
	require.NoError(t, err)
	asn1Sig, err := ecdsa.SignASN1(rand.Reader, real, sha256Of(parts[0]+"."+parts[1]))
	require.NoError(t, err)

	cases := map[string]string{
		// The algorithm is pinned to ES256.
		"alg none":                             forge(t, with(hdr, map[string]any{"alg": "none"}), claims, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType),
		"alg none, signature kept":             forge(t, with(hdr, map[string]any{"alg": "none"}), claims, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType) + parts[2],
		"alg NONE":                             forge(t, with(hdr, map[string]any{"alg": "NONE"}), claims, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType),
		"HS256 keyed with the PKIX public key": forge(t, with(hdr, map[string]any{"alg": "HS256"}), claims, jwt.SigningMethodHS256, pkix),
		"HS256 keyed with the PEM public key":  forge(t, with(hdr, map[string]any{"alg": "HS256"}), claims, jwt.SigningMethodHS256, pemKey),
		"RS256 with a known kid":               forge(t, with(hdr, map[string]any{"alg": "RS256"}), claims, jwt.SigningMethodRS256, rsaKey),
		"ES384 with a known kid":               forge(t, with(hdr, map[string]any{"alg": "ES384"}), claims, jwt.SigningMethodES384, p384),
		"ES256 header, ES384 signature":        forge(t, hdr, claims, jwt.SigningMethodES384, p384),
		"ES256 header, HS256 signature":        forge(t, hdr, claims, jwt.SigningMethodHS256, pkix),
		"alg missing":                          head(map[string]any{"alg": nil}),
		"alg not a string":                     head(map[string]any{"alg": 256}),

		// The key comes from the store, by kid, and from nowhere else.
		"unknown kid":                     head(map[string]any{"kid": "no-such-key"}),
		"missing kid":                     head(map[string]any{"kid": nil}),
		"empty kid":                       head(map[string]any{"kid": ""}),
		"kid not a string":                head(map[string]any{"kid": 1}),
		"known kid, another key":          forge(t, hdr, claims, jwt.SigningMethodES256, stranger),
		"embedded jwk":                    head(map[string]any{"jwk": publicJWKOf(&real.PublicKey)}),
		"embedded jwk of the signing key": forge(t, with(hdr, map[string]any{"jwk": publicJWKOf(&stranger.PublicKey)}), claims, jwt.SigningMethodES256, stranger),
		"jku":                             head(map[string]any{"jku": "https://attacker.example/jwks.json"}),
		"x5u":                             head(map[string]any{"x5u": "https://attacker.example/cert.pem"}),
		"x5c":                             head(map[string]any{"x5c": []string{base64.StdEncoding.EncodeToString(pkix)}}),
		"crit":                            head(map[string]any{"crit": []string{"exp"}}),

		// The type is an access token's.
		"typ JWT":          head(map[string]any{"typ": "JWT"}),
		"typ missing":      head(map[string]any{"typ": nil}),
		"typ not a string": head(map[string]any{"typ": true}),

		// The claims are this issuer's, for this audience, and complete.
		"wrong iss":                claim(map[string]any{"iss": "https://evil.example"}),
		"missing iss":              claim(map[string]any{"iss": nil}),
		"wrong aud":                claim(map[string]any{"aud": "another-service"}),
		"missing aud":              claim(map[string]any{"aud": nil}),
		"aud as an array":          claim(map[string]any{"aud": []string{testAudience, "another-service"}}),
		"missing exp":              claim(map[string]any{"exp": nil}),
		"exp as a string":          claim(map[string]any{"exp": "9999999999"}),
		"exp as a fraction":        claim(map[string]any{"exp": float64(now.Add(testTTL).Unix()) + 0.5}),
		"exp null":                 claim(map[string]any{"exp": json.RawMessage("null")}),
		"exp beyond year 9999":     claim(map[string]any{"exp": int64(1) << 62}),
		"missing iat":              claim(map[string]any{"iat": nil}),
		"missing sub":              claim(map[string]any{"sub": nil}),
		"empty sub":                claim(map[string]any{"sub": ""}),
		"sub not a string":         claim(map[string]any{"sub": 42}),
		"missing sid":              claim(map[string]any{"sid": nil}),
		"missing jti":              claim(map[string]any{"jti": nil}),
		"missing email_verified":   claim(map[string]any{"email_verified": nil}),
		"email_verified as string": claim(map[string]any{"email_verified": "true"}),
		"unknown tier":             claim(map[string]any{"tier": "admin"}),
		"tier in another case":     claim(map[string]any{"tier": "Member"}),
		"missing tier":             claim(map[string]any{"tier": nil}),

		// What was signed is what is read.
		"tampered payload":       parts[0] + "." + b64(upgradedJSON) + "." + parts[2],
		"tampered header":        b64([]byte(`{"alg":"ES256","kid":"`+kid+`","typ":"at+jwt" }`)) + "." + parts[1] + "." + parts[2],
		"tampered signature":     parts[0] + "." + parts[1] + "." + flip(parts[2]),
		"truncated signature":    parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-4],
		"empty signature":        parts[0] + "." + parts[1] + ".",
		"ASN.1 signature":        parts[0] + "." + parts[1] + "." + b64(asn1Sig),
		"signature padded":       parts[0] + "." + parts[1] + "." + parts[2] + "=",
		"non-canonical base64":   parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-1] + nonCanonical(parts[2]),
		"standard base64 header": base64.StdEncoding.EncodeToString(mustJSON(t, hdr)) + "." + parts[1] + "." + parts[2],

		// Garbage.
		"empty":             "",
		"one word":          "garbage",
		"three dots":        "...",
		"three words":       "a.b.c",
		"two segments":      parts[0] + "." + parts[1],
		"four segments":     issued + "." + parts[2],
		"trailing dot":      issued + ".",
		"leading space":     " " + issued,
		"bearer prefix":     "Bearer " + issued,
		"header not JSON":   b64([]byte("not json")) + "." + parts[1] + "." + parts[2],
		"header a list":     b64([]byte(`["ES256"]`)) + "." + parts[1] + "." + parts[2],
		"payload not JSON":  signedRaw(t, hdr, []byte("not json"), real),
		"payload null":      signedRaw(t, hdr, []byte("null"), real),
		"payload a list":    signedRaw(t, hdr, []byte(`[1,2]`), real),
		"huge":              strings.Repeat("a", 1<<20) + "." + parts[1] + "." + parts[2],
		"huge but shapely":  signed(hdr, with(claims, map[string]any{"pad": strings.Repeat("x", 16<<10)})),
		"JSON instead":      `{"alg":"ES256"}`,
		"control character": issued[:10] + "\x00" + issued[10:],
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := iss.Verify(t.Context(), tok, now)
			requireInvalid(t, err, tok)
			require.Equal(t, domain.Claims{}, got)
		})
	}
}

// publicJWKOf returns pub as a JWK header value.
func publicJWKOf(pub *ecdsa.PublicKey) map[string]any {
	point, _ := pub.Bytes()
	return map[string]any{
		"kty": "EC", "crv": "P-256",
		"x": b64(point[1:33]), "y": b64(point[33:]),
	}
}

// signedRaw signs an arbitrary payload under hdr with ES256.
func signedRaw(t testing.TB, hdr map[string]any, body []byte, key *ecdsa.PrivateKey) string {
	t.Helper()
	input := b64(mustJSON(t, hdr)) + "." + b64(body)
	sig, err := jwt.SigningMethodES256.Sign(input, key)
	require.NoError(t, err)
	return input + "." + b64(sig)
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func sha256Of(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// nonCanonical returns a last character for the base64url string s that
// decodes to the same bytes but sets the unused low bits, which strict
// decoding refuses. A 64-byte signature is 86 characters: the last one
// carries 2 bits of data and 4 unused ones, which a canonical encoder
// leaves zero.
func nonCanonical(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, s[len(s)-1])
	return string(alphabet[i|1])
}
