package fake

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
)

// Hasher is a domain.PasswordHasher that "hashes" by prefixing, so that
// flows run fast: Hash(pw) is "fake$"+pw. A stored "legacy$"+pw also
// matches pw but asks for a rehash, as a hash in an older scheme does. It
// counts its calls, so tests can tell whether a password was checked.
type Hasher struct{ hashes, verifies atomic.Int64 }

// Hash returns "fake$" + password.
func (h *Hasher) Hash(_ context.Context, password string) (string, error) {
	h.hashes.Add(1)
	return "fake$" + password, nil
}

// Verify reports whether encoded is password's hash, and whether it is in
// the "legacy" scheme; a hash in no scheme it knows is an error.
func (h *Hasher) Verify(_ context.Context, encoded, password string) (match, rehash bool, err error) {
	h.verifies.Add(1)
	scheme, rest, _ := strings.Cut(encoded, "$")
	if scheme != "fake" && scheme != "legacy" {
		return false, false, errors.New("fake: malformed hash")
	}
	return rest == password, scheme == "legacy" && rest == password, nil
}

// Hashes returns how many times Hash was called.
func (h *Hasher) Hashes() int64 { return h.hashes.Load() }

// Verifies returns how many times Verify was called.
func (h *Hasher) Verifies() int64 { return h.verifies.Load() }
