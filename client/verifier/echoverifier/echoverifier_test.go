package echoverifier_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/client/verifier"
	"github.com/gatehouse-auth/gatehouse/client/verifier/echoverifier"
)

func TestEchoRoutesAdmitByTierAndAAL(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	}))
	t.Cleanup(jwks.Close)
	v, err := verifier.New(verifier.Config{JWKSURL: jwks.URL, Issuer: "https://auth.example.com"})
	require.NoError(t, err)
	sign := func(tier, aal string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
			"iss": "https://auth.example.com", "aud": "gatehouse", "sub": "user-1", "tier": tier, "aal": aal,
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(),
		})
		tok.Header["typ"], tok.Header["kid"] = "at+jwt", "k1"
		s, err := tok.SignedString(key)
		require.NoError(t, err)
		return s
	}

	e := echo.New()
	api := e.Group("/api", echoverifier.Middleware(v))
	hello := func(c echo.Context) error {
		claims, ok := echoverifier.Claims(c)
		if !ok {
			return echo.ErrInternalServerError
		}
		return c.String(http.StatusOK, claims.Subject)
	}
	api.GET("/me", hello)
	api.GET("/members", hello, echoverifier.RequireTier(v, "member"))
	api.GET("/secure", hello, echoverifier.RequireAAL2(v))
	call := func(path, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}

	rec := call("/api/me", sign("free", "aal1"))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "user-1", rec.Body.String(), "the claims reached the handler")
	rec = call("/api/me", "")
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, `Bearer realm="gatehouse"`, rec.Header().Get("WWW-Authenticate"))
	assert.Equal(t, http.StatusForbidden, call("/api/members", sign("free", "aal1")).Code)
	assert.Equal(t, http.StatusOK, call("/api/members", sign("member", "aal1")).Code)
	assert.Equal(t, http.StatusForbidden, call("/api/secure", sign("member", "aal1")).Code)
	assert.Equal(t, http.StatusOK, call("/api/secure", sign("free", "aal2")).Code)
}
