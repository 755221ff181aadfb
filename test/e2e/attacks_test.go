package e2e_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testJWTAttacks: GET /v1/me refuses every forged, altered or misplaced
// access token with 401 invalid_token and a Bearer challenge.
func testJWTAttacks(t *testing.T, c *client) {
	issued := c.register(t, newEmail("victim"), newPassword()).AccessToken
	// The control: the untouched token is accepted, so each case below is
	// refused for what it changes.
	c.me(t, issued).user(t)

	kid := kidOf(t, issued)
	header := jwtHeader(t, issued)
	claims := jwtClaims(t, issued)
	parts := strings.Split(issued, ".")

	// The server's public key, from its own JWKS, as an attacker gets it.
	set, raw := c.jwks(t)
	keys := set.Key(kid)
	require.Len(t, keys, 1, "the JWKS has the token's key")
	public, ok := keys[0].Key.(*ecdsa.PublicKey)
	require.True(t, ok, "the key is %T", keys[0].Key)
	pkixKey, err := x509.MarshalPKIXPublicKey(public)
	require.NoError(t, err)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkixKey})
	point, err := public.Bytes()
	require.NoError(t, err)
	var jwkJSON []byte
	for _, k := range raw {
		if k["kid"] == kid {
			jwkJSON = mustJSON(t, k)
		}
	}
	require.NotEmpty(t, jwkJSON)

	// The attacker's own key, published at a URL of the attacker's.
	own, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ownKid := "attacker-" + rand.Text()
	ownJWK := publicJWK(t, &own.PublicKey, ownKid)
	ownCert := selfSigned(t, own)
	attacker := newAttackerSite(t, ownJWK, ownCert)

	mine := func(h map[string]any) string { return forge(t, h, claims, jwt.SigningMethodES256, own) }
	hs256 := func(secret []byte) string {
		return forge(t, withMembers(header, map[string]any{"alg": "HS256"}), claims, jwt.SigningMethodHS256, secret)
	}
	upgraded := withMembers(claims, map[string]any{"tier": "member"})

	cases := map[string]string{
		"alg none":                          unsigned(t, withMembers(header, map[string]any{"alg": "none"}), claims),
		"alg none, signature kept":          unsigned(t, withMembers(header, map[string]any{"alg": "none"}), claims) + parts[2],
		"HS256 keyed with the PKIX key":     hs256(pkixKey),
		"HS256 keyed with the PEM key":      hs256(pemKey),
		"HS256 keyed with the JWK":          hs256(jwkJSON),
		"HS256 keyed with the point":        hs256(point),
		"unknown kid":                       mine(withMembers(header, map[string]any{"kid": ownKid})),
		"known kid, another key":            mine(header),
		"embedded jwk":                      mine(withMembers(header, map[string]any{"jwk": ownJWK})),
		"embedded jwk without kid":          mine(withMembers(header, map[string]any{"jwk": ownJWK, "kid": nil})),
		"jku":                               mine(withMembers(header, map[string]any{"kid": ownKid, "jku": attacker.url + "/jwks.json"})),
		"x5u":                               mine(withMembers(header, map[string]any{"kid": ownKid, "x5u": attacker.url + "/cert.pem"})),
		"x5c":                               mine(withMembers(header, map[string]any{"kid": nil, "x5c": []string{base64.StdEncoding.EncodeToString(ownCert.Raw)}})),
		"tampered payload, original sig":    parts[0] + "." + b64(mustJSON(t, upgraded)) + "." + parts[2],
		"tampered payload, own sig":         forge(t, header, upgraded, jwt.SigningMethodES256, own),
		"original token, signature cut off": parts[0] + "." + parts[1] + ".",
	}
	for name, token := range cases {
		t.Run(name, func(t *testing.T) {
			c.me(t, token).bearerProblem(t, "invalid_token")
		})
	}

	t.Run("valid token in the query string", func(t *testing.T) {
		c.get(t, "/v1/me?access_token="+issued, "").bearerProblem(t, "invalid_token")
		// Refused whatever the operation, even one that needs no token.
		c.get(t, "/.well-known/jwks.json?access_token="+issued, "").bearerProblem(t, "invalid_token")
	})

	assert.Zero(t, attacker.hits.Load(), "the server fetched a key from a URL a token named")
}

