package entstore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/entstore"
	"github.com/gatehouse-auth/gatehouse/test/contract"
	"github.com/gatehouse-auth/gatehouse/test/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// openMigrated opens the database at url, applies the real migrations and
// closes it when t ends.
func openMigrated(t *testing.T, url string) *entstore.DB {
	t.Helper()
	ctx := context.Background()
	db, err := entstore.Open(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx))
	return db
}

func subjectOf(db *entstore.DB) contract.Subject {
	return contract.Subject{Stores: db.Stores(), Transactor: db, Standalone: db.Standalone()}
}

func TestContractSQLite(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Subject {
		return subjectOf(openMigrated(t, "sqlite://"+filepath.Join(t.TempDir(), "gatehouse.db")))
	})
}

func TestContractPostgres(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Subject {
		db, err := entstore.Open(context.Background(), pgtest.Database(t))
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, db.Close()) })
		return subjectOf(db)
	})
}
