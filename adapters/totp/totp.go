// Package totp makes and checks the time-based one-time codes of
// authenticator apps (RFC 6238 with SHA-1, 6 digits and 30-second steps,
// what every app supports) with github.com/pquerna/otp, and draws the QR
// code that enrols a key in an app. It implements domain.TOTP.
package totp

import (
	"bytes"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/adapters/setting"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// The parameters of every key: those of RFC 6238's reference and of every
// authenticator app.
const (
	period     = 30 // seconds per step
	digits     = otp.DigitsSix
	secretSize = 20 // bytes: the HMAC-SHA-1 block's worth that RFC 4226 recommends
	qrSize     = 256
)

// issuerVar names the issuer that authenticator apps show beside the
// account.
const issuerVar = "GATEHOUSE_TOTP_ISSUER"

// DefaultIssuer is GATEHOUSE_TOTP_ISSUER when it is unset.
const DefaultIssuer = "Gatehouse"

// ReadIssuer reads GATEHOUSE_TOTP_ISSUER through r: the name an
// authenticator app lists the account under. A colon is refused, since
// it separates the issuer from the account in an otpauth:// label.
func ReadIssuer(r *setting.Reader) string {
	issuer := r.String(issuerVar, DefaultIssuer)
	if issuer == "" || strings.Contains(issuer, ":") {
		r.Fail(issuerVar, "%q must be a non-empty name without a colon", issuer)
	}
	return issuer
}

// Codes implements domain.TOTP for one issuer.
type Codes struct{ issuer string }

// New returns the codes of keys issued under issuer (see ReadIssuer).
func New(issuer string) *Codes { return &Codes{issuer: issuer} }

var _ domain.TOTP = (*Codes)(nil)

// Enrol makes a new random key for account and its otpauth:// URI, with
// the URI drawn as a PNG QR code in a data: URI.
func (c *Codes) Enrol(account string) (domain.TOTPEnrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: c.issuer, AccountName: account,
		Period: period, SecretSize: secretSize, Digits: digits, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return domain.TOTPEnrolment{}, fmt.Errorf("totp: generate key: %w", err)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key.Secret())
	if err != nil {
		return domain.TOTPEnrolment{}, fmt.Errorf("totp: decode key: %w", err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return domain.TOTPEnrolment{}, fmt.Errorf("totp: draw QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return domain.TOTPEnrolment{}, fmt.Errorf("totp: encode QR code: %w", err)
	}
	return domain.TOTPEnrolment{
		Secret: secret,
		Text:   key.Secret(),
		URI:    key.URL(),
		QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()),
	}, nil
}

// Match returns the step, of now's and the one on either side, whose code
// under secret is code. Every candidate is compared in constant time, so
// the answer's timing tells nothing of which step, if any, matched.
func (c *Codes) Match(secret []byte, code string, now time.Time) (int64, bool) {
	if len(code) != int(digits) {
		return 0, false
	}
	encoded := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	step := now.Unix() / period
	var matched int64
	found := 0
	for _, s := range []int64{step - 1, step, step + 1} {
		want, err := totp.GenerateCodeCustom(encoded, time.Unix(s*period, 0), totp.ValidateOpts{
			Period: period, Digits: digits, Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			matched, found = s, found+1
		}
	}
	return matched, found > 0
}
