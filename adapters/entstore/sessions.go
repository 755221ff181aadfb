package entstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/ent"
	"github.com/gatehouse-auth/gatehouse/ent/predicate"
	"github.com/gatehouse-auth/gatehouse/ent/rotatedtoken"
	"github.com/gatehouse-auth/gatehouse/ent/session"
)

// sessionStore implements domain.SessionStore on the sessions and
// rotated_tokens tables.
type sessionStore struct {
	client  *ent.Client
	dialect string
}

var _ domain.SessionStore = (*sessionStore)(nil)

// Create stores s with a new ID. A zero RevokedAt is stored as NULL.
func (s *sessionStore) Create(ctx context.Context, sess domain.Session) (domain.Session, error) {
	const op = "create session"
	uid, ok := parseID(string(sess.UserID))
	if !ok {
		return domain.Session{}, notFound(op)
	}
	methods, err := authMethodsToEnt(op, sess.Methods)
	if err != nil {
		return domain.Session{}, err
	}
	create := s.client.Session.Create().
		SetUserID(uid).
		SetTokenHash(sess.TokenHash).
		SetUserAgent(domain.ClipUserAgent(sess.UserAgent)).
		SetIP(sess.IP).
		SetAuthMethods(methods).
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
	return sessionFromEnt(op, row)
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
	return sessionFromEnt(op, row)
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
		sess, err := sessionFromEnt(op, row)
		if err != nil {
			return nil, err
		}
		sessions = append(sessions, sess)
	}
	return sessions, nil
}

// Rotate rotates the active session whose current hash is r.PresentedHash
// and returns it with its user; see domain.SessionStore. On Postgres that
// is one statement (rotateSQL), so a refresh costs one round trip; on
// SQLite, a transaction of a few (rotateInTx).
func (s *sessionStore) Rotate(ctx context.Context, r domain.Rotation) (domain.Session, domain.User, error) {
	const op = "rotate session"
	var (
		sess *ent.Session
		user *ent.User
		err  error
	)
	if s.dialect == dialect.Postgres {
		sess, user, err = s.rotateInOneStatement(ctx, r)
	} else {
		sess, user, err = s.rotateInTx(ctx, r)
	}
	switch {
	case err != nil:
		return domain.Session{}, domain.User{}, ownedRowError(op, err)
	case sess == nil:
		return domain.Session{}, domain.User{}, notFound(op)
	}
	u, err := userFromEnt(op, user)
	if err != nil {
		return domain.Session{}, domain.User{}, err
	}
	rotated, err := sessionFromEnt(op, sess)
	if err != nil {
		return domain.Session{}, domain.User{}, err
	}
	return rotated, u, nil
}

// rotateSQL rotates a session on Postgres in one statement: the update
// changes the session only if it still has the presented hash ($1) and is
// active at $3, the insert records the presented hash as rotated away for
// the session the update changed (none if it changed none), and the select
// returns that session with its user. Of concurrent rotations of one hash,
// the first to lock the row updates it; the others wait for its lock, then
// find the hash changed and update nothing (READ COMMITTED re-checks the
// condition on the new row version), so exactly one wins, and a retry
// (Retry) that follows a losing rotation sees the winner's retry secret.
// $5 to $7 are that secret, or NULLs; $8 is the session's absolute
// lifetime in microseconds, or NULL (LEAST skips a NULL): a session past it
// does not rotate, and a rotation never extends one beyond it.
const rotateSQL = `WITH rotated AS (` +
	`UPDATE sessions SET token_hash = $2, last_used_at = $3, ` +
	`expires_at = LEAST($4, created_at + $8::bigint * interval '1 microsecond'), ` +
	`retry_hash = $5, retry_sealed = $6, retry_until = $7 ` +
	`WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $3 ` +
	`AND ($8::bigint IS NULL OR created_at + $8::bigint * interval '1 microsecond' > $3) ` +
	`RETURNING id, user_id, user_agent, ip, auth_methods, created_at, last_used_at, expires_at` +
	`), spent AS (` +
	`INSERT INTO rotated_tokens (token_hash, session_id, rotated_at) SELECT $1, id, $3 FROM rotated` +
	`) SELECT r.id, r.user_id, r.user_agent, r.ip, r.auth_methods, r.created_at, r.last_used_at, r.expires_at, ` +
	`u.email, u.password_hash, u.email_verified, u.tier, u.created_at, u.updated_at ` +
	`FROM rotated r JOIN users u ON u.id = r.user_id`

