package accesstoken_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/accesstoken"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/fake"
)

const (
	testIssuer   = "https://auth.example.com"
	testAudience = "gatehouse"
	testTTL      = 15 * time.Minute
	testReload   = 30 * time.Second
	// testActivation is how long after its creation a key starts to sign,
	// as the package doc gives it: ReloadInterval + JWKSMaxAge + Leeway,
	// with the 60 seconds of the JWKS endpoint's max-age written out, so
	// that changing JWKSMaxAge alone fails these tests.
	testActivation = testReload + 60*time.Second + 5*time.Second
	// testRetention is how long a key stays published after its
	// successor activates: ReloadInterval + TTL + Leeway.
	testRetention = testReload + testTTL + 5*time.Second
)

var (
	testSecret = []byte("0123456789abcdef0123456789abcdef")
	// t0 is a whole second, so that NumericDates round-trip exactly.
	t0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
)

// fakeKeys is an in-memory domain.KeyStore that counts its reads and can
// be told to fail them.
type fakeKeys struct {
	mu      sync.Mutex
	keys    []domain.SigningKey
	lists   int
	listErr error
	addErr  error
}

func (f *fakeKeys) Add(_ context.Context, k domain.SigningKey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.addErr != nil {
		return f.addErr
	}
	for _, s := range f.keys {
		if s.ID == k.ID {
			return fmt.Errorf("fake: duplicate key %s", k.ID)
		}
	}
	k.PublicKey = bytes.Clone(k.PublicKey)
	k.EncryptedPrivateKey = bytes.Clone(k.EncryptedPrivateKey)
	f.keys = append(f.keys, k)
	return nil
}

func (f *fakeKeys) List(context.Context) ([]domain.SigningKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	if f.listErr != nil {
		return nil, f.listErr
	}
	out := slices.Clone(f.keys)
	slices.SortStableFunc(out, func(a, b domain.SigningKey) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

func (f *fakeKeys) listCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists
}

func (f *fakeKeys) failLists(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listErr = err
}

func (f *fakeKeys) failAdds(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addErr = err
}

// ids returns the IDs of the stored keys.
func (f *fakeKeys) ids() []string {
	var ids []string
	for _, k := range f.stored() {
		ids = append(ids, k.ID)
	}
	return ids
}

func (f *fakeKeys) stored() []domain.SigningKey {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.keys)
}

// skewedClock is a replica's clock: base, off by offset.
type skewedClock struct {
	base   *fake.Clock
	offset time.Duration
}

func (c skewedClock) Now() time.Time { return c.base.Now().Add(c.offset) }

// env is one database's key store and the clock its replicas share.
type env struct {
	keys  *fakeKeys
	clock *fake.Clock
}

func newEnv() *env {
	return &env{keys: &fakeKeys{}, clock: fake.NewClock(t0)}
}

func (e *env) config() accesstoken.Config {
	return accesstoken.Config{
		Issuer:         testIssuer,
		Audience:       testAudience,
		TTL:            testTTL,
		Secret:         testSecret,
		Keys:           e.keys,
		Clock:          e.clock,
		ReloadInterval: testReload,
	}
}

// replica starts one more Issuer (a process) on e's store.
func (e *env) replica(t testing.TB) *accesstoken.Issuer {
	t.Helper()
	iss, err := accesstoken.New(t.Context(), e.config())
	require.NoError(t, err)
	return iss
}

// createdAt returns when the stored key kid was created.
func (e *env) createdAt(t testing.TB, kid string) time.Time {
	t.Helper()
	for _, k := range e.keys.stored() {
		if k.ID == kid {
			return k.CreatedAt
		}
	}
	t.Fatalf("no stored key %s", kid)
	return time.Time{}
}

// claims returns claims issued now by e's clock, valid for testTTL.
func (e *env) claims() domain.Claims {
	now := e.clock.Now()
	return domain.Claims{
		ID:            "jti-" + now.Format(time.RFC3339Nano),
		Subject:       "user-1",
		SessionID:     "session-1",
		Tier:          domain.TierMember,
		EmailVerified: true,
		Methods:       []domain.AuthMethod{domain.AuthPassword},
		AAL:           domain.AAL1,
		IssuedAt:      now,
		ExpiresAt:     now.Add(testTTL),
	}
}

// issue issues e.claims() with iss.
func (e *env) issue(t testing.TB, iss *accesstoken.Issuer) string {
	t.Helper()
	tok, err := iss.Issue(t.Context(), e.claims())
	require.NoError(t, err)
	return tok
}

