package entstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	entdialect "entgo.io/ent/dialect"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/gatehouse-auth/gatehouse/ent/migrate/migrations"
)

// MigrationState is one versioned migration and whether a database has
// applied it, as (*DB).MigrationStatus reports it.
type MigrationState struct {
	Version   int64     // the number the file name starts with
	Name      string    // the file name, e.g. "00002_auth.sql"
	Applied   bool      // whether the database has applied it
	AppliedAt time.Time // when it was applied; zero while pending
}

// Migrate applies every pending migration embedded in
// ent/migrate/migrations for d's dialect to d, in version order, each in its
// own transaction. When nothing is pending Migrate changes nothing, so it is
// safe to run on every start.
//
// This is the only way Gatehouse changes a schema: the service never
// auto-migrates from ent/schema, whose changes reach a database only as
// reviewed migration files (see ent/migrategen).
//
// On Postgres Migrate holds a session-level advisory lock while it applies,
// so several replicas starting at once apply each migration exactly once;
// the others wait (up to five minutes) and then find nothing pending. It
// migrates through a pool of its own without the server-side timeouts of
// URL.WithStatementTimeout, which would cut that wait and long migrations
// short.
//
// On SQLite Migrate switches foreign-key enforcement off on the connection
// it migrates through, and checks every reference afterwards (see
// migrateSQLite).
func (d *DB) Migrate(ctx context.Context) error {
	var err error
	switch {
	case d.dialect == entdialect.SQLite:
		err = migrateSQLite(ctx, d.db)
	case d.untimed != nil:
		// A migration may rightly outlast the server-side timeouts
		// that bound d's statements: it gets a pool without them.
		db := openPostgres(d.untimed)
		_, err = up(ctx, db, d.dialect)
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	default:
		_, err = up(ctx, d.db, d.dialect)
	}
	if err != nil {
		return fmt.Errorf("entstore: migrate: %w", err)
	}
	return nil
}

// up applies the pending migrations of dialect to db and returns how many
// it applied.
func up(ctx context.Context, db *sql.DB, dialect string) (int, error) {
	p, err := provider(db, dialect, true)
	if err != nil {
		return 0, err
	}
	applied, err := p.Up(ctx)
	return len(applied), err
}

// migrateSQLite applies the SQLite migrations through one connection of db
// with foreign-key enforcement off. To change a table SQLite cannot ALTER,
// the generated files rebuild it (create new_t, copy the rows, drop t,
// rename new_t) between PRAGMA foreign_keys = off and on. But goose runs
// each file in a transaction, where SQLite ignores that pragma, and with
// enforcement on, dropping t deletes the rows of every table that
// references it ON DELETE CASCADE. So the pragma is set here, outside the
// transactions, and after applying anything, PRAGMA foreign_key_check
// proves that every reference still resolves (that scans every table, so
// it is skipped when nothing was pending). goose only takes a *sql.DB, so
// the connection is lent to a one-connection *sql.DB for the duration.
func migrateSQLite(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) (err error) {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		one := sql.OpenDB(lentConnector{conn: c, driver: db.Driver()})
		one.SetMaxOpenConns(1)
		defer one.Close()

		var enforced bool
		if err := one.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&enforced); err != nil {
			return err
		}
		if enforced {
			if _, err := one.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
				return err
			}
			defer func() {
				_, errOn := one.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = on")
				err = errors.Join(err, errOn)
			}()
		}
		applied, err := up(ctx, one, entdialect.SQLite)
		if err != nil || applied == 0 {
			return err
		}
		return checkForeignKeys(ctx, one)
	})
}

// checkForeignKeys fails when a row references a row that does not exist.
func checkForeignKeys(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	var dangling []string
	for rows.Next() {
		var (
			table, parent string
			rowid         sql.NullInt64
			fkid          int64
		)
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return err
		}
		dangling = append(dangling, fmt.Sprintf("%s row %d references a missing %s", table, rowid.Int64, parent))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(dangling) > 0 {
		return fmt.Errorf("foreign key check after migrating: %s", strings.Join(dangling, "; "))
	}
	return nil
}

// MigrationStatus reports every migration embedded in
// ent/migrate/migrations for d's dialect, in version order, and whether d
// has applied it. It applies nothing, but creates goose's version table if
// d has none. It does not wait for a Migrate running elsewhere, so it may
// report a migration as pending that is being applied.
func (d *DB) MigrationStatus(ctx context.Context) ([]MigrationState, error) {
	p, err := provider(d.db, d.dialect, false)
	if err != nil {
		return nil, fmt.Errorf("entstore: migrate: %w", err)
	}
	status, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("entstore: migrate: %w", err)
	}
	states := make([]MigrationState, len(status))
	for i, s := range status {
		states[i] = MigrationState{
			Version:   s.Source.Version,
			Name:      path.Base(s.Source.Path),
			Applied:   s.State == goose.StateApplied,
			AppliedAt: s.AppliedAt,
		}
	}
	return states, nil
}

// provider returns a goose provider over the embedded migrations of
// entDialect. With locked, a Postgres provider takes an advisory lock for
// the duration of each operation.
func provider(db *sql.DB, entDialect string, locked bool) (*goose.Provider, error) {
	fsys, err := migrations.FS(entDialect)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{
		goose.WithLogger(goose.NopLogger()),
		// Only the SQL files count; nothing registered elsewhere in the
		// binary may slip into Gatehouse's schema history.
		goose.WithDisableGlobalRegistry(true),
	}
	var gooseDialect goose.Dialect
	switch entDialect {
	case entdialect.Postgres:
		gooseDialect = goose.DialectPostgres
		if locked {
			// Probe every second for five minutes: replicas waiting
			// behind a short migration start soon after it ends.
			locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
			if err != nil {
				return nil, err
			}
			opts = append(opts, goose.WithSessionLocker(locker))
		}
	case entdialect.SQLite:
		gooseDialect = goose.DialectSQLite3
	}
	return goose.NewProvider(gooseDialect, db, fsys, opts...)
}

// lentConnector hands out one connection that belongs to another pool.
type lentConnector struct {
	conn   driver.Conn
	driver driver.Driver
}

// Connect implements driver.Connector.
func (c lentConnector) Connect(context.Context) (driver.Conn, error) {
	return lentConn{c.conn}, nil
}

// Driver implements driver.Connector.
func (c lentConnector) Driver() driver.Driver { return c.driver }

// lentConn is a connection that belongs to another pool: closing it leaves
// it open for its owner. It passes on the optional interfaces that
// database/sql uses, since embedding driver.Conn would hide them.
type lentConn struct{ driver.Conn }

// Close implements driver.Conn; the owner closes the connection.
func (lentConn) Close() error { return nil }

// BeginTx implements driver.ConnBeginTx.
func (c lentConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return c.Conn.Begin() // only for drivers without BeginTx
}

// PrepareContext implements driver.ConnPrepareContext.
func (c lentConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Conn.Prepare(query)
}

// ExecContext implements driver.ExecerContext.
func (c lentConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := c.Conn.(driver.ExecerContext); ok {
		return e.ExecContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

// QueryContext implements driver.QueryerContext.
func (c lentConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := c.Conn.(driver.QueryerContext); ok {
		return q.QueryContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

// CheckNamedValue implements driver.NamedValueChecker.
func (c lentConn) CheckNamedValue(v *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(v)
	}
	return driver.ErrSkip
}
