package memstore

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// factorStore is the domain.FactorStore over a db.
type factorStore struct{ db db }

// Create stores f with a new ID; see domain.FactorStore.
func (s factorStore) Create(ctx context.Context, f domain.Factor) (domain.Factor, error) {
	err := s.db.do(ctx, func(d *data) error {
		if f.Kind == (domain.FactorKind{}) {
			return fmt.Errorf("memstore: create factor: %w", domain.ErrInvalidFactorKind)
		}
		if _, ok := d.users[f.UserID]; !ok {
			return fmt.Errorf("memstore: create factor: user: %w", violation{domain.ErrNotFound})
		}
		for _, have := range d.factors {
			if have.UserID == f.UserID && have.Kind == f.Kind {
				return fmt.Errorf("memstore: create factor: %w", violation{domain.ErrFactorExists})
			}
		}
		f.ID = domain.FactorID(newID())
		f.Secret = bytes.Clone(f.Secret)
		f.CreatedAt = dbTime(f.CreatedAt)
		f.VerifiedAt = dbTime(f.VerifiedAt)
		d.factors[f.ID] = f
		return nil
	})
	if err != nil {
		return domain.Factor{}, err
	}
	return factorOut(f), nil
}

// ByUser returns the user's factors, oldest first, then by ID; see
// domain.FactorStore.
func (s factorStore) ByUser(ctx context.Context, id domain.UserID) ([]domain.Factor, error) {
	factors := []domain.Factor{}
	err := s.db.do(ctx, func(d *data) error {
		for _, f := range d.factors {
			if f.UserID == id {
				factors = append(factors, factorOut(f))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(factors, func(a, b domain.Factor) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return factors, nil
}

// AcceptStep advances the factor's LastStep to step, and marks it verified
// at now unless it is; see domain.FactorStore. Holding the db for the
// whole check-and-update is what lets exactly one of many concurrent calls
// with one step win.
func (s factorStore) AcceptStep(ctx context.Context, id domain.FactorID, step int64, now time.Time) error {
	return s.db.do(ctx, func(d *data) error {
		f, ok := d.factors[id]
		if !ok {
			return fmt.Errorf("memstore: accept factor step: %w", domain.ErrNotFound)
		}
		if step <= f.LastStep {
			return fmt.Errorf("memstore: accept factor step: %w", domain.ErrCodeReplayed)
		}
		f.LastStep = step
		if f.VerifiedAt.IsZero() {
			f.VerifiedAt = dbTime(now)
		}
		d.factors[id] = f
		return nil
	})
}

// Delete removes the factor with id; see domain.FactorStore.
func (s factorStore) Delete(ctx context.Context, id domain.FactorID) error {
	return s.db.do(ctx, func(d *data) error {
		if _, ok := d.factors[id]; !ok {
			return fmt.Errorf("memstore: delete factor: %w", domain.ErrNotFound)
		}
		delete(d.factors, id)
		return nil
	})
}

// DeleteByUser removes the user's factors; see domain.FactorStore.
func (s factorStore) DeleteByUser(ctx context.Context, id domain.UserID) (int, error) {
	n := 0
	err := s.db.do(ctx, func(d *data) error {
		n = d.deleteFactors(id)
		return nil
	})
	return n, err
}

// deleteFactors deletes the user's factors, as the schema's cascade does
// when the user goes, and returns how many it deleted.
func (d *data) deleteFactors(user domain.UserID) int {
	return deleteOwned(d.factors, user, func(f domain.Factor) domain.UserID { return f.UserID })
}

// deleteOwned deletes the values of m whose owner is user and returns how
// many it deleted: the cascade of a user's rows that only hang on it.
func deleteOwned[K comparable, V any](m map[K]V, user domain.UserID, owner func(V) domain.UserID) int {
	n := 0
	for k, v := range m {
		if owner(v) == user {
			delete(m, k)
			n++
		}
	}
	return n
}

// factorOut returns f as the store hands it out: with a copy of its
// secret, which the store's own data shares with no caller.
func factorOut(f domain.Factor) domain.Factor {
	f.Secret = bytes.Clone(f.Secret)
	return f
}
