package totp_test

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/setting"
	"github.com/gatehouse-auth/gatehouse/adapters/totp"
	"github.com/gatehouse-auth/gatehouse/test/otptest"
)

// codeOfStep is the authenticator app's code of time step step, from the
// tests' own RFC 6238 implementation (otptest), not from the library the
// package uses.
func codeOfStep(secret []byte, step int64) string {
	return otptest.Code(secret, time.Unix(step*30, 0))
}

func TestMatchAcceptsTheCodesOfNowAndOneStepAround(t *testing.T) {
	codes := totp.New("Gatehouse")
	secret := []byte("12345678901234567890")
	now := time.Unix(1795683615, 0) // mid-step
	step := now.Unix() / 30

	for _, s := range []int64{step - 1, step, step + 1} {
		got, ok := codes.Match(secret, codeOfStep(secret, s), now)
		assert.True(t, ok, "step %+d", s-step)
		assert.Equal(t, s, got, "the step that matched")
	}
	for _, s := range []int64{step - 2, step + 2} {
		_, ok := codes.Match(secret, codeOfStep(secret, s), now)
		assert.False(t, ok, "step %+d is too far", s-step)
	}
	valid := codeOfStep(secret, step)
	for _, bad := range []string{"", "12345", "1234567", valid + " ", " " + valid, valid + valid[:2]} {
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
	step, ok := codes.Match(e.Secret, otptest.Code(e.Secret, now), now)
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
