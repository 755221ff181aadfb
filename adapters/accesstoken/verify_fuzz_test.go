package accesstoken_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/accesstoken"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// fuzzKid is the ID of fuzzKey in the store.
const fuzzKid = "fuzz-signing-key-000001"

// fuzzKey returns a P-256 key that is the same in every run, so that the
// tokens in testdata/fuzz stay signed by a stored key and a crashing input
// reproduces.
func fuzzKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	d := sha256.Sum256([]byte("gatehouse accesstoken fuzz key"))
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	require.NoError(t, err)
	return k
}

// fuzzSigningKey stores fuzzKey as the package doc describes, created
// long before t0 so that it signs and verifies then.
func fuzzSigningKey(t testing.TB) domain.SigningKey {
	t.Helper()
	priv := fuzzKey(t)
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	require.NoError(t, err)
	return domain.SigningKey{
		ID:                  fuzzKid,
		Algorithm:           "ES256",
		PublicKey:           pub,
		EncryptedPrivateKey: sealDocumented(t, testSecret, fuzzKid, priv),
		CreatedAt:           t0.Add(-24 * time.Hour),
	}
}

// verifyFuzz is an Issuer whose one key is fuzzKey, and the one token it
// issued: every other token Verify accepts must carry the same header and
// claims.
type verifyFuzz struct {
	iss     *accesstoken.Issuer
	now     time.Time
	token   string
	claims  domain.Claims
	header  []byte // the issued token's decoded header
	payload []byte // and claims
	public  *ecdsa.PublicKey
}

func newVerifyFuzz(f *testing.F) *verifyFuzz {
	f.Helper()
	e := newEnv()
	e.keys.keys = []domain.SigningKey{fuzzSigningKey(f)}
	iss := e.replica(f)
	v := &verifyFuzz{iss: iss, now: t0, claims: e.claims(), public: &fuzzKey(f).PublicKey}
	var err error
	v.token, err = iss.Issue(f.Context(), v.claims)
	require.NoError(f, err)
	parts := strings.Split(v.token, ".")
	require.Len(f, parts, 3)
	v.header = decodeSegment(f, parts[0])
	v.payload = decodeSegment(f, parts[1])
	require.Equal(f, fuzzKid, header(f, v.token)["kid"], "the fixed key signs")
	require.True(f, v.genuine(v.token), "the oracle recognises the issued token")
	return v
}

func decodeSegment(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	require.NoError(t, err)
	return b
}

// check verifies token and fails t unless the outcome is the one an
// independent oracle predicts: Verify accepts exactly the tokens whose
// header and claims segments are the issued ones, canonically encoded, and
// whose signature the fixed key's public half verifies (an ECDSA signature
// has more than one valid encoding, so that is not only the issued
// token), returning the issued claims; it refuses everything else as
// ErrInvalidAccessToken, without quoting the token.
func (v *verifyFuzz) check(t *testing.T, token string) {
	genuine := v.genuine(token)
	claims, err := v.iss.Verify(t.Context(), token, v.now)
	switch {
	case err == nil && !genuine:
		t.Fatalf("Verify accepted %q, which does not carry the issued header and claims under a valid signature", token)
	case err == nil && !sameClaims(claims, v.claims):
		t.Fatalf("Verify(%q) = %+v, want the issued claims %+v", token, claims, v.claims)
	case err != nil && genuine:
		t.Fatalf("Verify refused %q, which carries the issued header and claims under a valid signature: %v", token, err)
	case err != nil:
		// The issued token is not expired at now, so an expiry would mean
		// that a token with other claims passed the signature check.
		if !errors.Is(err, domain.ErrInvalidAccessToken) || errors.Is(err, domain.ErrAccessTokenExpired) {
			t.Fatalf("Verify(%q) = %v, want ErrInvalidAccessToken alone", token, err)
		}
		requireNotQuoted(t, err, token)
	}
}

