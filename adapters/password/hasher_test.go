package password_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-auth/gatehouse/adapters/password"
)

// phcPattern is the exact shape of a hash made with the current
// parameters: 16-byte salt and 32-byte key in unpadded standard Base64.
var phcPattern = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashVerifyRoundTrip(t *testing.T) {
	h := password.NewHasher(password.Config{})
	ctx := context.Background()

	encoded, err := h.Hash(ctx, "correct horse battery staple")
	require.NoError(t, err)
	assert.Regexp(t, phcPattern, encoded)

	match, rehash, err := h.Verify(ctx, encoded, "correct horse battery staple")
	require.NoError(t, err)
	assert.True(t, match)
	assert.False(t, rehash, "a hash with the current parameters needs no rehash")

	match, rehash, err = h.Verify(ctx, encoded, "correct horse battery stapler")
	require.NoError(t, err)
	assert.False(t, match)
	assert.False(t, rehash)
}

func TestHashUsesFreshSalt(t *testing.T) {
	h := password.NewHasher(password.Config{})
	ctx := context.Background()

	a, err := h.Hash(ctx, "same password twice")
	require.NoError(t, err)
	b, err := h.Hash(ctx, "same password twice")
	require.NoError(t, err)

	saltOf := func(encoded string) string { return strings.Split(encoded, "$")[4] }
	assert.NotEqual(t, saltOf(a), saltOf(b))
	assert.NotEqual(t, a, b)
	for _, encoded := range []string{a, b} {
		match, _, err := h.Verify(ctx, encoded, "same password twice")
		require.NoError(t, err)
		assert.True(t, match)
	}
}

// referenceVectors were produced by the Argon2 reference implementation's
// command-line tool (github.com/P-H-C/phc-winner-argon2, Debian package
// argon2 0~20171227-0.3+deb12u1), for instance
//
//	printf %s 'correct horse battery staple' | argon2 gatehouse-vector -id -t 2 -k 19456 -p 1 -l 32 -e
//
// The first is also the Argon2id case in that repository's src/test.c
// (argon2 somesalt -id -t 2 -m 16 -p 1 -l 32 -e).
var referenceVectors = []struct {
	name, encoded, password string
	rehash                  bool
}{
	{
		name:     "reference test.c",
		encoded:  "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		password: "password",
		rehash:   true, // 64 MiB and an 8-byte salt: not the current parameters
	},
	{
		name:     "current parameters",
		encoded:  "$argon2id$v=19$m=19456,t=2,p=1$Z2F0ZWhvdXNlLXZlY3Rvcg$ffmpyDwBjll0hZuwfi5Tap3giuuqXrt9A50zAnKl07U",
		password: "correct horse battery staple",
		rehash:   false,
	},
	{
		name:     "current parameters, non-ASCII password",
		encoded:  "$argon2id$v=19$m=19456,t=2,p=1$Z2F0ZWhvdXNlLXZlY3Rvcg$s+98BuJkKYQe8ZF7qvJRAxRXFS4D5+xdsk5k1oE1oBQ",
		password: "pässwörd-ü-日本語",
		rehash:   false,
	},
	{
		name:     "two lanes, 16-byte tag",
		encoded:  "$argon2id$v=19$m=12288,t=3,p=2$Z2F0ZWhvdXNlLXZlY3Rvcg$vFtgwzWQ2lRcaGVlt3PR5g",
		password: "password",
		rehash:   true,
	},
}

func TestVerifyReferenceVectors(t *testing.T) {
	h := password.NewHasher(password.Config{})
	ctx := context.Background()
	for _, v := range referenceVectors {
		t.Run(v.name, func(t *testing.T) {
			match, rehash, err := h.Verify(ctx, v.encoded, v.password)
			require.NoError(t, err)
			assert.True(t, match)
			assert.Equal(t, v.rehash, rehash)

			match, rehash, err = h.Verify(ctx, v.encoded, v.password+"x")
			require.NoError(t, err)
			assert.False(t, match)
			assert.False(t, rehash)
		})
	}
}

func TestVerifyBcrypt(t *testing.T) {
	h := password.NewHasher(password.Config{})
	ctx := context.Background()
	generated, err := bcrypt.GenerateFromPassword([]byte("imported from elsewhere"), 10)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(generated), "$2a$10$"))

	// $2b$ and $2y$ name the same algorithm as $2a$ for such passwords, so
	// relabelling the hash gives a valid hash of each prefix.
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		t.Run(prefix, func(t *testing.T) {
			encoded := prefix + string(generated[4:])

			match, rehash, err := h.Verify(ctx, encoded, "imported from elsewhere")
			require.NoError(t, err)
			assert.True(t, match)
			assert.True(t, rehash, "a matching bcrypt hash is always upgraded")

			match, rehash, err = h.Verify(ctx, encoded, "imported from elsewhere!")
			require.NoError(t, err)
			assert.False(t, match)
			assert.False(t, rehash)
		})
	}
}