// attackerSite serves the attacker's key set and certificate, and counts
// the requests it gets.
type attackerSite struct {
	url  string
	hits atomic.Int64
}

func newAttackerSite(t *testing.T, jwk map[string]any, cert *x509.Certificate) *attackerSite {
	t.Helper()
	a := &attackerSite{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.hits.Add(1)
		switch r.URL.Path {
		case "/jwks.json":
			_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{jwk}})
		case "/cert.pem":
			_ = pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	a.url = srv.URL
	return a
}

// publicJWK returns pub as a JWK.
func publicJWK(t testing.TB, pub *ecdsa.PublicKey, kid string) map[string]any {
	t.Helper()
	point, err := pub.Bytes()
	require.NoError(t, err)
	return map[string]any{
		"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
		"x": b64(point[1:33]), "y": b64(point[33:]),
	}
}

// selfSigned returns a certificate for key, signed by itself.
func selfSigned(t testing.TB, key *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "auth.e2e.example"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert
}

// testExpiredToken: once its exp has passed, an access token is refused
// as expired, while its refresh token still works.
func testExpiredToken(t *testing.T, b backend) {
	srv := startServer(t, with(b.database(t), map[string]string{
		"GATEHOUSE_PUBLIC_URL":        publicURL,
		"GATEHOUSE_ACCESS_TOKEN_TTL":  "1s",
		"GATEHOUSE_REFRESH_TOKEN_TTL": "1h",
	}))
	c := newClient(t, srv)
	reg := c.register(t, newEmail("expiry"), newPassword())
	assert.Equal(t, 1, reg.ExpiresIn)

	// Poll until the token expires. Until then every answer is a 200; any
	// other answer, or one that breaks the document, ends the polling.
	var (
		mu   sync.Mutex
		last response
		errs []error
	)
	require.Eventually(t, func() bool {
		// Not c.newRequest: this runs outside the test's goroutine.
		req, err := http.NewRequest(http.MethodGet, srv.baseURL+"/v1/me", nil)
		var r response
		if err == nil {
			r, err = c.send(withBearer(req, reg.AccessToken))
		}
		mu.Lock()
		defer mu.Unlock()
		last = r
		if err != nil {
			errs = append(errs, err)
			return true
		}
		return r.status != http.StatusOK
	}, 10*time.Second, 50*time.Millisecond, "the access token never stopped working")
	mu.Lock()
	defer mu.Unlock()
	require.Empty(t, errs)
	last.bearerProblem(t, "token_expired")

	refreshed := c.refresh(t, reg.RefreshToken).tokens(t, http.StatusOK)
	assert.Equal(t, reg.User.ID, refreshed.User.ID, "the refresh token outlives the access token")
}

// testWrongIssuer: two servers on one database share their signing keys,
// but each accepts only tokens that name it as their issuer.
func testWrongIssuer(t *testing.T, b backend) {
	db := b.database(t)
	const urlA, urlB = "https://a.e2e.example", "https://b.e2e.example"
	email, password := newEmail("issuer"), newPassword()

	a := startServer(t, with(db, map[string]string{"GATEHOUSE_PUBLIC_URL": urlA}))
	ca := newClient(t, a)
	fromA := ca.register(t, email, password)
	assert.Equal(t, urlA, jwtClaims(t, fromA.AccessToken)["iss"])
	ca.me(t, fromA.AccessToken).user(t)
	if !b.concurrent {
		a.stop(t)
	}

	srvB := startServer(t, with(db, map[string]string{"GATEHOUSE_PUBLIC_URL": urlB}))
	cb := newClient(t, srvB)
	fromB := cb.login(t, email, password)
	assert.Equal(t, urlB, jwtClaims(t, fromB.AccessToken)["iss"])
	cb.me(t, fromB.AccessToken).user(t)
	// The two share their keys, so the issuer is all that differs.
	assert.Equal(t, kidOf(t, fromA.AccessToken), kidOf(t, fromB.AccessToken))

	cb.me(t, fromA.AccessToken).bearerProblem(t, "invalid_token")
	if b.concurrent {
		ca.me(t, fromB.AccessToken).bearerProblem(t, "invalid_token")
	}
}
