package domain

import "context"

// PasswordHasher turns passwords into encoded hashes and checks passwords
// against them. Implementations bound how many hashes run at once, so a
// burst of logins cannot exhaust memory; ctx bounds the wait for a turn.
type PasswordHasher interface {
	// Hash returns the encoded hash of password in the current scheme. It
	// returns ctx's error when ctx ends before a turn is free.
	Hash(ctx context.Context, password string) (string, error)
	// Verify reports whether password matches encoded. When it matches and
	// encoded uses an older scheme or weaker parameters, rehash is true and
	// the caller should store Hash(password) in its place. A malformed or
	// unknown encoding is an error, and so is ctx ending before a turn.
	Verify(ctx context.Context, encoded, password string) (match, rehash bool, err error)
}

// PasswordNormalizer puts passwords into one Unicode normal form, so that a
// password is the same password however a keyboard, an input method or an
// operating system composed its characters ("é" as one code point or as
// "e" and a combining accent). The password policy judges, and hashes are
// made of, the normal form.
type PasswordNormalizer interface {
	// NormalizePassword returns password in the normal form. It never
	// fails; bytes that are not UTF-8 are returned unchanged.
	NormalizePassword(password string) string
}
