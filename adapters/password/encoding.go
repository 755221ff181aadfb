package password

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Bounds on what Verify accepts from an encoded hash. Stored hashes are
// trusted no more than they must be: one with absurd costs would let
// whoever wrote it tie up the server's memory and CPU on every login.
const (
	maxMemory     = 1 << 20 // KiB: 1 GiB
	maxTime       = 10
	maxThreads    = 16
	minSaltLen    = 8 // the reference implementation's minimum
	maxSaltLen    = 64
	minKeyLen     = 16 // shorter tags make a false match plausible
	maxKeyLen     = 64
	maxBcryptCost = 15 // 32 times the work of cost 10, the usual cost of imported hashes
)

// argonVersion is Argon2 version 1.3, the one golang.org/x/crypto/argon2
// implements.
const argonVersion = 19

// b64 is the PHC string format's Base64: standard alphabet, no padding,
// no stray bits.
var b64 = base64.RawStdEncoding.Strict()

// encodeArgon2id returns the PHC string of an argon2id hash.
func encodeArgon2id(p argon2Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argonVersion, p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// parseArgon2id parses an argon2id PHC string strictly: version 19, the
// parameters m, t and p in that order as canonical decimals within bounds,
// and a salt and a hash of sensible lengths.
func parseArgon2id(encoded string) (p argon2Params, salt, key []byte, err error) {
	fields := strings.Split(encoded, "$")
	if len(fields) != 6 || fields[0] != "" || fields[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: not an argon2id PHC string", ErrMalformedHash)
	}
	if fields[2] != "v="+strconv.Itoa(argonVersion) {
		return p, nil, nil, fmt.Errorf("%w: unsupported argon2 version", ErrMalformedHash)
	}
	m, t, threads, ok := parseArgon2Costs(fields[3])
	if !ok {
		return p, nil, nil, fmt.Errorf("%w: bad argon2 parameters", ErrMalformedHash)
	}
	if m > maxMemory || t < 1 || t > maxTime || threads < 1 || threads > maxThreads || m < 8*threads {
		return p, nil, nil, fmt.Errorf("%w: argon2 parameters out of bounds", ErrMalformedHash)
	}
	salt, ok = decodeB64(fields[4])
	if !ok || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return p, nil, nil, fmt.Errorf("%w: bad salt", ErrMalformedHash)
	}
	key, ok = decodeB64(fields[5])
	if !ok || len(key) < minKeyLen || len(key) > maxKeyLen {
		return p, nil, nil, fmt.Errorf("%w: bad hash", ErrMalformedHash)
	}
	p = argon2Params{
		memory:  m,
		time:    t,
		threads: uint8(threads),
		saltLen: len(salt),
		keyLen:  len(key),
	}
	return p, salt, key, nil
}

// parseArgon2Costs parses "m=M,t=T,p=P".
func parseArgon2Costs(s string) (m, t, p uint32, ok bool) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	m, okM := parseCost(parts[0], "m=")
	t, okT := parseCost(parts[1], "t=")
	p, okP := parseCost(parts[2], "p=")
	return m, t, p, okM && okT && okP
}

// parseCost parses name followed by a decimal without sign or leading
// zeros that fits in 32 bits, as the PHC string format requires.
func parseCost(s, name string) (uint32, bool) {
	digits, ok := strings.CutPrefix(s, name)
	if !ok || digits == "" || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, 10, 32)
	return uint32(n), err == nil
}

// decodeB64 decodes s strictly. encoding/base64 skips newlines, so a
// string that decodes is also checked to be exactly its own re-encoding's
// length.
func decodeB64(s string) ([]byte, bool) {
	b, err := b64.DecodeString(s)
	if err != nil || b64.EncodedLen(len(b)) != len(s) {
		return nil, false
	}
	return b, true
}

// checkBcrypt checks that encoded, which Verify has seen start with $2a$,
// $2b$ or $2y$, has the exact shape of a bcrypt hash: a two-digit cost
// within bounds, then 53 characters of bcrypt's alphabet. It runs before any
// time is spent on the hash; the bcrypt package itself would accept
// trailing garbage and any cost up to 31.
func checkBcrypt(encoded string) error {
	const size = 60 // "$2b$" + "10" + "$" + 22 salt + 31 hash
	if len(encoded) != size || encoded[6] != '$' {
		return fmt.Errorf("%w: not a bcrypt hash", ErrMalformedHash)
	}
	cost, err := strconv.Atoi(encoded[4:6])
	if err != nil || encoded[4] < '0' || encoded[4] > '9' || cost < 4 || cost > maxBcryptCost {
		return fmt.Errorf("%w: bcrypt cost out of bounds", ErrMalformedHash)
	}
	for i := 7; i < size; i++ {
		if !isBcryptChar(encoded[i]) {
			return fmt.Errorf("%w: not a bcrypt hash", ErrMalformedHash)
		}
	}
	return nil
}

func isBcryptChar(c byte) bool {
	return c == '.' || c == '/' || ('0' <= c && c <= '9') || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z')
}
