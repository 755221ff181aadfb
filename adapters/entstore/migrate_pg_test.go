package entstore_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	"entgo.io/ent/dialect"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/entstore"
	"github.com/gatehouse-auth/gatehouse/test/pgtest"
)

// The Postgres tests take their databases from pgtest, whose container the
// package's one TestMain starts: func TestMain(m *testing.M) {
// os.Exit(pgtest.Main(m)) }. Without it they fail rather than skip.

// openPostgres returns a connection pool to the database url names.
func openPostgres(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

func TestMigratePostgresMatchesSchema(t *testing.T) {
	t.Parallel()
	db := openPostgres(t, pgtest.EmptyDatabase(t))
	require.NoError(t, entstore.Migrate(context.Background(), db, dialect.Postgres))
	requireNoDrift(t, db, dialect.Postgres)
}

func TestMigratePostgresIsIdempotent(t *testing.T) {
	t.Parallel()
	testMigrateIsIdempotent(t, openPostgres(t, pgtest.EmptyDatabase(t)), dialect.Postgres)
}

func TestMigratePostgresUpgradesFromFirstMigration(t *testing.T) {
	t.Parallel()
	testUpgradeFromFirstMigration(t, openPostgres(t, pgtest.EmptyDatabase(t)), dialect.Postgres)
}

func TestMigrationStatusPostgres(t *testing.T) {
	t.Parallel()
	testMigrationStatus(t, openPostgres(t, pgtest.EmptyDatabase(t)), dialect.Postgres)
}

// TestMigratePostgresConcurrently starts several replicas, each with its
// own connection pool, that all migrate one empty database at once: all
// must succeed, and every migration must be applied exactly once.
func TestMigratePostgresConcurrently(t *testing.T) {
	t.Parallel()
	const replicas = 8
	url := pgtest.EmptyDatabase(t)
	pools := make([]*sql.DB, replicas)
	for i := range pools {
		pools[i] = openPostgres(t, url)
		require.NoError(t, pools[i].PingContext(context.Background()))
	}

	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, replicas)
	)
	for i, db := range pools {
		wg.Go(func() {
			<-start
			errs[i] = entstore.Migrate(context.Background(), db, dialect.Postgres)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "replica %d", i)
	}

	db := pools[0]
	var rows, versions int
	require.NoError(t, db.QueryRowContext(context.Background(),
		"SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0").Scan(&rows, &versions))
	files := len(migrationFiles(t, dialect.Postgres))
	require.Equal(t, files, versions, "not every migration was applied")
	require.Equal(t, files, rows, "a migration was applied more than once")
	requireNoDrift(t, db, dialect.Postgres)
}
