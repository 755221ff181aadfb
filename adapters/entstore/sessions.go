package entstore

import (
	"context"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/ent"
	"github.com/gatehouse-auth/gatehouse/ent/predicate"
	"github.com/gatehouse-auth/gatehouse/ent/rotatedtoken"
	"github.com/gatehouse-auth/gatehouse/ent/session"
)

// sessionStore implements domain.SessionStore on the sessions and
// rotated_tokens tables.
type sessionStore struct {
	client *ent.Client
}

var _ domain.SessionStore = (*sessionStore)(nil)

// Create stores s with a new ID. A zero RevokedAt is stored as NULL.
func (s *sessionStore) Create(ctx context.Context, sess domain.Session) (domain.Session, error) {
	const op = "create session"
	uid, ok := parseID(string(sess.UserID))
	if !ok {
		return domain.Session{}, notFound(op)
	}
	create := s.client.Session.Create().
		SetUserID(uid).
		SetTokenHash(sess.TokenHash).
		SetUserAgent(sess.UserAgent).
		SetIP(sess.IP).
		SetCreatedAt(dbTime(sess.CreatedAt)).
		SetLastUsedAt(dbTime(sess.LastUsedAt)).
		SetExpiresAt(dbTime(sess.ExpiresAt))
	if !sess.RevokedAt.IsZero() {
		create.SetRevokedAt(dbTime(sess.RevokedAt))
	}
	row, err := create.Save(ctx)
	if err != nil {
		return domain.Session{}, ownedRowError(op, err)
	}
	return sessionFromEnt(row), nil
}

// ByID returns the session with id.
func (s *sessionStore) ByID(ctx context.Context, id domain.SessionID) (domain.Session, error) {
	const op = "get session"
	sid, ok := parseID(string(id))
	if !ok {
		return domain.Session{}, notFound(op)
	}
	row, err := s.client.Session.Get(ctx, sid)
	if err != nil {
		return domain.Session{}, ownedRowError(op, err)
	}
	return sessionFromEnt(row), nil
}

// ListActive returns the user's active sessions, most recently used first;
// ties go to the newest created, then to the greater (UUIDv7, so later) ID,
// so the order is total.
func (s *sessionStore) ListActive(ctx context.Context, id domain.UserID, now time.Time) ([]domain.Session, error) {
	const op = "list active sessions"
	uid, ok := parseID(string(id))
	if !ok {
		return []domain.Session{}, nil // no user has this ID, so none has sessions
	}
	rows, err := s.client.Session.Query().
		Where(session.UserID(uid), session.RevokedAtIsNil(), session.ExpiresAtGT(dbTime(now))).
		Order(ent.Desc(session.FieldLastUsedAt), ent.Desc(session.FieldCreatedAt), ent.Desc(session.FieldID)).
		All(ctx)
	if err != nil {
		return nil, ownedRowError(op, err)
	}
	sessions := make([]domain.Session, 0, len(rows))
	for _, row := range rows {
		sessions = append(sessions, sessionFromEnt(row))
	}
	return sessions, nil
}

// Rotate finds the active session by its current hash, then updates it on
// the condition that it still has that hash and is still active, and, if
// that update changed the row, records the presented hash as rotated away,
// all in one transaction (the caller's, inside InTx). Concurrent rotations
// may all find the session, but only one update matches: on Postgres the
// others wait for its row lock and then see the new hash, on SQLite writers
// run one at a time.
func (s *sessionStore) Rotate(ctx context.Context, r domain.Rotation) (domain.Session, error) {
	const op = "rotate session"
	now := dbTime(r.Now)
	active := []predicate.Session{
		session.TokenHash(r.PresentedHash),
		session.RevokedAtIsNil(),
		session.ExpiresAtGT(now),
	}
	var rotated *ent.Session // stays nil when another rotation won
	err := inTx(ctx, s.client, func(c *ent.Client) error {
		cur, err := c.Session.Query().Where(active...).Only(ctx)
		if err != nil {
			return err
		}
		n, err := c.Session.Update().
			Where(append(active, session.ID(cur.ID))...).
			SetTokenHash(r.NextHash).
			SetLastUsedAt(now).
			SetExpiresAt(dbTime(r.ExpiresAt)).
			Save(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil // another rotation won; rotated stays nil
		}
		err = c.RotatedToken.Create().
			SetTokenHash(r.PresentedHash).
			SetSessionID(cur.ID).
			SetRotatedAt(now).
			Exec(ctx)
		if err != nil {
			return err
		}
		rotated, err = c.Session.Get(ctx, cur.ID)
		return err
	})
	if err != nil {
		return domain.Session{}, ownedRowError(op, err)
	}
	if rotated == nil {
		return domain.Session{}, notFound(op)
	}
	return sessionFromEnt(rotated), nil
}