func TestVerifyRejectsUnknownSchemes(t *testing.T) {
	h := password.NewHasher(password.Config{})
	for _, encoded := range []string{
		"",
		"password",
		"$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA",
		"$argon2d$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$ARGON2ID$v=19$m=19456,t=2,p=1$Z2F0ZWhvdXNlLXZlY3Rvcg$ffmpyDwBjll0hZuwfi5Tap3giuuqXrt9A50zAnKl07U",
		"$2x$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"$1$saltsalt$qjXMvbEw8oaL.CzflDugX/",
		"$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
		"argon2id$v=19$m=19456,t=2,p=1$Z2F0ZWhvdXNlLXZlY3Rvcg$ffmpyDwBjll0hZuwfi5Tap3giuuqXrt9A50zAnKl07U",
	} {
		match, rehash, err := h.Verify(context.Background(), encoded, "password")
		require.ErrorIs(t, err, password.ErrUnknownScheme, "encoded %q", encoded)
		assert.False(t, match)
		assert.False(t, rehash)
	}
}

// tamper returns the second reference vector with old replaced by new once.
func tamper(t *testing.T, old, new string) string {
	t.Helper()
	const valid = "$argon2id$v=19$m=19456,t=2,p=1$Z2F0ZWhvdXNlLXZlY3Rvcg$ffmpyDwBjll0hZuwfi5Tap3giuuqXrt9A50zAnKl07U"
	require.Contains(t, valid, old)
	return strings.Replace(valid, old, new, 1)
}

func TestVerifyRejectsMalformedHashes(t *testing.T) {
	h := password.NewHasher(password.Config{})
	const pw = "correct horse battery staple"
	bcryptHash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	require.NoError(t, err)
	tests := map[string]string{
		"no fields":                "$argon2id$",
		"missing version":          tamper(t, "$v=19", ""),
		"version 1.0":              "$argon2id$v=16$m=65536,t=2,p=1$c29tZXNhbHQ$mA69JKTmZ/FjRvnUp4sXVyh4NhPgzG+xfC7IhLFkNd8",
		"version with sign":        tamper(t, "v=19", "v=+19"),
		"missing hash":             tamper(t, "$ffmpyDwBjll0hZuwfi5Tap3giuuqXrt9A50zAnKl07U", ""),
		"empty hash":               tamper(t, "ffmpyDwBjll0hZuwfi5Tap3giuuqXrt9A50zAnKl07U", ""),
		"extra field":              tamper(t, "07U", "07U$"),
		"parameters out of order":  tamper(t, "m=19456,t=2", "t=2,m=19456"),
		"extra parameter":          tamper(t, "p=1", "p=1,keyid=AA"),
		"missing parameter":        tamper(t, ",p=1", ""),
		"leading zero":             tamper(t, "m=19456", "m=019456"),
		"signed parameter":         tamper(t, "t=2", "t=+2"),
		"space in parameter":       tamper(t, "t=2", "t= 2"),
		"overflowing parameter":    tamper(t, "m=19456", "m=4294967296"),
		"padded salt":              tamper(t, "Z2F0ZWhvdXNlLXZlY3Rvcg", "Z2F0ZWhvdXNlLXZlY3Rvcg=="),
		"URL-safe alphabet -":      tamper(t, "ffmpy", "ff-py"),
		"URL-safe alphabet _":      tamper(t, "ffmpy", "ff_py"),
		"newline in hash":          tamper(t, "ffmpy", "ff\nmpy"),
		"stray bits in hash":       tamper(t, "07U", "07V"),
		"salt too short":           tamper(t, "Z2F0ZWhvdXNlLXZlY3Rvcg", "c2hvcnRzYQ"), // 7 bytes
		"salt too long":            tamper(t, "Z2F0ZWhvdXNlLXZlY3Rvcg", strings.Repeat("AAAA", 22)),
		"hash too short":           tamper(t, "ffmpyDwBjll0hZuwfi5Tap3giuuqXrt9A50zAnKl07U", "ffmpyDwBjll0hZuwfi5T"), // 15 bytes
		"hash too long":            tamper(t, "07U", "07U"+strings.Repeat("AAAA", 12)),
		"bcrypt truncated":         string(bcryptHash[:59]),
		"bcrypt trailing garbage":  string(bcryptHash) + "x",
		"bcrypt cost below 4":      "$2a$03" + string(bcryptHash[6:]),
		"bcrypt cost not a number": "$2a$1x" + string(bcryptHash[6:]),
		"bcrypt bad character":     string(bcryptHash[:59]) + "*",
	}
	for name, encoded := range tests {
		t.Run(name, func(t *testing.T) {
			match, rehash, err := h.Verify(context.Background(), encoded, pw)
			require.ErrorIs(t, err, password.ErrMalformedHash)
			assert.False(t, match)
			assert.False(t, rehash)
			assertQuiet(t, err, encoded, pw)
		})
	}
}

