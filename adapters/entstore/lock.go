package entstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// unlockTimeout bounds the statement that frees an advisory lock. Release
// has no context of its own, and a lock whose unlock fails is freed anyway,
// by ending its session.
const unlockTimeout = 5 * time.Second

var errLocksClosed = errors.New("entstore: try lock: database is closed")

// locker is the domain.Locker of one DB; see (*DB).Standalone.
type locker struct{ d *DB }

var _ domain.Locker = locker{}

// lockTable is what a DB knows of the locks taken through it: the names its
// process holds, each with the connection that holds its advisory lock on
// Postgres. The table settles contention within the process without asking
// the database, and lets Close free every lock still held. Its zero value
// is an empty table.
type lockTable struct {
	mu     sync.Mutex
	held   map[string]*heldLock
	closed bool
}

// heldLock is one name held through a DB, or being asked for.
type heldLock struct {
	conn    *sql.Conn // holds the advisory lock; nil on SQLite
	release func()    // nil while the database is still being asked
}

// TryLock takes name: first within the process, then, on Postgres, in the
// database, as a session-level advisory lock on a connection of its own,
// which it keeps until release. A session's advisory locks end with it, so
// a lock whose holder dies, or loses its connection, is freed by Postgres.
// On SQLite the lock is the process's alone; see (*DB).Standalone for why that
// is enough.
func (l locker) TryLock(ctx context.Context, name string) (func(), bool, error) {
	const op = "try lock"
	nothing := func() {}
	if err := ctx.Err(); err != nil {
		return nothing, false, fmt.Errorf("entstore: %s: %w", op, err)
	}
	if err := (outside{l.d}).check(ctx, op); err != nil {
		return nothing, false, err
	}
	t := &l.d.locks
	h, ok, err := t.reserve(name)
	if err != nil || !ok {
		return nothing, false, err
	}
	if l.d.dialect == dialect.Postgres {
		conn, ok, err := pgTryLock(ctx, l.d.db, advisoryKey(name))
		if err != nil || !ok {
			t.forget(name, h)
			if err != nil {
				return nothing, false, fmt.Errorf("entstore: %s: %w", op, unavailable(err))
			}
			return nothing, false, nil
		}
		h.conn = conn
	}
	release := sync.OnceFunc(func() {
		if h.conn != nil {
			pgUnlock(h.conn, advisoryKey(name))
		}
		t.forget(name, h)
	})
	if !t.hold(h, release) {
		release() // Close ran while Postgres was being asked
		return nothing, false, errLocksClosed
	}
	return release, true, nil
}

// reserve claims name within the process, so that a second caller here is
// refused without a round trip to the database.
func (t *lockTable) reserve(name string) (*heldLock, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, false, errLocksClosed
	}
	if _, taken := t.held[name]; taken {
		return nil, false, nil
	}
	if t.held == nil {
		t.held = map[string]*heldLock{}
	}
	h := &heldLock{}
	t.held[name] = h
	return h, true, nil
}

// hold completes the reservation h with the function that releases it,
// unless the table has been closed since the reservation was made.
func (t *lockTable) hold(h *heldLock, release func()) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	h.release = release
	return true
}

// forget drops name, provided h is what the table holds for it.
func (t *lockTable) forget(name string, h *heldLock) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.held[name] == h {
		delete(t.held, name)
	}
}

// close refuses every later TryLock and frees every lock held, so that
// closing a DB frees its locks as ending its process would.
func (t *lockTable) close() {
	t.mu.Lock()
	t.closed = true
	var releases []func()
	for _, h := range t.held {
		if h.release != nil {
			releases = append(releases, h.release)
		}
	}
	t.mu.Unlock()
	for _, release := range releases {
		release()
	}
}

// advisoryKey returns the advisory-lock key of name: its 64-bit FNV-1a
// hash, computed here rather than with Postgres's hashtext, whose results
// Postgres does not promise to keep across versions, so replicas on
// different servers of an upgrade agree. Two names whose keys collide only
// exclude each other, which costs a skipped run, never a lost exclusion.
func advisoryKey(name string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name)) // a hash.Hash never fails to write
	return int64(h.Sum64())
}

// pgTryLock asks Postgres for the advisory lock key on a connection taken
// from db for the purpose. When it gets the lock it returns the connection,
// which holds the lock until pgUnlock; otherwise it gives the connection
// back.
func pgTryLock(ctx context.Context, db *sql.DB, key int64) (*sql.Conn, bool, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, false, err
	}
	var locked bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&locked); err != nil {
		// Postgres may have granted the lock before the answer was lost:
		// end the session, which frees it if so.
		discard(conn)
		return nil, false, err
	}
	if !locked {
		_ = conn.Close() // holds nothing; back to the pool
		return nil, false, nil
	}
	return conn, true, nil
}

// pgUnlock frees the advisory lock key that conn holds and gives conn back
// to the pool. When Postgres does not confirm the unlock, the session may
// still hold the lock, and a pooled connection holding it would keep it
// from every replica for good; conn is then closed instead, which frees the
// lock with the session.
func pgUnlock(conn *sql.Conn, key int64) {
	ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
	defer cancel()
	var unlocked bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1)", key).Scan(&unlocked); err != nil || !unlocked {
		discard(conn)
		return
	}
	_ = conn.Close()
}

// discard closes conn's session instead of pooling it: database/sql drops a
// connection on which a call reports driver.ErrBadConn.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close() // already closed by Raw; harmless
}
