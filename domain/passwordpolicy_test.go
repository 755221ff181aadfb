package domain_test

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// passwordCodes returns the codes of the problems CheckPassword reports,
// after checking that each is a well-formed problem with the password.
func passwordCodes(t *testing.T, password, email string) []string {
	t.Helper()
	err := domain.CheckPassword(password, email)
	if err == nil {
		return nil
	}
	var v *domain.ValidationError
	require.True(t, errors.As(err, &v), "error %v is not a *ValidationError", err)
	require.NotEmpty(t, v.Problems)
	codes := make([]string, len(v.Problems))
	for i, p := range v.Problems {
		assert.Equal(t, "password", p.Field)
		first, _ := utf8.DecodeRuneInString(p.Message)
		assert.True(t, unicode.IsUpper(first) && strings.HasSuffix(p.Message, "."),
			"message %q is not a sentence", p.Message)
		codes[i] = p.Code
	}
	return codes
}

func TestCheckPasswordLength(t *testing.T) {
	tests := []struct {
		name     string
		password string
		want     []string
	}{
		{"empty", "", []string{"too_short"}},
		{"7 two-byte characters", strings.Repeat("é", 7), []string{"too_short"}},  // 14 bytes
		{"7 four-byte characters", strings.Repeat("🔑", 7), []string{"too_short"}}, // 28 bytes
		{"8 two-byte characters", strings.Repeat("é", 8), nil},
		{"8 characters with spaces", "  x  y  ", nil},
		{"256 two-byte characters", strings.Repeat("ж", 256), nil}, // 512 bytes
		{"257 two-byte characters", strings.Repeat("ж", 257), []string{"too_long"}},
		{"256 four-byte characters", strings.Repeat("🔑", 256), nil},
		{"257 ASCII characters", strings.Repeat("k", 257), []string{"too_long"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, passwordCodes(t, tt.password, "ada@example.com"))
		})
	}
}

func TestCheckPasswordRejectsCommonPasswords(t *testing.T) {
	for _, pw := range []string{
		"12345678",
		"password",
		"password123",
		"PASSWORD",
		"PassWord123",
		"  password\t", // surrounding white space does not make it rarer
		"Trustno1",
		"dimazarya", // the last entry of the list: the whole file is read
	} {
		assert.Equal(t, []string{"weak_password"}, passwordCodes(t, pw, "ada@example.com"), "password %q", pw)
	}
	for _, pw := range []string{
		"pass word123",           // inner white space makes another password
		"password123-but-longer", // containing a common password is fine
		"correct horse battery staple",
	} {
		assert.Nil(t, passwordCodes(t, pw, "ada@example.com"), "password %q", pw)
	}
}

func TestCheckPasswordRejectsEmailLocalPart(t *testing.T) {
	tests := []struct {
		name, password, email string
		want                  []string
	}{
		{"contains it", "my-lovelace-2026", "lovelace@example.com", []string{"weak_password"}},
		{"in another case", "My-LoveLace-2026", "lovelace@example.com", []string{"weak_password"}},
		{"email in another case", "my-lovelace-2026", " LoveLace@Example.COM ", []string{"weak_password"}},
		{"is it", "lovelace", "lovelace@example.com", []string{"weak_password"}},
		{"3 characters count", "canada-geese-fly", "ada@example.com", []string{"weak_password"}},
		{"3 non-ASCII characters count", "trøllåsen-øle-2026", "øle@example.com", []string{"weak_password"}},
		{"and too short", "ada1", "ada@example.com", []string{"too_short", "weak_password"}},
		{"2 characters do not", "always-alpine-albatross", "al@example.com", nil},
		{"2 four-byte characters do not", "ÅÉ-is-in-here-ÅÉ", "ÅÉ@example.com", nil},
		{"domain does not", "example-com-fan-club", "ada@example.com", nil},
		{"quoted local part", `say-"bob@c"-ok`, `"bob@c"@example.com`, []string{"weak_password"}},
		{"last @ splits", `say-"bob-ok`, `"bob@c"@example.com`, nil},
		{"no @: all of it", "x-notanemail-x", "notanemail", []string{"weak_password"}},
		{"no email", "my-lovelace-2026", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, passwordCodes(t, tt.password, tt.email))
		})
	}
}

func TestCheckPasswordRejectsInvalidUTF8(t *testing.T) {
	assert.Equal(t, []string{"invalid_password"}, passwordCodes(t, "passw\xffrd-long-enough", "ada@example.com"))
	assert.Equal(t, []string{"invalid_password"}, passwordCodes(t, "\xc3", ""), "reported alone, not with too_short")
}

func TestCheckPasswordAcceptsLongRandomPassphrase(t *testing.T) {
	// 200 characters from a 64-symbol alphabet: not common, no "ada".
	pw := rand.Text() + rand.Text() + rand.Text() + rand.Text()
	pw = strings.Repeat(pw, 2)[:200]
	require.Equal(t, 200, utf8.RuneCountInString(pw))
	assert.NoError(t, domain.CheckPassword(pw, "lovelace@example.com"))
	assert.NoError(t, domain.CheckPassword("Ünïcödé pässphrase wïth 日本語 and spaces 🔑", "lovelace@example.com"))
}
