package entstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/gatehouse-auth/gatehouse/adapters/entstore"
	"github.com/gatehouse-auth/gatehouse/domain"
	entmigrate "github.com/gatehouse-auth/gatehouse/ent/migrate"
	"github.com/gatehouse-auth/gatehouse/ent/migrate/migrations"
	"github.com/gatehouse-auth/gatehouse/ent/migrategen/schemadiff"
)

// mustFS returns the embedded migrations of dialectName.
func mustFS(t *testing.T, dialectName string) fs.FS {
	t.Helper()
	fsys, err := migrations.FS(dialectName)
	require.NoError(t, err)
	return fsys
}

// migrationFiles returns the names of the embedded migrations of
// dialectName, in version order.
func migrationFiles(t *testing.T, dialectName string) []string {
	t.Helper()
	names, err := fs.Glob(mustFS(t, dialectName), "*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, names)
	return names // fs.Glob sorts, and versions are zero-padded
}

// TestMigrationHistory pins the released history, which must never be
// rewritten, and keeps the dialects numbered alike.
func TestMigrationHistory(t *testing.T) {
	pg, lite := migrationFiles(t, dialect.Postgres), migrationFiles(t, dialect.SQLite)
	require.Equal(t, pg, lite, "the dialects' migrations differ in versions or names")
	require.Equal(t, []string{"00001_users.sql", "00002_auth.sql", "00003_rotated_tokens.sql"}, pg[:3])
	for i, name := range pg {
		require.True(t, strings.HasPrefix(name, fmt.Sprintf("%05d_", i+1)), "%s is not version %d", name, i+1)
	}
}

// openSQLite opens a fresh SQLite file, unmigrated, as the service opens
// its database: enforcing foreign keys, over one connection.
func openSQLite(t *testing.T) *entstore.DB {
	t.Helper()
	db, err := entstore.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "gatehouse.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

func TestMigrateSQLiteMatchesSchema(t *testing.T) {
	db := openSQLite(t)
	require.NoError(t, db.Migrate(context.Background()))
	requireNoDrift(t, db.SQL(), dialect.SQLite)
}

func TestMigrateSQLiteIsIdempotent(t *testing.T) {
	testMigrateIsIdempotent(t, openSQLite(t))
}

func TestMigrateSQLiteUpgradesFromFirstMigration(t *testing.T) {
	testUpgradeFromFirstMigration(t, openSQLite(t))
}

func TestMigrateSQLiteBackfillsSessionMethods(t *testing.T) {
	testBackfillSessionMethods(t, openSQLite(t))
}

func TestMigrationStatusSQLite(t *testing.T) {
	testMigrationStatus(t, openSQLite(t))
}

// TestMigrateSQLiteRestoresForeignKeys checks that the connection Migrate
// switched foreign-key enforcement off on gets it back: with one
// connection in the pool (see entstore.Open), it is the one Migrate used.
func TestMigrateSQLiteRestoresForeignKeys(t *testing.T) {
	ctx := context.Background()
	store := openSQLite(t)
	require.NoError(t, store.Migrate(ctx))

	db := store.SQL()
	var enforced bool
	require.NoError(t, db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&enforced))
	require.True(t, enforced, "foreign keys are no longer enforced after Migrate")
	_, err := db.ExecContext(ctx, `INSERT INTO sessions (id, token_hash, expires_at, last_used_at, user_id)
		VALUES ('s1', 'h1', '2030-01-01', '2030-01-01', 'no such user')`)
	require.ErrorContains(t, err, "FOREIGN KEY", "a session of a missing user was accepted")
}

// TestMigrateSQLiteKeepsRowsReferencingARebuiltTable checks the reason
// Migrate switches foreign keys off on SQLite. Migration 2 rebuilds users
// there (create new_users, copy, drop users, rename); were foreign keys
// enforced, dropping users would delete every row that references a user
// ON DELETE CASCADE. Migration 1 has nothing that references users yet, so
// the test adds such a table.
func TestMigrateSQLiteKeepsRowsReferencingARebuiltTable(t *testing.T) {
	ctx := context.Background()
	store := openSQLite(t)
	db := store.SQL()
	migrateUpTo(t, store, 1)
	for _, stmt := range []string{
		`INSERT INTO users (id, email_verified, created_at, updated_at)
			VALUES ('0190a0b1-0000-7000-8000-000000000001', false, '2026-01-02', '2026-01-02')`,
		`CREATE TABLE notes (id integer PRIMARY KEY,
			user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE)`,
		`INSERT INTO notes (user_id) VALUES ('0190a0b1-0000-7000-8000-000000000001')`,
	} {
		_, err := db.ExecContext(ctx, stmt)
		require.NoError(t, err)
	}

	require.NoError(t, store.Migrate(ctx))

	var notes int
	require.NoError(t, db.QueryRowContext(ctx, "SELECT count(*) FROM notes").Scan(&notes))
	require.Equal(t, 1, notes, "rebuilding users deleted the rows that reference it")
}

// TestMigrateSQLiteReportsDanglingReferences checks that Migrate, having
// applied migrations without foreign-key enforcement, reports a row that
// references nothing.
func TestMigrateSQLiteReportsDanglingReferences(t *testing.T) {
	ctx := context.Background()
	store := openSQLite(t)
	db := store.SQL() // one connection (see entstore.Open), so the pragma holds for every statement
	migrateUpTo(t, store, 1)
	for _, stmt := range []string{
		"PRAGMA foreign_keys = off",
		"CREATE TABLE notes (id integer PRIMARY KEY, user_id uuid NOT NULL REFERENCES users (id))",
		"INSERT INTO notes (user_id) VALUES ('no such user')",
		"PRAGMA foreign_keys = on",
	} {
		_, err := db.ExecContext(ctx, stmt)
		require.NoError(t, err)
	}

	err := store.Migrate(ctx)
	require.ErrorContains(t, err, "entstore: migrate: foreign key check after migrating: notes row 1 references a missing users")
}

// TestNoMigrationsForUnknownDialect checks what Migrate relied on when it
// took a dialect name, now that a DB only has the dialects Open supports:
// the embedded migrations name no other.
func TestNoMigrationsForUnknownDialect(t *testing.T) {
	_, err := migrations.FS("mysql")
	require.ErrorContains(t, err, `migrations: no migrations for dialect "mysql"`)
}

// requireNoDrift fails t when the schema of db, as the migrations left it,
// differs from ent/schema in either direction: anything Ent would still
// create or change, any column or index it would drop, and any table that
// ent/schema does not know.
func requireNoDrift(t *testing.T, db *sql.DB, dialectName string) {
	t.Helper()
	ctx := context.Background()
	var plan bytes.Buffer
	// Inspect mode compares the live database with ent/schema; the drop
	// options make columns and indexes that only the migrations have count.
	// The diff hook is the generator's, so both agree on what a change is.
	err := entmigrate.NewSchema(entsql.OpenDB(dialectName, db)).WriteTo(ctx, &plan,
		entmigrate.WithDropColumn(true), entmigrate.WithDropIndex(true),
		schema.WithDiffHook(schemadiff.IgnoreParenthesizedDefaults))
	require.NoError(t, err)
	var drift []string
	for _, line := range strings.Split(plan.String(), "\n") {
		if line = strings.TrimSpace(line); line != "" && line != "BEGIN;" && line != "COMMIT;" {
			drift = append(drift, line)
		}
	}
	// Ent only inspects the tables it knows, and never drops one.
	known := map[string]bool{"goose_db_version": true}
	for _, tbl := range entmigrate.Tables {
		known[tbl.Name] = true
	}
	for _, name := range tableNames(t, db, dialectName) {
		if !known[name] {
			drift = append(drift, fmt.Sprintf("-- and drop table %q, which is not in ent/schema", name))
		}
	}
	if len(drift) > 0 {
		t.Fatalf("the %s migrations do not match ent/schema; to match it, Ent would run:\n\t%s\n"+
			"Regenerate with `make generate NAME=...` (or fix the migration) so that they agree.",
			dialectName, strings.Join(drift, "\n\t"))
	}
}

// tableNames returns the names of the tables in db's current schema.
func tableNames(t *testing.T, db *sql.DB, dialectName string) []string {
	t.Helper()
	query := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`
	if dialectName == dialect.Postgres {
		query = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	rows, err := db.QueryContext(context.Background(), query)
	require.NoError(t, err)
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		names = append(names, name)
	}
	require.NoError(t, rows.Err())
	slices.Sort(names)
	return names
}

// testMigrateIsIdempotent runs Migrate twice on an empty database and
// checks that the second run changed nothing.
func testMigrateIsIdempotent(t *testing.T, store *entstore.DB) {
	ctx := context.Background()
	db, dialectName := store.SQL(), store.Dialect()
	require.NoError(t, store.Migrate(ctx))
	first := versionRows(t, db)
	require.Len(t, first, len(migrationFiles(t, dialectName))+1, "goose records version 0 and each migration once")
	tables := tableNames(t, db, dialectName)

	require.NoError(t, store.Migrate(ctx))
	require.Equal(t, first, versionRows(t, db), "the second Migrate applied something")
	require.Equal(t, tables, tableNames(t, db, dialectName))
}

// versionRows returns goose's version table, one row per applied version.
func versionRows(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(),
		"SELECT id, version_id, is_applied, tstamp FROM goose_db_version ORDER BY id")
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var (
			id, version int64
			applied     bool
			at          time.Time
		)
		require.NoError(t, rows.Scan(&id, &version, &applied, &at))
		out = append(out, fmt.Sprint(id, version, applied, at.UnixNano()))
	}
	require.NoError(t, rows.Err())
	return out
}

// testUpgradeFromFirstMigration applies only migration 1 (users before the
// auth phase), stores two users, applies the rest with Migrate, and checks
// that both users survived with the default tier.
func testUpgradeFromFirstMigration(t *testing.T, store *entstore.DB) {
	ctx := context.Background()
	db, dialectName := store.SQL(), store.Dialect()
	require.Len(t, migrateUpTo(t, store, 1), 1)
	require.NotContains(t, columnNames(t, db, dialectName, "users"), "tier", "migration 1 already has tier")

	insert := "INSERT INTO users (id, email, password_hash, email_verified, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
	if dialectName == dialect.Postgres {
		insert = "INSERT INTO users (id, email, password_hash, email_verified, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)"
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	users := []struct{ id, email string }{
		{"0190a0b1-0000-7000-8000-000000000001", "ada@example.com"},
		{"0190a0b1-0000-7000-8000-000000000002", "grace@example.com"},
	}
	for _, u := range users {
		_, err := db.ExecContext(ctx, insert, u.id, u.email, "hash", true, now, now)
		require.NoError(t, err)
	}

	require.NoError(t, store.Migrate(ctx))

	rows, err := db.QueryContext(ctx, "SELECT email, tier FROM users ORDER BY email")
	require.NoError(t, err)
	defer rows.Close()
	var got []string
	for rows.Next() {
		var email, tier string
		require.NoError(t, rows.Scan(&email, &tier))
		got = append(got, email+" "+tier)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"ada@example.com free", "grace@example.com free"}, got)
}

// columnNames returns the names of table's columns.
func columnNames(t *testing.T, db *sql.DB, dialectName, table string) []string {
	t.Helper()
	query, args := "SELECT name FROM pragma_table_info(?)", []any{table}
	if dialectName == dialect.Postgres {
		query = `SELECT column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1`
	}
	rows, err := db.QueryContext(context.Background(), query, args...)
	require.NoError(t, err)
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		names = append(names, name)
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, names, "table %s does not exist", table)
	return names
}

// testMigrationStatus checks MigrationStatus on an empty database and after
// Migrate.
func testMigrationStatus(t *testing.T, db *entstore.DB) {
	ctx := context.Background()
	state := func() (names []string, applied []bool) {
		t.Helper()
		status, err := db.MigrationStatus(ctx)
		require.NoError(t, err)
		for i, s := range status {
			require.Equal(t, int64(i+1), s.Version)
			require.Equal(t, s.Applied, !s.AppliedAt.IsZero(), "%s: applied %v at %v", s.Name, s.Applied, s.AppliedAt)
			names = append(names, s.Name)
			applied = append(applied, s.Applied)
		}
		return names, applied
	}

	files := migrationFiles(t, db.Dialect())
	names, applied := state()
	require.Equal(t, files, names)
	require.NotContains(t, applied, true)

	require.NoError(t, db.Migrate(ctx))
	names, applied = state()
	require.Equal(t, files, names)
	require.NotContains(t, applied, false)
}

// testBackfillSessionMethods applies the migrations before sessions had
// auth_methods, stores a session of a user with an email and one of an
// anonymous user, applies the rest with Migrate, and checks that the
// first was marked as started by password and the second by nothing.
func testBackfillSessionMethods(t *testing.T, store *entstore.DB) {
	ctx := context.Background()
	db, dialectName := store.SQL(), store.Dialect()
	migrateUpTo(t, store, 6)
	require.NotContains(t, columnNames(t, db, dialectName, "sessions"), "auth_methods", "migration 6 already has auth_methods")

	const (
		ada  = "0190a0b1-0000-7000-8000-000000000001"
		anon = "0190a0b1-0000-7000-8000-000000000002"
	)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, stmt := range []struct {
		query string
		args  []any
	}{
		{"INSERT INTO users (id, email, password_hash, email_verified, tier, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
			[]any{ada, "ada@example.com", "hash", true, "free", now, now}},
		{"INSERT INTO users (id, email_verified, tier, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)",
			[]any{anon, false, "anonymous", now, now}},
		{"INSERT INTO sessions (id, token_hash, expires_at, last_used_at, user_id) VALUES ($1, $2, $3, $4, $5)",
			[]any{"0190a0b1-0000-7000-8000-00000000000a", "hash-ada", now, now, ada}},
		{"INSERT INTO sessions (id, token_hash, expires_at, last_used_at, user_id) VALUES ($1, $2, $3, $4, $5)",
			[]any{"0190a0b1-0000-7000-8000-00000000000b", "hash-anon", now, now, anon}},
	} {
		_, err := db.ExecContext(ctx, stmt.query, stmt.args...)
		require.NoError(t, err, stmt.query)
	}

	require.NoError(t, store.Migrate(ctx))

	rows, err := db.QueryContext(ctx, "SELECT token_hash, auth_methods FROM sessions ORDER BY token_hash")
	require.NoError(t, err)
	defer rows.Close()
	var got []string
	for rows.Next() {
		var hash, methods string
		require.NoError(t, rows.Scan(&hash, &methods))
		got = append(got, fmt.Sprintf("%s=%q", hash, methods))
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{`hash-ada="pwd"`, `hash-anon=""`}, got)

	sess, err := store.Stores().Sessions.ByTokenHash(ctx, "hash-ada")
	require.NoError(t, err)
	require.Equal(t, []domain.AuthMethod{domain.AuthPassword}, sess.Methods, "the store reads the backfilled column")
}

// migrateUpTo applies store's migrations up to version, as an older
// release would have left the database, and returns those it applied.
func migrateUpTo(t *testing.T, store *entstore.DB, version int64) []*goose.MigrationResult {
	t.Helper()
	gooseDialect := goose.DialectSQLite3
	if store.Dialect() == dialect.Postgres {
		gooseDialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(gooseDialect, store.SQL(), mustFS(t, store.Dialect()),
		goose.WithLogger(goose.NopLogger()), goose.WithDisableGlobalRegistry(true))
	require.NoError(t, err)
	applied, err := p.UpTo(context.Background(), version)
	require.NoError(t, err)
	return applied
}
