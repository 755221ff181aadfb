package pgtest_test

import (
	"context"
	"database/sql"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/test/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func open(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestDatabaseIsMigratedAndIsolated(t *testing.T) {
	ctx := context.Background()
	a, b := open(t, pgtest.Database(t)), open(t, pgtest.Database(t))

	_, err := a.ExecContext(ctx, `INSERT INTO users (id, email, created_at, updated_at)
		VALUES ('0190d6a4-8e2b-7c3d-9f00-000000000001', 'iso@example.com', now(), now())`)
	require.NoError(t, err, "the clone has the migrated users table")

	var n int
	require.NoError(t, a.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n))
	assert.Equal(t, 1, n)
	require.NoError(t, b.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n))
	assert.Equal(t, 0, n, "another test's database does not see the row")

	var tier string
	require.NoError(t, a.QueryRowContext(ctx, `SELECT tier FROM users`).Scan(&tier))
	assert.Equal(t, "free", tier, "every migration ran on the template")
}

func TestEmptyDatabaseHasNoTables(t *testing.T) {
	var n int
	err := open(t, pgtest.EmptyDatabase(t)).QueryRowContext(context.Background(),
		`SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&n)
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestContainerKeepsItsURLAcrossStopAndStart(t *testing.T) {
	c := pgtest.NewContainer(t)
	db := open(t, c.URL())
	ctx := context.Background()
	_, err := db.ExecContext(ctx, `INSERT INTO users (id, email, created_at, updated_at)
		VALUES ('0190d6a4-8e2b-7c3d-9f00-000000000002', 'outage@example.com', now(), now())`)
	require.NoError(t, err, "the container's database is migrated")

	c.Stop()
	require.Error(t, db.PingContext(ctx), "a stopped container refuses connections")

	c.Start()
	var n int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n), "the same URL reaches it again")
	assert.Equal(t, 1, n, "the data survived the restart")
}