// genuine reports, without the package's code, whether token is the issued
// header and claims with a valid ES256 signature by the fixed key.
func (v *verifyFuzz) genuine(token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	strict := base64.RawURLEncoding.Strict()
	hdr, errH := strict.DecodeString(parts[0])
	pay, errP := strict.DecodeString(parts[1])
	sig, errS := strict.DecodeString(parts[2])
	if errH != nil || errP != nil || errS != nil || len(sig) != 64 ||
		!bytes.Equal(hdr, v.header) || !bytes.Equal(pay, v.payload) {
		return false
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	return ecdsa.Verify(v.public, digest[:], r, s)
}

func sameClaims(a, b domain.Claims) bool {
	return a.ID == b.ID && a.Subject == b.Subject && a.SessionID == b.SessionID && a.Tier == b.Tier &&
		a.EmailVerified == b.EmailVerified && slices.Equal(a.Methods, b.Methods) && a.AAL == b.AAL &&
		a.IssuedAt.Equal(b.IssuedAt) && a.ExpiresAt.Equal(b.ExpiresAt)
}

// FuzzVerify gives Verify arbitrary strings: the issued token, tokens built
// to attack it, and whatever the fuzzer makes of them. Verify must never
// panic, never accept a token whose header or claims differ from the
// issued one, and refuse everything else as ErrInvalidAccessToken.
func FuzzVerify(f *testing.F) {
	v := newVerifyFuzz(f)
	parts := strings.Split(v.token, ".")
	real := fuzzKey(f)
	stranger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(f, err)
	hdr, claims := validHeader(fuzzKid), validClaims(v.now)
	signed := func(h, c map[string]any) string { return forge(f, h, c, jwt.SigningMethodES256, real) }

	for _, s := range []string{
		v.token,
		"",
		".",
		"..",
		"...",
		"a.b.c",
		parts[0] + "." + parts[1] + ".",
		parts[0] + "." + parts[1],
		parts[0] + "." + parts[1] + "." + parts[2] + "=",
		parts[0] + "." + parts[1] + "." + parts[2] + ".",
		parts[0] + "=." + parts[1] + "." + parts[2],
		parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-1],
		parts[1] + "." + parts[0] + "." + parts[2],
		strings.ToUpper(v.token),
		// The other valid encoding of the same signature: (r, n-s).
		parts[0] + "." + parts[1] + "." + highS(f, parts[2]),
		" " + v.token,
		v.token + "\x00",
		// Signed with another key under the stored kid.
		forge(f, hdr, claims, jwt.SigningMethodES256, stranger),
		// Signed with the real key, but refused for their header.
		signed(with(hdr, map[string]any{"alg": "none"}), claims),
		signed(with(hdr, map[string]any{"typ": "JWT"}), claims),
		signed(with(hdr, map[string]any{"typ": nil}), claims),
		signed(with(hdr, map[string]any{"kid": nil}), claims),
		signed(with(hdr, map[string]any{"kid": 1}), claims),
		signed(with(hdr, map[string]any{"crit": []string{"exp"}}), claims),
		signed(with(hdr, map[string]any{"jku": "https://evil.example/jwks.json"}), claims),
		// The none algorithm, unsigned.
		b64([]byte(`{"alg":"none","typ":"at+jwt","kid":"`+fuzzKid+`"}`)) + "." + parts[1] + ".",
		// HS256 with the public key as the secret.
		forge(f, with(hdr, map[string]any{"alg": "HS256"}), claims, jwt.SigningMethodHS256, elliptic.P256().Params().P.Bytes()),
		strings.Repeat("A", 8<<10) + "." + parts[1] + "." + parts[2],
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) { v.check(t, token) })
}

// highS returns the ES256 signature sig (r || s, base64url) with s
// replaced by n-s, which verifies as well: ECDSA signatures are malleable.
func highS(t testing.TB, sig string) string {
	t.Helper()
	raw := decodeSegment(t, sig)
	require.Len(t, raw, 64)
	s := new(big.Int).SetBytes(raw[32:])
	s.Sub(elliptic.P256().Params().N, s)
	s.FillBytes(raw[32:])
	return b64(raw)
}

// FuzzVerifyMutated applies an edit script to the issued token and checks
// the result as FuzzVerify does: near misses of a valid token, which
// arbitrary strings seldom are. Each four bytes of the script are one edit:
// an operation, a big-endian position (modulo the length) and a byte.
//
//	op%6 = 0: replace the byte at the position with the byte
//	       1: insert the byte at the position
//	       2: delete the byte at the position
//	       3: xor the byte at the position with the byte (or 1)
//	       4: xor a byte of the decoded header (even position) or claims
//	          (odd) with the byte (or 1), and encode the segment again
//	       5: swap the bytes at the position and at the byte's value
//
// An empty script leaves the token as issued, which must verify.
func FuzzVerifyMutated(f *testing.F) {
	v := newVerifyFuzz(f)
	last := len(v.token) - 1
	dot1 := strings.IndexByte(v.token, '.')
	dot2 := strings.LastIndexByte(v.token, '.')
	edit := func(op byte, pos int, val byte) []byte { return []byte{op, byte(pos >> 8), byte(pos), val} }
	for _, script := range [][]byte{
		nil,
		edit(0, 0, 'A'),
		edit(0, dot1, 'A'),
		edit(0, dot2+1, '.'),
		edit(1, dot1, '.'),
		edit(1, 0, ' '),
		edit(1, last+1, '='),
		edit(2, last, 0),
		edit(2, dot2, 0),
		edit(3, last, 1),
		edit(3, last, 0x20),
		edit(3, dot2-1, 1),
		edit(3, dot1+10, 0x20),
		edit(4, 0, 0x20),
		edit(4, 1, 0x01),
		edit(4, 25, 0x01),
		edit(5, 1, 2),
		append(edit(0, 0, 'e'), edit(2, 1, 0)...),
	} {
		f.Add(script)
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		token := []byte(v.token)
		for ; len(script) >= 4; script = script[4:] {
			op, pos, val := script[0], int(binary.BigEndian.Uint16(script[1:3])), script[3]
			if len(token) == 0 {
				if op%6 == 1 {
					token = append(token, val)
				}
				continue
			}
			switch op % 6 {
			case 0:
				token[pos%len(token)] = val
			case 1:
				pos %= len(token) + 1
				token = append(token[:pos], append([]byte{val}, token[pos:]...)...)
			case 2:
				pos %= len(token)
				token = append(token[:pos], token[pos+1:]...)
			case 3:
				token[pos%len(token)] ^= max(val, 1)
			case 4:
				token = flipDecoded(token, pos, max(val, 1))
			case 5:
				i, j := pos%len(token), int(val)%len(token)
				token[i], token[j] = token[j], token[i]
			}
		}
		v.check(t, string(token))
	})
}

// flipDecoded xors one byte of the decoded header (even pos) or claims (odd
// pos) of token with x, and encodes the segment again, canonically. It
// leaves a token whose segment does not decode as it is.
func flipDecoded(token []byte, pos int, x byte) []byte {
	parts := bytes.SplitN(token, []byte("."), 3)
	seg := pos % 2
	if seg >= len(parts) {
		return token
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(string(parts[seg]))
	if err != nil || len(raw) == 0 {
		return token
	}
	raw[(pos/2)%len(raw)] ^= x
	parts[seg] = []byte(base64.RawURLEncoding.EncodeToString(raw))
	return bytes.Join(parts, []byte("."))
}
