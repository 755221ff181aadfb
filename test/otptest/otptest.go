// Package otptest computes the codes of an authenticator app for tests:
// an RFC 6238 implementation of its own (HMAC-SHA-1, 30-second steps, 6
// digits), independent of the library Gatehouse checks codes with, so
// that a test proves Gatehouse agrees with the standard rather than with
// itself.
package otptest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// Step is the length of one TOTP time step.
const Step = 30 * time.Second

// Code returns the 6-digit code an authenticator app shows for secret at t.
func Code(secret []byte, t time.Time) string {
	return codeOfStep(secret, t.Unix()/int64(Step/time.Second), 6)
}

// CodeOfText is Code for a key as an app takes it typed in: base32,
// without padding.
func CodeOfText(text string, t time.Time) (string, error) {
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(text))
	if err != nil {
		return "", fmt.Errorf("otptest: key is not base32: %w", err)
	}
	return Code(secret, t), nil
}

// codeOfStep is RFC 4226's HOTP of counter step with digits digits.
func codeOfStep(secret []byte, step int64, digits int) string {
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