// ByRotatedHash returns the session that rotated hash away.
func (s *sessionStore) ByRotatedHash(ctx context.Context, hash string) (domain.Session, error) {
	const op = "get session by rotated hash"
	row, err := s.client.RotatedToken.Query().
		Where(rotatedtoken.TokenHash(hash)).
		QuerySession().
		Only(ctx)
	if err != nil {
		return domain.Session{}, ownedRowError(op, err)
	}
	return sessionFromEnt(row), nil
}

// ByTokenHash returns the session whose current hash is hash.
func (s *sessionStore) ByTokenHash(ctx context.Context, hash string) (domain.Session, error) {
	const op = "get session by token hash"
	row, err := s.client.Session.Query().
		Where(session.TokenHash(hash)).
		Only(ctx)
	if err != nil {
		return domain.Session{}, ownedRowError(op, err)
	}
	return sessionFromEnt(row), nil
}

// Revoke sets the revocation time of the session with id unless it has
// one. When that changes nothing, Revoke looks the session up to tell a
// revoked session (nil) from a missing one (ErrNotFound).
func (s *sessionStore) Revoke(ctx context.Context, id domain.SessionID, now time.Time) error {
	const op = "revoke session"
	sid, ok := parseID(string(id))
	if !ok {
		return notFound(op)
	}
	n, err := s.client.Session.Update().
		Where(session.ID(sid), session.RevokedAtIsNil()).
		SetRevokedAt(dbTime(now)).
		Save(ctx)
	if err != nil {
		return ownedRowError(op, err)
	}
	if n > 0 {
		return nil
	}
	exists, err := s.client.Session.Query().Where(session.ID(sid)).Exist(ctx)
	if err != nil {
		return ownedRowError(op, err)
	}
	if !exists {
		return notFound(op)
	}
	return nil
}

// RevokeAllForUser revokes the user's unrevoked sessions, expired ones
// included, but the one with id except.
func (s *sessionStore) RevokeAllForUser(ctx context.Context, id domain.UserID, except domain.SessionID, now time.Time) (int, error) {
	const op = "revoke user sessions"
	uid, ok := parseID(string(id))
	if !ok {
		return 0, nil // no user has this ID, so none has sessions
	}
	where := []predicate.Session{session.UserID(uid), session.RevokedAtIsNil()}
	// An except that is no UUID names no session, so it spares none.
	if sid, ok := parseID(string(except)); ok {
		where = append(where, session.IDNEQ(sid))
	}
	n, err := s.client.Session.Update().
		Where(where...).
		SetRevokedAt(dbTime(now)).
		Save(ctx)
	if err != nil {
		return 0, ownedRowError(op, err)
	}
	return n, nil
}

// DeleteExpired deletes up to limit expired sessions, those that expired
// first first, in one statement; the database cascades the delete to their
// rotated-away hashes.
func (s *sessionStore) DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	const op = "delete expired sessions"
	if limit <= 0 {
		return 0, nil
	}
	now = dbTime(now)
	n, err := s.client.Session.Delete().
		Where(
			session.ExpiresAtLTE(now),
			predicate.Session(firstExpired(session.Table, session.FieldID, session.FieldExpiresAt, now, limit)),
		).
		Exec(ctx)
	if err != nil {
		return 0, ownedRowError(op, err)
	}
	return n, nil
}

// sessionFromEnt converts a sessions row.
func sessionFromEnt(row *ent.Session) domain.Session {
	sess := domain.Session{
		ID:         domain.SessionID(row.ID.String()),
		UserID:     domain.UserID(row.UserID.String()),
		TokenHash:  row.TokenHash,
		UserAgent:  row.UserAgent,
		IP:         row.IP,
		CreatedAt:  row.CreatedAt.UTC(),
		LastUsedAt: row.LastUsedAt.UTC(),
		ExpiresAt:  row.ExpiresAt.UTC(),
	}
	if row.RevokedAt != nil {
		sess.RevokedAt = row.RevokedAt.UTC()
	}
	return sess
}
