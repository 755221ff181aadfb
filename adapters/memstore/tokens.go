package memstore

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// errHashTaken stands for the unique violation the schema raises when a hash
// is stored twice. No domain error names it: hashes of random secrets never
// collide unless the caller has a bug.
var errHashTaken = errors.New("hash already stored")

// tokenStore is the domain.TokenStore over a db.
type tokenStore struct{ db db }

// Create stores t with a new ID; see domain.TokenStore.
func (s tokenStore) Create(ctx context.Context, t domain.Token) (domain.Token, error) {
	err := s.db.do(ctx, func(d *data) error {
		if !t.Kind.Valid() {
			return fmt.Errorf("memstore: create token: %w", domain.ErrInvalidTokenKind)
		}
		if slices.Contains(t.Methods, domain.AuthMethod{}) {
			return fmt.Errorf("memstore: create token: %w: the zero method", domain.ErrInvalidAuthMethod)
		}
		if _, ok := d.users[t.UserID]; !ok && t.UserID != "" {
			return fmt.Errorf("memstore: create token: user: %w", violation{domain.ErrNotFound})
		}
		if _, ok := d.tokens[t.Hash]; ok {
			return fmt.Errorf("memstore: create token: %w", violation{errHashTaken})
		}
		t.ID = newID()
		t.Methods = copyMethods(t.Methods)
		t.Data = copyData(t.Data)
		t.ExpiresAt = dbTime(t.ExpiresAt)
		t.CreatedAt = dbTime(t.CreatedAt)
		d.tokens[t.Hash] = t
		return nil
	})
	if err != nil {
		return domain.Token{}, err
	}
	return tokenOut(t), nil
}

// Consume deletes and returns the unexpired token of kind with hash; see
// domain.TokenStore. Holding the db for the whole check-and-delete is what
// lets exactly one of many concurrent calls win.
func (s tokenStore) Consume(ctx context.Context, kind domain.TokenKind, hash string, now time.Time) (domain.Token, error) {
	var t domain.Token
	err := s.db.do(ctx, func(d *data) error {
		var err error
		if t, err = d.liveToken("consume token", kind, hash, now); err == nil {
			delete(d.tokens, hash)
		}
		return err
	})
	if err != nil {
		return domain.Token{}, err
	}
	return tokenOut(t), nil
}

// Find returns the unexpired token of kind with hash; see domain.TokenStore.
func (s tokenStore) Find(ctx context.Context, kind domain.TokenKind, hash string, now time.Time) (domain.Token, error) {
	var t domain.Token
	err := s.db.do(ctx, func(d *data) error {
		var err error
		t, err = d.liveToken("find token", kind, hash, now)
		return err
	})
	if err != nil {
		return domain.Token{}, err
	}
	return tokenOut(t), nil
}

// tokenOut returns t as the store hands it out: with a copy of its
// methods and data, which the store's own data shares with no caller.
func tokenOut(t domain.Token) domain.Token {
	t.Methods = copyMethods(t.Methods)
	t.Data = copyData(t.Data)
	return t
}

// copyData returns a copy of b, nil when b is empty, as the database
// store reads back an empty data column.
func copyData(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return bytes.Clone(b)
}

// liveToken returns the token of kind with hash unexpired at now, or
// ErrNotFound wrapped with op.
func (d *data) liveToken(op string, kind domain.TokenKind, hash string, now time.Time) (domain.Token, error) {
	t, ok := d.tokens[hash]
	if !ok || t.Kind != kind || !now.Before(t.ExpiresAt) {
		return domain.Token{}, fmt.Errorf("memstore: %s: %w", op, domain.ErrNotFound)
	}
	return t, nil
}

// DeleteByUser deletes the user's tokens of kind; see domain.TokenStore.
func (s tokenStore) DeleteByUser(ctx context.Context, id domain.UserID, kind domain.TokenKind) (int, error) {
	n := 0
	err := s.db.do(ctx, func(d *data) error {
		for hash, t := range d.tokens {
			if t.UserID == id && id != "" && t.Kind == kind {
				delete(d.tokens, hash)
				n++
			}
		}
		return nil
	})
	return n, err
}

// DeleteExpired deletes at most limit tokens that expired at or before now,
// those that expired first first; see domain.TokenStore.
func (s tokenStore) DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	n := 0
	err := s.db.do(ctx, func(d *data) error {
		var expired []domain.Token
		for _, t := range d.tokens {
			if !now.Before(t.ExpiresAt) {
				expired = append(expired, t)
			}
		}
		slices.SortFunc(expired, func(a, b domain.Token) int {
			return cmp.Or(a.ExpiresAt.Compare(b.ExpiresAt), cmp.Compare(a.ID, b.ID))
		})
		for _, t := range expired[:min(max(limit, 0), len(expired))] {
			delete(d.tokens, t.Hash)
			n++
		}
		return nil
	})
	return n, err
}
