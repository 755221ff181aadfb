package entstore_test

import (
	"context"
	"sync"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/entstore"
	"github.com/gatehouse-auth/gatehouse/test/pgtest"
)

// The Postgres tests take their databases from pgtest, whose container the
// package's one TestMain starts: func TestMain(m *testing.M) {
// os.Exit(pgtest.Main(m)) }. Without it they fail rather than skip.

// openPostgres opens the database url names, unmigrated.
func openPostgres(t *testing.T, url string) *entstore.DB {
	t.Helper()
	db, err := entstore.Open(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

func TestMigratePostgresMatchesSchema(t *testing.T) {
	t.Parallel()
	db := openPostgres(t, pgtest.EmptyDatabase(t))
	require.NoError(t, db.Migrate(context.Background()))
	requireNoDrift(t, db.SQL(), dialect.Postgres)
}

func TestMigratePostgresIsIdempotent(t *testing.T) {
	t.Parallel()
	testMigrateIsIdempotent(t, openPostgres(t, pgtest.EmptyDatabase(t)))
}

func TestMigratePostgresUpgradesFromFirstMigration(t *testing.T) {
	t.Parallel()
	testUpgradeFromFirstMigration(t, openPostgres(t, pgtest.EmptyDatabase(t)))
}

func TestMigratePostgresBackfillsSessionMethods(t *testing.T) {
	t.Parallel()
	testBackfillSessionMethods(t, openPostgres(t, pgtest.EmptyDatabase(t)))
}

func TestMigrationStatusPostgres(t *testing.T) {
	t.Parallel()
	testMigrationStatus(t, openPostgres(t, pgtest.EmptyDatabase(t)))
}

// TestMigratePostgresConcurrently starts several replicas, each with its
// own connection pool, that all migrate one empty database at once: all
// must succeed, and every migration must be applied exactly once.
func TestMigratePostgresConcurrently(t *testing.T) {
	t.Parallel()
	const replicas = 8
	url := pgtest.EmptyDatabase(t)
	pools := make([]*entstore.DB, replicas)
	for i := range pools {
		pools[i] = openPostgres(t, url) // Open has pinged it
	}

	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, replicas)
	)
	for i, db := range pools {
		wg.Go(func() {
			<-start
			errs[i] = db.Migrate(context.Background())
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "replica %d", i)
	}

	db := pools[0].SQL()
	var rows, versions int
	require.NoError(t, db.QueryRowContext(context.Background(),
		"SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0").Scan(&rows, &versions))
	files := len(migrationFiles(t, dialect.Postgres))
	require.Equal(t, files, versions, "not every migration was applied")
	require.Equal(t, files, rows, "a migration was applied more than once")
	requireNoDrift(t, db, dialect.Postgres)
}
