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

// sessionStore is the domain.SessionStore over a db.
type sessionStore struct{ db db }

// Create stores sess with a new ID; see domain.SessionStore.
func (s sessionStore) Create(ctx context.Context, sess domain.Session) (domain.Session, error) {
	err := s.db.do(ctx, func(d *data) error {
		if _, ok := d.users[sess.UserID]; !ok {
			return fmt.Errorf("memstore: create session: user: %w", violation{domain.ErrNotFound})
		}
		if _, ok := d.current[sess.TokenHash]; ok {
			return fmt.Errorf("memstore: create session: %w", violation{errHashTaken})
		}
		if slices.Contains(sess.Methods, domain.AuthMethod{}) {
			return fmt.Errorf("memstore: create session: %w: the zero method", domain.ErrInvalidAuthMethod)
		}
		sess.Methods = copyMethods(sess.Methods)
		sess.UserAgent = domain.ClipUserAgent(sess.UserAgent)
		sess.ID = domain.SessionID(newID())
		sess.CreatedAt = dbTime(sess.CreatedAt)
		sess.LastUsedAt = dbTime(sess.LastUsedAt)
		sess.ExpiresAt = dbTime(sess.ExpiresAt)
		sess.RevokedAt = dbTime(sess.RevokedAt)
		d.putSession(sess)
		return nil
	})
	if err != nil {
		return domain.Session{}, err
	}
	return sessionOut(sess), nil
}

// ByID returns the session with id; see domain.SessionStore.
func (s sessionStore) ByID(ctx context.Context, id domain.SessionID) (domain.Session, error) {
	var sess domain.Session
	err := s.db.do(ctx, func(d *data) error {
		var ok bool
		if sess, ok = d.sessions[id]; !ok {
			return fmt.Errorf("memstore: session by id: %w", domain.ErrNotFound)
		}
		return nil
	})
	return sessionOut(sess), err
}