// rotateInOneStatement runs rotateSQL. It returns nil rows when no session
// was rotated.
func (s *sessionStore) rotateInOneStatement(ctx context.Context, r domain.Rotation) (*ent.Session, *ent.User, error) {
	now := dbTime(r.Now)
	hash, sealed, until := retryColumns(r)
	var maxAge *int64
	if r.MaxAge > 0 {
		us := r.MaxAge.Microseconds()
		maxAge = &us
	}
	rows, err := s.client.QueryContext(ctx, rotateSQL, r.PresentedHash, r.NextHash, now, dbTime(r.ExpiresAt), hash, sealed, until, maxAge)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = rows.Close() }()
	// Past QueryContext, errors come from the rows, which guardedDriver
	// does not see: a connection that breaks there is marked here.
	if !rows.Next() {
		return nil, nil, unavailable(rows.Err())
	}
	sess := &ent.Session{TokenHash: r.NextHash}
	user := &ent.User{}
	err = rows.Scan(&sess.ID, &sess.UserID, &sess.UserAgent, &sess.IP, &sess.AuthMethods, &sess.CreatedAt, &sess.LastUsedAt, &sess.ExpiresAt,
		&user.Email, &user.PasswordHash, &user.EmailVerified, &user.Tier, &user.CreatedAt, &user.UpdatedAt)
	if err != nil {
		return nil, nil, unavailable(err)
	}
	user.ID = sess.UserID
	return sess, user, unavailable(rows.Close())
}

