package entstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// A database that is down, restarting or out of reach must not look like a
// bug to the layers above: they answer "try again" (503) instead of an
// internal error. Every statement the stores run goes through guardedDriver,
// which marks such failures as domain.ErrUnavailable in one place, whatever
// store or unit of work ran into them; the stores' own error mapping
// (not found, unique violations) is untouched, since the marked error still
// wraps the driver's.

// unavailableError marks err, a failure to reach the database, as mark
// (domain.ErrUnavailable or domain.ErrOutcomeUnknown) while keeping it for
// the log and for errors.As.
type unavailableError struct{ mark, err error }

func (e *unavailableError) Error() string   { return "database unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() []error { return []error{e.mark, e.err} }

// unavailable returns err marked as domain.ErrUnavailable when it says that
// the database could not be reached, did not answer before ctx's deadline
// or gave up on the statement (a server-side timeout), and err unchanged
// otherwise (nil included). Unless the failure proves that the statement
// had no effect (notSent, or rolled back), the mark is
// domain.ErrOutcomeUnknown.
func unavailable(err error) error {
	if err == nil || errors.Is(err, domain.ErrUnavailable) {
		return err
	}
	switch {
	case noEffect(err):
		return &unavailableError{mark: domain.ErrUnavailable, err: err}
	case connectionFailure(err):
		return &unavailableError{mark: domain.ErrOutcomeUnknown, err: err}
	}
	return err
}

// noEffect reports whether err is a failure to reach the database that
// proves the statement had no effect: nothing of it reached the server,
// the server refused the connection, or the server gave up on the
// statement and said so, rolling it back (statement_timeout and
// lock_timeout, which a server-side timeout sets; see
// URL.WithStatementTimeout).
func noEffect(err error) bool {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch pgErr.Code {
		case "57014", "55P03": // query_canceled (statement_timeout), lock_not_available (lock_timeout)
			return true
		case "57P03", "53300": // cannot_connect_now, too_many_connections: no session, so no statement
			return true
		}
		return false
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	return pgconn.SafeToRetry(err)
}

// connectionFailure reports whether err is a failure of the connection to
// the database rather than of the statement: no connection could be made,
// a connection broke, the server is shutting down or starting up, or the
// deadline of the caller's context passed while waiting for the database.
// A cancelled context is not among them: the caller gave up, the database
// did not fail. A statement the server gave up on (noEffect) is among
// them too: the database did not answer in time.
func connectionFailure(err error) bool {
	if noEffect(err) {
		return true
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"): // connection_exception and its subclasses
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
			return true
		case pgErr.Code == "53300": // too_many_connections
			return true
		}
		return false
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok { // refused, reset, unreachable, timed out, DNS
		return true
	}
	return errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) ||
		pgconn.SafeToRetry(err) || // nothing reached the server: the connection was closed or never made
		pgconn.Timeout(err)
}

// guardedDriver is the Ent driver of a DB: entsql's, with every failure to
// reach the database marked by unavailable. Ent calls ExecContext and
// QueryContext through type assertions (for raw SQL such as the rate-limit
// upsert), so they are guarded too.
type guardedDriver struct {
	*entsql.Driver
}

var _ dialect.Driver = guardedDriver{}

func (d guardedDriver) Exec(ctx context.Context, query string, args, v any) error {
	return unavailable(d.Driver.Exec(ctx, query, args, v))
}

func (d guardedDriver) Query(ctx context.Context, query string, args, v any) error {
	return unavailable(d.Driver.Query(ctx, query, args, v))
}

func (d guardedDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := d.Driver.ExecContext(ctx, query, args...)
	return res, unavailable(err)
}

func (d guardedDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := d.Driver.QueryContext(ctx, query, args...)
	return rows, unavailable(err)
}

func (d guardedDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	return d.BeginTx(ctx, nil)
}

func (d guardedDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	tx, err := d.Driver.BeginTx(ctx, opts)
	if err != nil {
		return nil, unavailable(err)
	}
	return guardedTx{tx.(*entsql.Tx)}, nil
}

// guardedTx is a transaction of guardedDriver, guarded alike.
type guardedTx struct {
	*entsql.Tx
}

var _ dialect.Tx = guardedTx{}

func (t guardedTx) Exec(ctx context.Context, query string, args, v any) error {
	return unavailable(t.Tx.Exec(ctx, query, args, v))
}

func (t guardedTx) Query(ctx context.Context, query string, args, v any) error {
	return unavailable(t.Tx.Query(ctx, query, args, v))
}

func (t guardedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := t.Tx.ExecContext(ctx, query, args...)
	return res, unavailable(err)
}

func (t guardedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := t.Tx.QueryContext(ctx, query, args...)
	return rows, unavailable(err)
}

func (t guardedTx) Commit() error   { return unavailable(t.Tx.Commit()) }
func (t guardedTx) Rollback() error { return unavailable(t.Tx.Rollback()) }
