package domain

import (
	_ "embed"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Bounds on a password's length, in characters (Unicode code points, so
// that "é" counts once whatever its encoding takes).
const (
	MinPasswordLength = 8
	MaxPasswordLength = 256
)

// minLocalPartLength is the shortest email local part a password may not
// contain. Shorter ones ("al", "jo") occur in too many good passwords.
const minLocalPartLength = 3

// commonPasswordList is zxcvbn's list of common passwords, those of at
// least MinPasswordLength characters (shorter ones fail on length anyway).
// The file's header names its source and licence.
//
//go:embed commonpasswords.txt
var commonPasswordList string

// commonPasswords is the set of lines of commonPasswordList, built on first
// use.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 16384)
	for line := range strings.Lines(commonPasswordList) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[line] = struct{}{}
	}
	return set
})

// CheckPassword applies the password policy to a new password for the
// account with email (empty for none). It returns nil, or a
// *ValidationError whose problems all concern the field "password":
//
//   - invalid_password: password is not valid UTF-8. It is reported alone,
//     since characters cannot be counted. (The HTTP API refuses such a
//     body before any use case sees it.)
//   - too_short, too_long: fewer than MinPasswordLength or more than
//     MaxPasswordLength characters. Every character counts, spaces
//     included, and a long password is rejected, never truncated.
//   - weak_password: password is in the list of common passwords, ignoring
//     case and surrounding white space, or it contains the local part of
//     email (the part before the last @, or all of it when there is no @),
//     ignoring case, when that part has at least 3 characters.
//
// There are no composition rules (digits, symbols, mixed case), following
// NIST SP 800-63B. CheckPassword only judges: callers pass the password in
// its normal form (see PasswordNormalizer), so that it counts characters
// as a user sees them, and hash that form, never trimmed.
func CheckPassword(password, email string) error {
	var v ValidationError
	if !utf8.ValidString(password) {
		v.Add("password", "invalid_password", "Password must be text: it contains bytes that are not valid UTF-8.")
		return v.Err()
	}
	switch n := utf8.RuneCountInString(password); {
	case n < MinPasswordLength:
		v.Add("password", "too_short", "Password must be at least "+strconv.Itoa(MinPasswordLength)+" characters long.")
	case n > MaxPasswordLength:
		v.Add("password", "too_long", "Password must be at most "+strconv.Itoa(MaxPasswordLength)+" characters long.")
	}
	lower := strings.ToLower(password)
	if _, common := commonPasswords()[strings.TrimSpace(lower)]; common {
		v.Add("password", "weak_password", "This password is too common; choose one that is harder to guess.")
	} else if local := emailLocalPart(email); utf8.RuneCountInString(local) >= minLocalPartLength && strings.Contains(lower, local) {
		v.Add("password", "weak_password", "Password must not contain the part of your email address before the @.")
	}
	return v.Err()
}

// emailLocalPart returns the normalised part of email before its last @, or
// all of it when it has none.
func emailLocalPart(email string) string {
	email = NormalizeEmail(email)
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		return email[:at]
	}
	return email
}
