package memstore

import (
	"context"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// userStore is the domain.UserStore over a db.
type userStore struct{ db db }

// Create stores u with a new ID; see domain.UserStore.
func (s userStore) Create(ctx context.Context, u domain.User) (domain.User, error) {
	err := s.db.do(ctx, func(d *data) error {
		if !u.Tier.Valid() {
			return fmt.Errorf("memstore: create user: %w", domain.ErrInvalidTier)
		}
		u.ID = domain.UserID(newID())
		u = userForStorage(u)
		if d.emailTaken(u) {
			return fmt.Errorf("memstore: create user: %w", violation{domain.ErrEmailTaken})
		}
		d.putUser(u)
		return nil
	})
	if err != nil {
		return domain.User{}, err
	}
	return u, nil
}

// ByID returns the user with id; see domain.UserStore.
func (s userStore) ByID(ctx context.Context, id domain.UserID) (domain.User, error) {
	var u domain.User
	err := s.db.do(ctx, func(d *data) error {
		var ok bool
		if u, ok = d.users[id]; !ok {
			return fmt.Errorf("memstore: user by id: %w", domain.ErrNotFound)
		}
		return nil
	})
	return u, err
}

// ByEmail returns the user with email in any case; see domain.UserStore.
func (s userStore) ByEmail(ctx context.Context, email string) (domain.User, error) {
	var u domain.User
	err := s.db.do(ctx, func(d *data) error {
		// Anonymous users have no email rather than an empty one, so the
		// empty email finds no one.
		id, ok := d.emails[domain.NormalizeEmail(email)]
		if !ok {
			return fmt.Errorf("memstore: user by email: %w", domain.ErrNotFound)
		}
		u = d.users[id]
		return nil
	})
	return u, err
}

// Update overwrites the mutable fields of the user with u.ID; see
// domain.UserStore.
func (s userStore) Update(ctx context.Context, u domain.User) (domain.User, error) {
	var stored domain.User
	err := s.db.do(ctx, func(d *data) error {
		if !u.Tier.Valid() {
			return fmt.Errorf("memstore: update user: %w", domain.ErrInvalidTier)
		}
		old, ok := d.users[u.ID]
		if !ok {
			return fmt.Errorf("memstore: update user: %w", domain.ErrNotFound)
		}
		stored = old
		stored.Email = u.Email
		stored.PasswordHash = u.PasswordHash
		stored.EmailVerified = u.EmailVerified
		stored.Tier = u.Tier
		stored.UpdatedAt = u.UpdatedAt
		stored = userForStorage(stored)
		if d.emailTaken(stored) {
			return fmt.Errorf("memstore: update user: %w", violation{domain.ErrEmailTaken})
		}
		delete(d.emails, old.Email)
		d.putUser(stored)
		return nil
	})
	if err != nil {
		return domain.User{}, err
	}
	return stored, nil
}

// Delete removes the user with id, its tokens, its sessions and its
// factors; see domain.UserStore.
func (s userStore) Delete(ctx context.Context, id domain.UserID) error {
	return s.db.do(ctx, func(d *data) error {
		u, ok := d.users[id]
		if !ok {
			return fmt.Errorf("memstore: delete user: %w", domain.ErrNotFound)
		}
		for hash, t := range d.tokens {
			if t.UserID == id {
				delete(d.tokens, hash)
			}
		}
		doomed := map[domain.SessionID]bool{}
		for sid, sess := range d.sessions {
			if sess.UserID == id {
				doomed[sid] = true
			}
		}
		d.deleteSessions(doomed)
		d.deleteFactors(id)
		d.deletePasskeys(id)
		delete(d.emails, u.Email)
		delete(d.users, id)
		return nil
	})
}

// userForStorage returns u in the form the store keeps it.
func userForStorage(u domain.User) domain.User {
	u.Email = domain.NormalizeEmail(u.Email)
	u.CreatedAt = dbTime(u.CreatedAt)
	u.UpdatedAt = dbTime(u.UpdatedAt)
	return u
}

// emailTaken reports whether a user other than u has u's email; u is in
// storage form.
func (d *data) emailTaken(u domain.User) bool {
	owner, ok := d.emails[u.Email]
	return ok && owner != u.ID
}

// putUser writes u, already in storage form and checked, and indexes its
// email if it has one.
func (d *data) putUser(u domain.User) {
	d.users[u.ID] = u
	if u.Email != "" {
		d.emails[u.Email] = u.ID
	}
}