// privateKey decrypts the stored key kid the way the package documents,
// independently of its code.
func (e *env) privateKey(t testing.TB, kid string) *ecdsa.PrivateKey {
	t.Helper()
	for _, k := range e.keys.stored() {
		if k.ID == kid {
			return openDocumented(t, testSecret, k)
		}
	}
	t.Fatalf("no stored key %s", kid)
	return nil
}

// openDocumented decrypts k.EncryptedPrivateKey as the package doc says:
// nonce || AES-256-GCM(PKCS #8), AAD = kid, key = HKDF-SHA256(secret, no
// salt, "gatehouse signing key v1").
func openDocumented(t testing.TB, secret []byte, k domain.SigningKey) *ecdsa.PrivateKey {
	t.Helper()
	aesKey, err := hkdf.Key(sha256.New, secret, nil, "gatehouse signing key v1", 32)
	require.NoError(t, err)
	block, err := aes.NewCipher(aesKey)
	require.NoError(t, err)
	gcm, err := cipher.NewGCM(block)
	require.NoError(t, err)
	ns := gcm.NonceSize()
	der, err := gcm.Open(nil, k.EncryptedPrivateKey[:ns], k.EncryptedPrivateKey[ns:], []byte(k.ID))
	require.NoError(t, err)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	require.NoError(t, err)
	priv, ok := parsed.(*ecdsa.PrivateKey)
	require.True(t, ok, "private key is %T", parsed)
	return priv
}

// jwksKids returns the kids of iss's JWKS in order.
func jwksKids(t testing.TB, iss *accesstoken.Issuer) []string {
	t.Helper()
	raw, err := iss.JWKS(t.Context())
	require.NoError(t, err)
	var doc struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	kids := make([]string, 0, len(doc.Keys))
	for _, k := range doc.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

// signingKid returns the kid of a token iss issues now.
func (e *env) signingKid(t testing.TB, iss *accesstoken.Issuer) string {
	t.Helper()
	return header(t, e.issue(t, iss))["kid"].(string)
}

// header decodes token's JOSE header.
func header(t testing.TB, token string) map[string]any {
	t.Helper()
	return segment(t, token, 0)
}

// payload decodes token's claims.
func payload(t testing.TB, token string) map[string]any {
	t.Helper()
	return segment(t, token, 1)
}

func segment(t testing.TB, token string, n int) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[n])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

// validHeader is the header Gatehouse signs.
func validHeader(kid string) map[string]any {
	return map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": kid}
}

// validClaims are claims Verify accepts at now.
func validClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss":            testIssuer,
		"aud":            testAudience,
		"sub":            "user-1",
		"sid":            "session-1",
		"tier":           "free",
		"email_verified": false,
		"iat":            now.Unix(),
		"exp":            now.Add(testTTL).Unix(),
		"jti":            "forged",
	}
}

// forge builds a compact JWS with exactly hdr and claims, signed by method
// with key: a token as an attacker (or another library) would make it.
func forge(t testing.TB, hdr, claims map[string]any, method jwt.SigningMethod, key any) string {
	t.Helper()
	h, err := json.Marshal(hdr)
	require.NoError(t, err)
	c, err := json.Marshal(claims)
	require.NoError(t, err)
	input := b64(h) + "." + b64(c)
	sig, err := method.Sign(input, key)
	require.NoError(t, err)
	return input + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// with returns a copy of m with the changes applied; a nil value deletes.
func with(m map[string]any, changes map[string]any) map[string]any {
	out := make(map[string]any, len(m))
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

// requireInvalid asserts that err is ErrInvalidAccessToken, not expiry, and
// does not quote token.
func requireInvalid(t testing.TB, err error, token string) {
	t.Helper()
	require.ErrorIs(t, err, domain.ErrInvalidAccessToken)
	require.NotErrorIs(t, err, domain.ErrAccessTokenExpired)
	requireNotQuoted(t, err, token)
}

// requireNotQuoted asserts that err's text contains no part of token.
func requireNotQuoted(t testing.TB, err error, token string) {
	t.Helper()
	for part := range strings.SplitSeq(token, ".") {
		if len(part) >= 8 {
			require.NotContains(t, err.Error(), part)
		}
	}
}

// logBuffer is a slog handler target that tests can read while issuers
// write to it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, nil))
}

var errStoreDown = errors.New("store down")
