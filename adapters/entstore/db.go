// Package entstore implements the domain's store ports on Ent, over
// Postgres (through pgx) or SQLite (through modernc.org/sqlite, pure Go).
//
// Open connects to the database a URL names; (*DB).Stores returns the stores
// outside any unit of work, and (*DB).InTx runs a unit of work over stores
// that share one database transaction. (*DB).Standalone returns the
// signing keys, the rate limits and the named locks, which belong to no
// unit of work and refuse to be called inside one. The schema is created
// and upgraded by the versioned migrations ((*DB).Migrate), never from
// ent/schema at run time.
//
// Ent types never leave this package: every store converts to and from the
// domain's types, and maps driver errors to the domain's sentinels.
package entstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/ent"
)

// sqliteParams configures every SQLite connection:
//   - foreign_keys(1): SQLite enforces foreign keys, and with them the ON
//     DELETE CASCADEs the schema relies on, only when asked to.
//   - journal_mode(WAL): readers do not block the writer, nor it them.
//   - busy_timeout(10000): wait up to 10s for another process's write lock
//     instead of failing at once with SQLITE_BUSY.
//   - _txlock=immediate: BEGIN takes the write lock up front, so a
//     transaction that reads and then writes never fails half-way on a lock
//     upgrade, and the conditional updates that settle races run serially.
//   - _time_format=sqlite: times are written as "YYYY-MM-DD HH:MM:SS.fff+00:00",
//     SQLite's own format. Since the stores write every time in UTC, the text
//     sorts like the instant, so comparisons such as expires_at <= ? work.
const sqliteParams = "_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
	"&_txlock=immediate&_time_format=sqlite"