// TestVerifyRejectsCostlyParameters also proves the parameters are
// checked before any work: with an ended context, a hash that got as far
// as waiting for a slot would report the context's error instead.
func TestVerifyRejectsCostlyParameters(t *testing.T) {
	h := password.NewHasher(password.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	bcryptHash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	require.NoError(t, err)
	for name, encoded := range map[string]string{
		"memory over 1 GiB":   tamper(t, "m=19456", "m=1048577"),
		"memory at 4 GiB":     tamper(t, "m=19456", "m=4294967295"),
		"11 passes":           tamper(t, "t=2", "t=11"),
		"17 lanes":            tamper(t, "m=19456,t=2,p=1", "m=19456,t=2,p=17"),
		"zero passes":         tamper(t, "t=2", "t=0"),
		"zero lanes":          tamper(t, "p=1", "p=0"),
		"memory below 8/lane": tamper(t, "m=19456,t=2,p=1", "m=15,t=2,p=2"),
		"bcrypt cost 16":      "$2a$16" + string(bcryptHash[6:]),
		"bcrypt cost 31":      "$2a$31" + string(bcryptHash[6:]),
	} {
		t.Run(name, func(t *testing.T) {
			match, rehash, err := h.Verify(ctx, encoded, "pw")
			require.ErrorIs(t, err, password.ErrMalformedHash)
			assert.False(t, match)
			assert.False(t, rehash)
		})
	}
}

func TestVerifyAcceptsParametersAtTheBounds(t *testing.T) {
	h := password.NewHasher(password.Config{})
	salt := []byte("0123456789abcdef")
	for _, c := range []struct {
		memory, time uint32
		threads      uint8
	}{
		{memory: 64, time: 10, threads: 1},
		{memory: 128, time: 1, threads: 16},
	} {
		key := argon2.IDKey([]byte("pw at the bounds"), salt, c.time, c.memory, c.threads, 32)
		encoded := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", c.memory, c.time, c.threads,
			base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))

		match, rehash, err := h.Verify(context.Background(), encoded, "pw at the bounds")
		require.NoError(t, err, encoded)
		assert.True(t, match, encoded)
		assert.True(t, rehash, encoded)
	}
}

// assertQuiet checks that err tells neither the password nor any part of
// the encoded hash.
func assertQuiet(t *testing.T, err error, encoded, pw string) {
	t.Helper()
	msg := err.Error()
	assert.NotContains(t, msg, pw)
	assert.NotContains(t, msg, "$")
	for _, field := range strings.Split(encoded, "$") {
		if len(field) > len("argon2id") { // salts, hashes and parameters
			assert.NotContains(t, msg, field)
		}
	}
}

func TestVerifyDoesNotTruncate(t *testing.T) {
	h := password.NewHasher(password.Config{})
	ctx := context.Background()

	long := strings.Repeat("é", 255) + "a" // 256 characters, 511 bytes
	encoded, err := h.Hash(ctx, long)
	require.NoError(t, err)
	match, _, err := h.Verify(ctx, encoded, long)
	require.NoError(t, err)
	assert.True(t, match)
	match, _, err = h.Verify(ctx, encoded, long[:len(long)-1]+"b")
	require.NoError(t, err)
	assert.False(t, match, "the last character of a 256-character password counts")

	// bcrypt would read only the first 72 bytes of these.
	prefix := strings.Repeat("x", 72)
	encoded, err = h.Hash(ctx, prefix+"one")
	require.NoError(t, err)
	match, _, err = h.Verify(ctx, encoded, prefix+"two")
	require.NoError(t, err)
	assert.False(t, match, "bytes after the 72nd count")
	match, _, err = h.Verify(ctx, encoded, prefix)
	require.NoError(t, err)
	assert.False(t, match)
}

func TestEndedContextDoesNoWork(t *testing.T) {
	h := password.NewHasher(password.Config{Concurrency: 4})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	encoded, err := h.Hash(ctx, "correct horse battery staple")
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, encoded)

	match, rehash, err := h.Verify(ctx, referenceVectors[1].encoded, referenceVectors[1].password)
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, match)
	assert.False(t, rehash)
}
