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

// passkeyStore is the domain.PasskeyStore over a db.
type passkeyStore struct{ db db }

// Create stores p with a new ID; see domain.PasskeyStore.
func (s passkeyStore) Create(ctx context.Context, p domain.Passkey) (domain.Passkey, error) {
	err := s.db.do(ctx, func(d *data) error {
		if _, ok := d.users[p.UserID]; !ok {
			return fmt.Errorf("memstore: create passkey: user: %w", violation{domain.ErrNotFound})
		}
		for _, have := range d.passkeys {
			if bytes.Equal(have.CredentialID, p.CredentialID) {
				return fmt.Errorf("memstore: create passkey: %w", violation{domain.ErrPasskeyExists})
			}
		}
		p.ID = domain.PasskeyID(newID())
		p = passkeyOut(p)
		p.CreatedAt = dbTime(p.CreatedAt)
		p.LastUsedAt = dbTime(p.LastUsedAt)
		d.passkeys[p.ID] = p
		return nil
	})
	if err != nil {
		return domain.Passkey{}, err
	}
	return passkeyOut(p), nil
}

// ByUser returns the user's passkeys, oldest first, then by ID; see
// domain.PasskeyStore.
func (s passkeyStore) ByUser(ctx context.Context, id domain.UserID) ([]domain.Passkey, error) {
	passkeys := []domain.Passkey{}
	err := s.db.do(ctx, func(d *data) error {
		for _, p := range d.passkeys {
			if p.UserID == id {
				passkeys = append(passkeys, passkeyOut(p))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(passkeys, func(a, b domain.Passkey) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return passkeys, nil
}

// RecordUse advances the passkey's signature counter; see
// domain.PasskeyStore. Holding the db for the whole check-and-update is
// what lets exactly one of many concurrent calls with one count win.
func (s passkeyStore) RecordUse(ctx context.Context, id domain.PasskeyID, signCount uint32, backedUp bool, now time.Time) error {
	return s.db.do(ctx, func(d *data) error {
		p, ok := d.passkeys[id]
		if !ok {
			return fmt.Errorf("memstore: record passkey use: %w", domain.ErrNotFound)
		}
		if signCount <= p.SignCount && (signCount != 0 || p.SignCount != 0) {
			return fmt.Errorf("memstore: record passkey use: %w", domain.ErrPasskeyCloned)
		}
		p.SignCount, p.BackedUp, p.LastUsedAt = signCount, backedUp, dbTime(now)
		d.passkeys[id] = p
		return nil
	})
}

// Delete removes the passkey with id; see domain.PasskeyStore.
func (s passkeyStore) Delete(ctx context.Context, id domain.PasskeyID) error {
	return s.db.do(ctx, func(d *data) error {
		if _, ok := d.passkeys[id]; !ok {
			return fmt.Errorf("memstore: delete passkey: %w", domain.ErrNotFound)
		}
		delete(d.passkeys, id)
		return nil
	})
}

// DeleteByUser removes the user's passkeys; see domain.PasskeyStore.
func (s passkeyStore) DeleteByUser(ctx context.Context, id domain.UserID) (int, error) {
	n := 0
	err := s.db.do(ctx, func(d *data) error {
		n = d.deletePasskeys(id)
		return nil
	})
	return n, err
}

// deletePasskeys deletes the user's passkeys, as the schema's cascade
// does when the user goes, and returns how many it deleted.
func (d *data) deletePasskeys(user domain.UserID) int {
	return deleteOwned(d.passkeys, user, func(p domain.Passkey) domain.UserID { return p.UserID })
}

// passkeyOut returns p with copies of its byte fields and transports,
// which the store's own data shares with no caller; empty ones are nil,
// as the database store reads them back.
func passkeyOut(p domain.Passkey) domain.Passkey {
	p.CredentialID = bytes.Clone(p.CredentialID)
	p.PublicKey = bytes.Clone(p.PublicKey)
	p.AAGUID = bytes.Clone(p.AAGUID)
	if len(p.Transports) == 0 {
		p.Transports = nil
	} else {
		p.Transports = slices.Clone(p.Transports)
	}
	return p
}
