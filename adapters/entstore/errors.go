package entstore

import (
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/ent"
)

// notFound returns domain.ErrNotFound from op.
func notFound(op string) error {
	return fmt.Errorf("entstore: %s: %w", op, domain.ErrNotFound)
}

// Postgres SQLSTATE codes of the constraint violations the stores map.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// isUniqueViolation reports whether err is a unique (or primary-key)
// violation on either database. It reads the driver's error code, not its
// message, so it does not depend on how the constraint is named.
func isUniqueViolation(err error) bool {
	return hasCode(err, pgUniqueViolation, sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// isForeignKeyViolation reports whether err is a foreign-key violation on
// either database.
func isForeignKeyViolation(err error) bool {
	return hasCode(err, pgForeignKeyViolation, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY)
}

// hasCode reports whether err carries the Postgres SQLSTATE pgCode or one of
// the extended SQLite result codes sqliteCodes (modernc turns extended codes
// on for every connection).
func hasCode(err error, pgCode string, sqliteCodes ...int) bool {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgErr.Code == pgCode
	}
	if sqliteErr, ok := errors.AsType[*sqlite.Error](err); ok {
		return slices.Contains(sqliteCodes, sqliteErr.Code())
	}
	return false
}

// ownedRowError maps an error from op on a table whose rows belong to a user
// (tokens, sessions with their rotated-away hashes, factors) to the
// domain's errors: not found to ErrNotFound, and a foreign-key violation,
// which on create can only mean the owning user does not exist, to
// ErrNotFound too.
func ownedRowError(op string, err error) error {
	switch {
	case ent.IsNotFound(err), isForeignKeyViolation(err):
		return notFound(op)
	default:
		return fmt.Errorf("entstore: %s: %w", op, err)
	}
}