// ListActive returns the user's active sessions, most recently used first,
// then newest first, then by ID; see domain.SessionStore.
func (s sessionStore) ListActive(ctx context.Context, id domain.UserID, now time.Time) ([]domain.Session, error) {
	active := []domain.Session{}
	err := s.db.do(ctx, func(d *data) error {
		for _, sess := range d.sessions {
			if sess.UserID == id && sess.Active(now) {
				active = append(active, sessionOut(sess))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(active, func(a, b domain.Session) int {
		return cmp.Or(
			b.LastUsedAt.Compare(a.LastUsedAt),
			b.CreatedAt.Compare(a.CreatedAt),
			cmp.Compare(a.ID, b.ID),
		)
	})
	return active, nil
}

// Rotate replaces the current refresh-token hash of the active session that
// has r.PresentedHash; see domain.SessionStore. Holding the db for the whole
// check-and-update is what lets exactly one of many concurrent rotations win.
func (s sessionStore) Rotate(ctx context.Context, r domain.Rotation) (domain.Session, domain.User, error) {
	var (
		sess domain.Session
		user domain.User
	)
	err := s.db.do(ctx, func(d *data) error {
		id, ok := d.current[r.PresentedHash]
		expires, young := r.Expiry(d.sessions[id].CreatedAt)
		if !ok || !d.sessions[id].Active(r.Now) || !young {
			return fmt.Errorf("memstore: rotate session: %w", domain.ErrNotFound)
		}
		if owner, ok := d.current[r.NextHash]; ok && owner != id {
			return fmt.Errorf("memstore: rotate session: %w", violation{errHashTaken})
		}
		if _, ok := d.rotated[r.PresentedHash]; ok {
			return fmt.Errorf("memstore: rotate session: %w", violation{errHashTaken})
		}
		sess = d.sessions[id]
		delete(d.current, sess.TokenHash)
		sess.TokenHash = r.NextHash
		sess.LastUsedAt = dbTime(r.Now)
		sess.ExpiresAt = dbTime(expires)
		d.putSession(sess)
		d.rotated[r.PresentedHash] = id
		if r.Retry != nil {
			d.retries[id] = retrySecret{hash: r.PresentedHash, sealed: bytes.Clone(r.Retry), until: dbTime(r.RetryUntil)}
		} else {
			delete(d.retries, id)
		}
		if user, ok = d.users[sess.UserID]; !ok { // cannot be: users cascade to their sessions
			return fmt.Errorf("memstore: rotate session: user: %w", domain.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return domain.Session{}, domain.User{}, err
	}
	return sessionOut(sess), user, nil
}

// ByRotatedHash returns the session that rotated hash away; see
// domain.SessionStore.
func (s sessionStore) ByRotatedHash(ctx context.Context, hash string) (domain.Session, error) {
	var sess domain.Session
	err := s.db.do(ctx, func(d *data) error {
		id, ok := d.rotated[hash]
		if !ok {
			return fmt.Errorf("memstore: session by rotated hash: %w", domain.ErrNotFound)
		}
		sess = d.sessions[id]
		return nil
	})
	return sessionOut(sess), err
}

// ByTokenHash returns the session whose current hash is hash; see
// domain.SessionStore.
func (s sessionStore) ByTokenHash(ctx context.Context, hash string) (domain.Session, error) {
	var sess domain.Session
	err := s.db.do(ctx, func(d *data) error {
		id, ok := d.current[hash]
		if !ok {
			return fmt.Errorf("memstore: session by token hash: %w", domain.ErrNotFound)
		}
		sess = d.sessions[id]
		return nil
	})
	return sessionOut(sess), err
}

// Revoke revokes the session with id unless it is revoked already; see
// domain.SessionStore.
func (s sessionStore) Revoke(ctx context.Context, id domain.SessionID, now time.Time) error {
	return s.db.do(ctx, func(d *data) error {
		sess, ok := d.sessions[id]
		if !ok {
			return fmt.Errorf("memstore: revoke session: %w", domain.ErrNotFound)
		}
		if sess.RevokedAt.IsZero() {
			sess.RevokedAt = dbTime(now)
			d.sessions[id] = sess
		}
		return nil
	})
}

// AddMethod adds m to the methods of the unrevoked session with id; see
// domain.SessionStore. Holding the db for the read and the write is what
// keeps concurrent additions of different methods from losing one.
func (s sessionStore) AddMethod(ctx context.Context, id domain.SessionID, m domain.AuthMethod) error {
	return s.db.do(ctx, func(d *data) error {
		if m == (domain.AuthMethod{}) {
			return fmt.Errorf("memstore: add session method: %w: the zero method", domain.ErrInvalidAuthMethod)
		}
		sess, ok := d.sessions[id]
		if !ok || !sess.RevokedAt.IsZero() {
			return fmt.Errorf("memstore: add session method: %w", domain.ErrNotFound)
		}
		// WithMethod never changes the slice it is given, which a unit of
		// work's copy of the data shares with the data it was copied from.
		sess.Methods = domain.WithMethod(sess.Methods, m)
		d.sessions[id] = sess
		return nil
	})
}

// RevokeAllForUser revokes the user's unrevoked sessions, expired ones
// included, except the one with id except; see domain.SessionStore.
func (s sessionStore) RevokeAllForUser(ctx context.Context, id domain.UserID, except domain.SessionID, now time.Time) (int, error) {
	n := 0
	err := s.db.do(ctx, func(d *data) error {
		for sid, sess := range d.sessions {
			if sess.UserID == id && sid != except && sess.RevokedAt.IsZero() {
				sess.RevokedAt = dbTime(now)
				d.sessions[sid] = sess
				n++
			}
		}
		return nil
	})
	return n, err
}

// DeleteExpired deletes at most limit sessions that expired at or before
// now, those that expired first first, with their rotated-away hashes; see
// domain.SessionStore.
func (s sessionStore) DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	n := 0
	err := s.db.do(ctx, func(d *data) error {
		var expired []domain.Session
		for _, sess := range d.sessions {
			if !now.Before(sess.ExpiresAt) {
				expired = append(expired, sess)
			}
		}
		slices.SortFunc(expired, func(a, b domain.Session) int {
			return cmp.Or(a.ExpiresAt.Compare(b.ExpiresAt), cmp.Compare(a.ID, b.ID))
		})
		doomed := map[domain.SessionID]bool{}
		for _, sess := range expired[:min(max(limit, 0), len(expired))] {
			doomed[sess.ID] = true
		}
		d.deleteSessions(doomed)
		n = len(doomed)
		return nil
	})
	return n, err
}

// putSession writes sess and indexes its current hash.
func (d *data) putSession(sess domain.Session) {
	d.sessions[sess.ID] = sess
	d.current[sess.TokenHash] = sess.ID
}

// deleteSessions deletes the sessions in doomed with their rotated-away
// hashes, as the schema's cascade does.
func (d *data) deleteSessions(doomed map[domain.SessionID]bool) {
	for id := range doomed {
		delete(d.current, d.sessions[id].TokenHash)
		delete(d.sessions, id)
		delete(d.retries, id)
	}
	for hash, id := range d.rotated {
		if doomed[id] {
			delete(d.rotated, hash)
		}
	}
}

// copyMethods returns methods in a slice of the store's own, nil for none
// as the database store reads them back, so that the store's data holds
// nothing a caller can change.
func copyMethods(methods []domain.AuthMethod) []domain.AuthMethod {
	if len(methods) == 0 {
		return nil
	}
	return slices.Clone(methods)
}

// sessionOut returns sess as the store hands it out: with a copy of its
// methods, which the store's own data shares with no caller.
func sessionOut(sess domain.Session) domain.Session {
	sess.Methods = copyMethods(sess.Methods)
	return sess
}

func (s sessionStore) Retry(ctx context.Context, hash string, now time.Time) (domain.Session, domain.User, []byte, error) {
	var (
		sess   domain.Session
		user   domain.User
		sealed []byte
	)
	err := s.db.do(ctx, func(d *data) error {
		id, ok := d.rotated[hash]
		r, kept := d.retries[id]
		if !ok || !kept || r.hash != hash || !now.Before(r.until) || !d.sessions[id].Active(now) {
			return fmt.Errorf("memstore: retry rotation: %w", domain.ErrNotFound)
		}
		sess, user, sealed = d.sessions[id], d.users[d.sessions[id].UserID], bytes.Clone(r.sealed)
		return nil
	})
	if err != nil {
		return domain.Session{}, domain.User{}, nil, err
	}
	return sessionOut(sess), user, sealed, nil
}

func (s sessionStore) ForgetExpiredRetries(ctx context.Context, now time.Time, limit int) (int, error) {
	n := 0
	err := s.db.do(ctx, func(d *data) error {
		var ended []domain.SessionID
		for id, r := range d.retries {
			if !now.Before(r.until) {
				ended = append(ended, id)
			}
		}
		slices.Sort(ended)
		for _, id := range ended[:min(max(limit, 0), len(ended))] {
			delete(d.retries, id)
			n++
		}
		return nil
	})
	return n, err
}