// rotateInTx finds the active session by its current hash, then updates it
// on the condition that it still has that hash and is still active, and,
// if that update changed the row, records the presented hash as rotated
// away and reads the session and its user back, all in one transaction:
// the caller's inside InTx, else one of its own. SQLite runs writers one at a time, so of
// concurrent rotations only the first finds the hash. It returns nil rows
// when no session was rotated.
func (s *sessionStore) rotateInTx(ctx context.Context, r domain.Rotation) (sess *ent.Session, user *ent.User, err error) {
	now := dbTime(r.Now)
	hash, sealed, until := retryColumns(r)
	active := []predicate.Session{
		session.TokenHash(r.PresentedHash),
		session.RevokedAtIsNil(),
		session.ExpiresAtGT(now),
	}
	err = inTx(ctx, s.client, func(c *ent.Client) error {
		cur, err := c.Session.Query().Where(active...).Only(ctx)
		if ent.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		expires, young := r.Expiry(cur.CreatedAt)
		if !young {
			return nil // past its absolute lifetime: as good as expired
		}
		update := c.Session.Update().
			Where(append(active, session.ID(cur.ID))...).
			SetTokenHash(r.NextHash).
			SetLastUsedAt(now).
			SetExpiresAt(dbTime(expires))
		if hash != nil {
			update.SetRetryHash(*hash).SetRetrySealed(sealed).SetRetryUntil(*until)
		} else {
			update.ClearRetryHash().ClearRetrySealed().ClearRetryUntil()
		}
		n, err := update.Save(ctx)
		if err != nil || n == 0 {
			return err // n == 0: another rotation won; sess stays nil
		}
		err = c.RotatedToken.Create().
			SetTokenHash(r.PresentedHash).
			SetSessionID(cur.ID).
			SetRotatedAt(now).
			Exec(ctx)
		if err != nil {
			return err
		}
		if sess, err = c.Session.Get(ctx, cur.ID); err != nil {
			return err
		}
		user, err = c.User.Get(ctx, cur.UserID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return sess, user, nil
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
	return sessionFromEnt(op, row)
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
	return sessionFromEnt(op, row)
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

// AddMethod adds m to the auth_methods of the unrevoked session with id in
// one statement, on both dialects: the new value is computed from the
// row's own (withMethodSQL), so of concurrent additions each sees the
// others' (on Postgres the later waits for the earlier's row lock and
// then re-reads the row; on SQLite writers run one at a time) and none is
// lost. The update matches the session whether or not it holds m already,
// so a row it did not match is a session that is missing or revoked.
func (s *sessionStore) AddMethod(ctx context.Context, id domain.SessionID, m domain.AuthMethod) error {
	const op = "add session method"
	if m == (domain.AuthMethod{}) {
		return fmt.Errorf("entstore: %s: %w: the zero method", op, domain.ErrInvalidAuthMethod)
	}
	sid, ok := parseID(string(id))
	if !ok {
		return notFound(op)
	}
	query, args := entsql.Dialect(s.dialect).
		Update(session.Table).
		Set(session.FieldAuthMethods, withMethodSQL(session.FieldAuthMethods, m)).
		Where(entsql.And(entsql.EQ(session.FieldID, sid), entsql.IsNull(session.FieldRevokedAt))).
		Query()
	res, err := s.client.ExecContext(ctx, query, args...)
	if err != nil {
		return ownedRowError(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("entstore: %s: %w", op, err)
	}
	if n == 0 {
		return notFound(op)
	}
	return nil
}

// withMethodSQL returns the value domain.WithMethod gives the methods in
// column (space-separated amr names, the empty string for none) with m
// added: m alone for none, the column as it is when it holds m, else the
// column with m at the end. Padding the column with spaces makes the LIKE
// match whole names only; amr names hold no LIKE wildcards.
func withMethodSQL(column string, m domain.AuthMethod) entsql.Querier {
	return entsql.ExprFunc(func(b *entsql.Builder) {
		b.WriteString("CASE WHEN ").Ident(column).WriteString(" = '' THEN ").Arg(m.String()).
			WriteString(" WHEN ' ' || ").Ident(column).WriteString(" || ' ' LIKE ").Arg("% " + m.String() + " %").
			WriteString(" THEN ").Ident(column).
			WriteString(" ELSE ").Ident(column).WriteString(" || ' ' || ").Arg(m.String()).
			WriteString(" END")
	})
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

// sessionFromEnt converts a sessions row for op. A method name that names
// no domain.AuthMethod makes the row corrupt: it is reported as an error
// of the store, not as the caller's ErrInvalidAuthMethod.
func sessionFromEnt(op string, row *ent.Session) (domain.Session, error) {
	methods, err := authMethodsFromEnt(row.AuthMethods)
	if err != nil {
		return domain.Session{}, fmt.Errorf("entstore: %s: corrupt sessions row: %v", op, err)
	}
	sess := domain.Session{
		ID:         domain.SessionID(row.ID.String()),
		UserID:     domain.UserID(row.UserID.String()),
		TokenHash:  row.TokenHash,
		UserAgent:  row.UserAgent,
		IP:         row.IP,
		Methods:    methods,
		CreatedAt:  row.CreatedAt.UTC(),
		LastUsedAt: row.LastUsedAt.UTC(),
		ExpiresAt:  row.ExpiresAt.UTC(),
	}
	if row.RevokedAt != nil {
		sess.RevokedAt = row.RevokedAt.UTC()
	}
	return sess, nil
}

// authMethodsToEnt returns the auth_methods column of methods: their amr
// names, space-separated, ” for none. The zero AuthMethod names nothing
// and would not read back, so it is refused with ErrInvalidAuthMethod.
func authMethodsToEnt(op string, methods []domain.AuthMethod) (string, error) {
	names := make([]string, len(methods))
	for i, m := range methods {
		if m == (domain.AuthMethod{}) {
			return "", fmt.Errorf("entstore: %s: %w: the zero method", op, domain.ErrInvalidAuthMethod)
		}
		names[i] = m.String()
	}
	return strings.Join(names, " "), nil
}

// authMethodsFromEnt parses an auth_methods column. ” is no method, read
// as nil, the Methods of a Session that set none, so that an anonymous
// session reads back as it was written.
func authMethodsFromEnt(column string) ([]domain.AuthMethod, error) {
	names := strings.Fields(column)
	if len(names) == 0 {
		return nil, nil
	}
	methods := make([]domain.AuthMethod, len(names))
	for i, name := range names {
		m, err := domain.ParseAuthMethod(name)
		if err != nil {
			return nil, err
		}
		methods[i] = m
	}
	return methods, nil
}

// retryColumns returns the retry columns a rotation writes: its retry
// secret, or NULLs (nil) when it keeps none.
func retryColumns(r domain.Rotation) (hash *string, sealed []byte, until *time.Time) {
	if r.Retry == nil {
		return nil, nil, nil
	}
	u := dbTime(r.RetryUntil)
	return &r.PresentedHash, r.Retry, &u
}

func (s *sessionStore) Retry(ctx context.Context, hash string, now time.Time) (domain.Session, domain.User, []byte, error) {
	const op = "retry rotation"
	now = dbTime(now)
	row, err := s.client.Session.Query().
		Where(
			// The spent hash's row in rotated_tokens leads to the session
			// by unique indexes; the retry columns have none (see
			// ent/schema).
			session.HasRotatedTokensWith(rotatedtoken.TokenHash(hash)),
			session.RetryHash(hash), session.RetryUntilGT(now),
			session.RevokedAtIsNil(), session.ExpiresAtGT(now),
		).
		WithUser().
		Only(ctx)
	if err != nil {
		return domain.Session{}, domain.User{}, nil, ownedRowError(op, err)
	}
	u, err := userFromEnt(op, row.Edges.User)
	if err != nil {
		return domain.Session{}, domain.User{}, nil, err
	}
	sess, err := sessionFromEnt(op, row)
	if err != nil {
		return domain.Session{}, domain.User{}, nil, err
	}
	return sess, u, *row.RetrySealed, nil
}

func (s *sessionStore) ForgetExpiredRetries(ctx context.Context, now time.Time, limit int) (int, error) {
	const op = "forget expired retry secrets"
	if limit <= 0 {
		return 0, nil
	}
	now = dbTime(now)
	n, err := s.client.Session.Update().
		Where(
			session.RetryUntilLTE(now),
			predicate.Session(firstEnded(session.Table, session.FieldID, session.FieldRetryUntil, now, limit)),
		).
		ClearRetryHash().ClearRetrySealed().ClearRetryUntil().
		Save(ctx)
	if err != nil {
		return 0, ownedRowError(op, err)
	}
	return n, nil
}