// schemePattern matches a URL scheme (RFC 3986), which is safe to name in an
// error; nothing else of a database URL is, since it may hold a password.
var schemePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*$`)

// DB is an open Gatehouse database. It is safe for concurrent use.
type DB struct {
	db      *sql.DB
	dialect string
	client  *ent.Client
	users   *userBatcher // ByID outside a unit of work; see Stores
	locks   lockTable    // the named locks held through d; see Standalone
	// untimed is, on Postgres, the configuration of d's connections
	// without the server-side timeouts of URL.WithStatementTimeout, for
	// Migrate; nil when d has none.
	untimed *pgx.ConnConfig
	// probe is, on Postgres, the one connection Ping asks over (see
	// openProbe); nil on SQLite, whose Ping uses db.
	probe *sql.DB
}

var _ domain.Transactor = (*DB)(nil)

// Open connects to the database that databaseURL names and checks that it
// answers. Accepted URLs are postgres://… or postgresql://… (a libpq URL,
// served by pgx) and sqlite://PATH, where PATH is relative
// (sqlite://gatehouse.db) or absolute (sqlite:///var/lib/gatehouse.db) and
// takes no query parameters. Open parses databaseURL as ReadURL does; a
// URL parsed already opens with OpenURL. Open does not create or migrate
// the schema; see Migrate.
//
// SQLite gets a single connection: SQLite has one writer at a time anyway,
// and with one connection Go's pool queues the writers in order instead of
// leaving them to poll SQLite's lock. The price is that while a transaction
// runs (InTx), every other use of the DB waits for it, so a unit of work
// must use only the stores InTx hands it. Postgres gets a bounded pool that
// recycles its connections (see pgMaxOpenConns).
//
// Whatever d's stores, InTx and Ping return when the database cannot be
// reached, breaks the connection or does not answer before the context's
// deadline wraps domain.ErrUnavailable; the pool reconnects by itself once
// the database is back.
func Open(ctx context.Context, databaseURL string) (*DB, error) {
	u, err := parseURL(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("entstore: open: database URL %w", err)
	}
	return OpenURL(ctx, u)
}

// Postgres pool settings. A replica opens at most pgMaxOpenConns
// connections, so that many replicas under load queue for connections
// instead of exhausting the server's max_connections; a request waits for
// one no longer than its own deadline. Idle connections are closed after a
// while, which also retires the dead ones a database restart leaves behind
// (database/sql reconnects on demand), and no connection lives for ever, so
// a failover or a DNS change is picked up.
const (
	pgConnectTimeout  = 5 * time.Second // when the URL sets no connect_timeout
	pgMaxOpenConns    = 25
	pgConnMaxIdleTime = 5 * time.Minute
	pgConnMaxLifetime = time.Hour
)

// openPostgres opens a pool on parsed, which it leaves as it is, with the
// settings above.
func openPostgres(parsed *pgx.ConnConfig) *sql.DB {
	cfg := parsed.Copy()
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = pgConnectTimeout
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(pgMaxOpenConns)
	db.SetMaxIdleConns(pgMaxOpenConns)
	db.SetConnMaxIdleTime(pgConnMaxIdleTime)
	db.SetConnMaxLifetime(pgConnMaxLifetime)
	return db
}

// openProbe opens the pool of Ping on parsed: one connection, kept idle
// between probes, dialled again when it broke.
func openProbe(parsed *pgx.ConnConfig) *sql.DB {
	cfg := parsed.Copy()
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = pgConnectTimeout
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(pgConnMaxLifetime)
	return db
}

// open pings db, which opening returned with err, and builds the DB on it.
func open(ctx context.Context, db *sql.DB, err error, dialectName string) (*DB, error) {
	if err != nil {
		return nil, fmt.Errorf("entstore: open %s: %w", dialectName, err)
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close() // the ping's error is the one worth reporting
		return nil, fmt.Errorf("entstore: open %s: %w", dialectName, err)
	}
	client := ent.NewClient(ent.Driver(guardedDriver{entsql.OpenDB(dialectName, db)}))
	return &DB{db: db, dialect: dialectName, client: client, users: &userBatcher{client: client}}, nil
}

// Ping runs SELECT 1, the check behind readiness: a real round trip, where
// database/sql's own ping may be answered without one. On Postgres it asks
// over a connection of its own, outside the pool the stores use, so that
// requests queued for a pool that a lock holds up do not make readiness
// fail with them (and every replica leave its load balancer at once); and
// it tries once more after a failure, which discarded that connection, on a
// fresh one, so that a backend killed under it (an operator's
// pg_terminate_backend, a crash the server survived) does not fail
// readiness once for nothing. It returns an error wrapping
// domain.ErrUnavailable when the database cannot be reached or does not
// answer before ctx ends.
func (d *DB) Ping(ctx context.Context) error {
	pool := d.db
	if d.probe != nil {
		pool = d.probe
	}
	err := selectOne(ctx, pool)
	if err != nil && d.probe != nil && ctx.Err() == nil {
		err = selectOne(ctx, pool)
	}
	if err != nil {
		return fmt.Errorf("entstore: ping: %w", unavailable(err))
	}
	return nil
}

// selectOne runs SELECT 1 on pool.
func selectOne(ctx context.Context, pool *sql.DB) error {
	var one int
	return pool.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// SQL returns the underlying database handle, for metrics and tests.
// Closing it closes d.
func (d *DB) SQL() *sql.DB { return d.db }

// Dialect returns Ent's name for the database's dialect: "postgres" or
// "sqlite3".
func (d *DB) Dialect() string { return d.dialect }

// Close closes the database. Stores obtained from d must not be used after.
func (d *DB) Close() error {
	d.locks.close()
	if d.probe != nil {
		_ = d.probe.Close() // nothing of it outlives the process; the pool's error is the one to report
	}
	if err := d.client.Close(); err != nil {
		return fmt.Errorf("entstore: close: %w", err)
	}
	return nil
}

// Stores returns the stores outside any unit of work: each call to them
// stands alone. Their Users.ByID gathers the lookups that wait at the
// same time into one query (see userBatcher).
func (d *DB) Stores() domain.Stores {
	s := storesOver(d.client, d.dialect)
	s.Users = &userStore{client: d.client, batch: d.users}
	return s
}

// Standalone returns the stores that belong to no unit of work: the signing
// keys, the rate limits and the named locks. Each call stands alone and
// commits at once; Hit is a single statement, atomic by itself. Called with
// a context inside a unit of work of d (InTx's fn), they return an error
// wrapping domain.ErrInsideUnitOfWork at once, without touching the
// database: on SQLite the unit of work holds the only connection (see
// Open), so the call would wait for the unit of work that waits for it.
// Postgres refuses alike, so that code which passes on one passes on both.
//
// On Postgres a lock is a session-level advisory lock, so it holds across
// every replica; each lock held keeps one connection of d's pool until it
// is released, and Postgres frees it when that session ends, however it
// ends. A connection pooler in transaction mode between Gatehouse and
// Postgres would break such locks; use session mode. Close frees every
// lock still held through d.
//
// On SQLite a lock holds within d only: the file lives on one host's disk
// and Gatehouse on SQLite runs as a single process, so there is no other
// replica to exclude. Such a lock takes no connection, which matters since
// SQLite's single connection is everyone's (see Open). Processes that did
// share a file (or two DBs on one file) would at worst run a guarded job
// at once, which domain.Locker requires the job to bear anyway.
func (d *DB) Standalone() domain.Standalone {
	return domain.Standalone{
		Keys:       &keyStore{client: d.client, outside: outside{d}},
		RateLimits: &rateLimitStore{client: d.client, outside: outside{d}},
		Locker:     locker{d},
	}
}

// txKey marks the context that InTx of one DB hands to fn.
type txKey struct{ d *DB }

// outside guards the standalone stores of one DB against calls from inside
// its units of work; see Standalone.
type outside struct{ d *DB }

// check returns an error wrapping domain.ErrInsideUnitOfWork, naming op,
// when ctx is inside a unit of work of the DB.
func (o outside) check(ctx context.Context, op string) error {
	if ctx.Value(txKey{o.d}) != nil {
		return fmt.Errorf("entstore: %s: %w", op, domain.ErrInsideUnitOfWork)
	}
	return nil
}

// InTx runs fn in one database transaction, handing it stores that work in
// that transaction. It commits when fn returns nil and rolls back when fn
// returns an error or panics; fn's error is returned as it is, and a panic
// goes on after the rollback. The context fn gets is marked, so that the
// standalone stores refuse it (see Standalone).
func (d *DB) InTx(ctx context.Context, fn func(ctx context.Context, s domain.Stores) error) error {
	ctx = context.WithValue(ctx, txKey{d}, true)
	return inTx(ctx, d.client, func(c *ent.Client) error {
		return fn(ctx, storesOver(c, d.dialect))
	})
}

// storesOver returns the stores that work through c, a client of the
// dialect dialectName.
func storesOver(c *ent.Client, dialectName string) domain.Stores {
	return domain.Stores{
		Users:    &userStore{client: c},
		Tokens:   &tokenStore{client: c},
		Sessions: &sessionStore{client: c, dialect: dialectName},
		Factors:  &factorStore{client: c, dialect: dialectName},
		Passkeys: &passkeyStore{client: c, dialect: dialectName},
	}
}

// inTx runs fn in a transaction on c and commits if fn returns nil. When c
// is already transactional, fn runs on c, in the transaction that is open,
// which its owner commits or rolls back.
func inTx(ctx context.Context, c *ent.Client, fn func(c *ent.Client) error) error {
	tx, err := c.Tx(ctx)
	if errors.Is(err, ent.ErrTxStarted) {
		return fn(c)
	}
	if err != nil {
		return fmt.Errorf("entstore: begin transaction: %w", err)
	}
	committed := false
	defer func() {
		// Rolls back on error, on panic (which then goes on) and on
		// runtime.Goexit. A failed rollback changes nothing for the caller:
		// the transaction is over and fn's failure is the one to report.
		if !committed {
			_ = tx.Rollback()
		}
	}()
	if err := fn(tx.Client()); err != nil {
		return err
	}
	committed = true // after Commit, even a failed one, there is nothing to roll back
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("entstore: commit: %w", err)
	}
	return nil
}

// parseID parses the ID of a stored row. An ID that is no UUID names no
// row, so callers treat !ok as not found.
func parseID(id string) (uuid.UUID, bool) {
	u, err := uuid.Parse(id)
	return u, err == nil
}

// dbTime returns t as the stores write and compare it: in UTC (which also
// drops any monotonic reading), cut to microseconds, Postgres's precision.
// A store thus returns from a write the very times it later reads back, and
// compares times the same way on SQLite as on Postgres.
func dbTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// firstExpired returns the predicate "id IN (the IDs of the first limit rows
// of table that expired at or before now)". It bounds a prune to limit rows
// in one statement whatever limit is, where a list of IDs as parameters
// would run into the drivers' limits on parameters.
func firstExpired(table, idColumn, expiresColumn string, now time.Time, limit int) func(*entsql.Selector) {
	return func(s *entsql.Selector) {
		ids := entsql.Dialect(s.Dialect()).
			Select(idColumn).
			From(entsql.Table(table)).
			Where(entsql.LTE(expiresColumn, now)).
			OrderBy(expiresColumn).
			Limit(limit)
		s.Where(entsql.In(s.C(idColumn), ids))
	}
}

// firstEnded is firstExpired without the order: at most limit rows whose
// endColumn is at or before now, whichever the scan meets first, for a
// column with no index to read in order.
func firstEnded(table, idColumn, endColumn string, now time.Time, limit int) func(*entsql.Selector) {
	return func(s *entsql.Selector) {
		ids := entsql.Dialect(s.Dialect()).
			Select(idColumn).
			From(entsql.Table(table)).
			Where(entsql.LTE(endColumn, now)).
			Limit(limit)
		s.Where(entsql.In(s.C(idColumn), ids))
	}
}
