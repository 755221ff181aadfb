package memstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// errKeyIDTaken stands for the primary-key violation the schema raises when
// a key ID is stored twice. No domain error names it: the signing adapter
// draws IDs at random, so a collision is a bug.
var errKeyIDTaken = errors.New("key id already stored")

// keyStore is the domain.KeyStore. Keys belong to no unit of work, so they
// live apart from data under a lock of their own: InTx neither copies nor
// holds them, and a key store call never waits for a unit of work, nor one
// for it; a call from inside a unit of work is refused (see outside).
type keyStore struct {
	outside outside
	mu      sync.Mutex
	keys    map[string]domain.SigningKey // by ID; byte slices owned by the store
}

func newKeyStore(o outside) *keyStore {
	return &keyStore{outside: o, keys: map[string]domain.SigningKey{}}
}

// Add stores a copy of k; see domain.KeyStore.
func (s *keyStore) Add(ctx context.Context, k domain.SigningKey) error {
	if err := s.outside.check(ctx, "add signing key"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[k.ID]; ok {
		return fmt.Errorf("memstore: add signing key: %w", errKeyIDTaken)
	}
	k.CreatedAt = dbTime(k.CreatedAt)
	s.keys[k.ID] = copyKey(k)
	return nil
}

// List returns copies of every key, newest first, then by ID, greatest
// first, as the Postgres store orders them; see domain.KeyStore.
func (s *keyStore) List(ctx context.Context) ([]domain.SigningKey, error) {
	if err := s.outside.check(ctx, "list signing keys"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	keys := make([]domain.SigningKey, 0, len(s.keys))
	for _, k := range s.keys {
		keys = append(keys, copyKey(k))
	}
	s.mu.Unlock()
	slices.SortFunc(keys, func(a, b domain.SigningKey) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	return keys, nil
}

// copyKey returns k with byte slices of its own, so that neither the caller
// nor the store sees the other's later changes.
func copyKey(k domain.SigningKey) domain.SigningKey {
	k.PublicKey = slices.Clone(k.PublicKey)
	k.EncryptedPrivateKey = slices.Clone(k.EncryptedPrivateKey)
	return k
}
