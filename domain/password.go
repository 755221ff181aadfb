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
