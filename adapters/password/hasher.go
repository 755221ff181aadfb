// Package password hashes and verifies passwords: it is Gatehouse's
// domain.PasswordHasher.
//
// New hashes are argon2id with the OWASP parameters (19 MiB of memory, two
// passes, one lane), stored as PHC strings that the reference argon2
// implementation and other libraries read and write:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// bcrypt hashes imported from elsewhere ($2a$, $2b$, $2y$) still verify, and
// always ask to be rehashed. Every hash and verification holds one of a
// fixed number of slots, so a burst of logins queues instead of exhausting
// memory or starving the rest of the server of CPU.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Errors Verify returns for an encoding it cannot use. Their messages never
// contain the encoded hash or the password.
var (
	// ErrUnknownScheme means the encoded hash is neither argon2id nor bcrypt.
	ErrUnknownScheme = errors.New("password: unknown hash scheme")
	// ErrMalformedHash means the encoded hash names a known scheme but does
	// not parse, or carries parameters outside the bounds this package
	// accepts.
	ErrMalformedHash = errors.New("password: malformed hash")
)

// The parameters of every new hash: OWASP's first argon2id recommendation.
var current = argon2Params{
	memory:  19456, // KiB
	time:    2,
	threads: 1,
	saltLen: 16,
	keyLen:  32,
}

// Config configures a Hasher.
type Config struct {
	// Concurrency is how many hashes and verifications may run at once.
	// Each argon2id run holds 19 MiB and one core for tens of
	// milliseconds. Zero or less means runtime.GOMAXPROCS(0).
	Concurrency int
}

// Hasher is the argon2id implementation of domain.PasswordHasher. Its
// methods are safe for concurrent use.
type Hasher struct {
	slots   chan struct{}
	waiting atomic.Int64
}

var _ domain.PasswordHasher = (*Hasher)(nil)

// NewHasher returns a Hasher configured by cfg.
func NewHasher(cfg Config) *Hasher {
	n := cfg.Concurrency
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return &Hasher{slots: make(chan struct{}, n)}
}

// Waiting returns how many calls are waiting for a free slot right now:
// the queue an operator watches to see whether hashing keeps up with load.
func (h *Hasher) Waiting() int {
	return int(h.waiting.Load())
}

// Hash returns the argon2id PHC string of password with a fresh random
// salt. It returns ctx's error when ctx ends before a slot is free.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, current.saltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never returns an error; it crashes the program instead
	var key []byte
	err := h.withSlot(ctx, func() {
		key = current.key(password, salt)
	})
	if err != nil {
		return "", err
	}
	return encodeArgon2id(current, salt, key), nil
}

// Verify reports whether password matches encoded, an argon2id PHC string
// or a bcrypt hash. On a match, rehash is true when encoded is bcrypt or
// its argon2id parameters differ from those Hash uses now. It returns
// ErrUnknownScheme or ErrMalformedHash (wrapped) for an encoding it cannot
// use, without waiting for a slot, and ctx's error when ctx ends before a
// slot is free.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (match, rehash bool, err error) {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		return h.verifyArgon2id(ctx, encoded, password)
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		return h.verifyBcrypt(ctx, encoded, password)
	default:
		return false, false, ErrUnknownScheme
	}
}

func (h *Hasher) verifyArgon2id(ctx context.Context, encoded, password string) (match, rehash bool, err error) {
	p, salt, want, err := parseArgon2id(encoded)
	if err != nil {
		return false, false, err
	}
	var got []byte
	if err := h.withSlot(ctx, func() { got = p.key(password, salt) }); err != nil {
		return false, false, err
	}
	match = subtle.ConstantTimeCompare(got, want) == 1
	return match, match && p != current, nil
}

func (h *Hasher) verifyBcrypt(ctx context.Context, encoded, password string) (match, rehash bool, err error) {
	if err := checkBcrypt(encoded); err != nil {
		return false, false, err
	}
	var cmpErr error
	if err := h.withSlot(ctx, func() {
		// Like the systems that wrote these hashes, bcrypt reads only the
		// first 72 bytes of password; the argon2id rehash keeps them all.
		cmpErr = bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password))
	}); err != nil {
		return false, false, err
	}
	switch {
	case cmpErr == nil:
		return true, true, nil
	case errors.Is(cmpErr, bcrypt.ErrMismatchedHashAndPassword):
		return false, false, nil
	default:
		// bcrypt's own errors may quote bytes of the hash; say less.
		return false, false, ErrMalformedHash
	}
}

// withSlot runs fn while holding a slot. A caller whose ctx has already
// ended gets ctx's error without running fn, even when a slot is free: its
// client has gone, and the work would only delay those still waiting.
func (h *Hasher) withSlot(ctx context.Context, fn func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.slots <- struct{}{}:
	default:
		if err := h.wait(ctx); err != nil {
			return err
		}
	}
	defer func() { <-h.slots }()
	fn()
	return nil
}

// wait blocks until a slot is taken or ctx ends, counted by Waiting.
func (h *Hasher) wait(ctx context.Context) error {
	h.waiting.Add(1)
	defer h.waiting.Add(-1)
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// argon2Params are the cost parameters and lengths of one argon2id hash.
type argon2Params struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	saltLen int
	keyLen  int
}

func (p argon2Params) key(password string, salt []byte) []byte {
	return argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, uint32(p.keyLen))
}
