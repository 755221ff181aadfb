package totp_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/setting"
	"github.com/gatehouse-auth/gatehouse/adapters/totp"
)

// rfc6238 is the test's own RFC 6238 implementation (HMAC-SHA-1, 30 s
// steps), independent of the library the package uses: the code of step
// with digits digits.
func rfc6238(secret []byte, step int64, digits int) string {
	mac := hmac.New(sha1.New, secret)
	_ = binary.Write(mac, binary.BigEndian, step)
	sum := mac.Sum(nil)
	offset := sum[len(sum)-1] & 0x0f
	n := binary.BigEndian.Uint32(sum[offset:offset+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, n%mod)
}

// The test's implementation agrees with RFC 6238's own test vectors
// (appendix B, SHA-1), so that what it says of the package means
// something.
func TestTheTestsRFC6238MatchesTheRFC(t *testing.T) {
	secret := []byte("12345678901234567890")
	for unix, want := range map[int64]string{59: "94287082", 1111111109: "07081804", 1234567890: "89005924", 20000000000: "65353130"} {
		assert.Equal(t, want, rfc6238(secret, unix/30, 8), "T=%d", unix)
	}
}

func TestMatchAcceptsTheCodesOfNowAndOneStepAround(t *testing.T) {
	codes := totp.New("Gatehouse")
	secret := []byte("12345678901234567890")
	now := time.Unix(1795683615, 0) // mid-step
	step := now.Unix() / 30

	for _, s := range []int64{step - 1, step, step + 1} {
		got, ok := codes.Match(secret, rfc6238(secret, s, 6), now)
		assert.True(t, ok, "step %+d", s-step)
		assert.Equal(t, s, got, "the step that matched")
	}
	for _, s := range []int64{step - 2, step + 2} {
		_, ok := codes.Match(secret, rfc6238(secret, s, 6), now)
		assert.False(t, ok, "step %+d is too far", s-step)
	}
	valid := rfc6238(secret, step, 6)
	for _, bad := range []string{"", "12345", "1234567", valid + " ", " " + valid, rfc6238(secret, step, 8)} {
		_, ok := codes.Match(secret, bad, now)
		assert.False(t, ok, "%q", bad)
	}
	_, ok := codes.Match([]byte("another secret entirely"), valid, now)
	assert.False(t, ok, "another key's code")
}

func TestEnrolMakesAKeyAnAppCanUse(t *testing.T) {
	codes := totp.New("Example Co")
	e, err := codes.Enrol("ada@example.com")
	require.NoError(t, err)

	assert.Len(t, e.Secret, 20, "160 bits, as RFC 4226 recommends")
	decoded, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(e.Text)
	require.NoError(t, err)
	assert.Equal(t, e.Secret, decoded, "the text is the key in base32")

	u, err := url.Parse(e.URI)
	require.NoError(t, err)
	assert.Equal(t, "otpauth", u.Scheme)
	assert.Equal(t, "totp", u.Host)
	assert.Equal(t, "/Example Co:ada@example.com", u.Path)
	q := u.Query()
	assert.Equal(t, e.Text, q.Get("secret"))
	assert.Equal(t, "Example Co", q.Get("issuer"))
	assert.Equal(t, "SHA1", q.Get("algorithm"))
	assert.Equal(t, "6", q.Get("digits"))
	assert.Equal(t, "30", q.Get("period"))

	data, ok := strings.CutPrefix(e.QRCode, "data:image/png;base64,")
	require.True(t, ok, e.QRCode[:min(40, len(e.QRCode))])
	raw, err := base64.StdEncoding.DecodeString(data)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, 256, img.Bounds().Dx())

	now := time.Now()
	step, ok := codes.Match(e.Secret, rfc6238(e.Secret, now.Unix()/30, 6), now)
	assert.True(t, ok, "the enrolled key's codes match")
	assert.Equal(t, now.Unix()/30, step)

	other, err := codes.Enrol("ada@example.com")
	require.NoError(t, err)
	assert.NotEqual(t, e.Secret, other.Secret, "every key is new")
}

func TestReadIssuer(t *testing.T) {
	read := func(v string) (string, error) {
		r := setting.NewReader(func(name string) string {
			if name == "GATEHOUSE_TOTP_ISSUER" {
				return v
			}
			return ""
		})
		return totp.ReadIssuer(r), r.Err()
	}
	issuer, err := read("")
	require.NoError(t, err)
	assert.Equal(t, "Gatehouse", issuer)
	issuer, err = read("Example Co")
	require.NoError(t, err)
	assert.Equal(t, "Example Co", issuer)
	_, err = read("Example:Co")
	assert.ErrorContains(t, err, "GATEHOUSE_TOTP_ISSUER")
}
