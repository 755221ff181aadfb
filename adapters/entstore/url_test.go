package entstore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/entstore"
	"github.com/gatehouse-auth/gatehouse/adapters/setting"
)

// readURL reads GATEHOUSE_DATABASE_URL from vars.
func readURL(vars map[string]string) (entstore.URL, error) {
	r := setting.NewReader(func(name string) string { return vars[name] })
	u := entstore.ReadURL(r)
	return u, r.Err()
}

func TestReadURLDefaultsToALocalSQLiteFile(t *testing.T) {
	u, err := readURL(nil)
	require.NoError(t, err)
	assert.Equal(t, "sqlite3", u.Dialect())
	assert.Equal(t, "gatehouse.db", u.SQLitePath())
	assert.Equal(t, "sqlite://gatehouse.db", u.String())
}

func TestReadURLSQLitePaths(t *testing.T) {
	for raw, want := range map[string]string{
		"sqlite:///var/lib/gatehouse.db": "/var/lib/gatehouse.db",
		"sqlite://./data/gatehouse.db":   "data/gatehouse.db",
		" sqlite://gatehouse.db ":        "gatehouse.db",
	} {
		u, err := readURL(map[string]string{"GATEHOUSE_DATABASE_URL": raw})
		require.NoError(t, err, raw)
		assert.Equal(t, want, u.SQLitePath(), raw)
	}
}

func TestReadURLPostgres(t *testing.T) {
	for _, raw := range []string{
		"postgres://gatehouse:hunter2@db:5432/gatehouse?sslmode=disable&password=hunter3",
		"postgresql://gatehouse:hunter2@db/gatehouse",
	} {
		u, err := readURL(map[string]string{"GATEHOUSE_DATABASE_URL": raw})
		require.NoError(t, err, raw)
		assert.Equal(t, "postgres", u.Dialect(), raw)
		assert.Empty(t, u.SQLitePath(), raw)
		assert.Contains(t, u.String(), "gatehouse:xxxxx@db", raw)
		assert.NotContains(t, u.String(), "hunter", raw)
	}
}

func TestReadURLErrorsNameTheVariableNotTheURL(t *testing.T) {
	for raw, want := range map[string]string{
		"mysql://admin:hunter2@db/x":        "GATEHOUSE_DATABASE_URL: must start with postgres://, postgresql:// or sqlite://, not mysql://",
		"hunter2@db/x":                      "GATEHOUSE_DATABASE_URL: must start with postgres://, postgresql:// or sqlite://",
		"sqlite://":                         "GATEHOUSE_DATABASE_URL: sqlite:// needs a file path, as in sqlite://gatehouse.db",
		"sqlite://gatehouse.db?key=hunter2": "GATEHOUSE_DATABASE_URL: sqlite:// takes no query parameters",
		"postgres://u:hunter2@db:port/x":    "GATEHOUSE_DATABASE_URL: is not a Postgres URL",
	} {
		u, err := readURL(map[string]string{"GATEHOUSE_DATABASE_URL": raw})
		require.ErrorContains(t, err, want, raw)
		assert.NotContains(t, err.Error(), "hunter2", raw)
		assert.Empty(t, u.Dialect(), "%s: the zero URL", raw)
	}
}

func TestOpenParsesAsReadURLDoes(t *testing.T) {
	_, err := entstore.Open(context.Background(), "sqlite://gatehouse.db?mode=ro")
	require.EqualError(t, err, "entstore: open: database URL sqlite:// takes no query parameters")
	_, err = entstore.OpenURL(context.Background(), entstore.URL{})
	require.EqualError(t, err, "entstore: open: no database URL")
}

func TestOpenURLOpensTheSQLiteFileReadURLNamed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	u, err := readURL(map[string]string{"GATEHOUSE_DATABASE_URL": "sqlite://" + path})
	require.NoError(t, err)
	db, err := entstore.OpenURL(context.Background(), u)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	assert.Equal(t, u.Dialect(), db.Dialect())
	assert.FileExists(t, path)
}

func TestWithStatementTimeoutLeavesSQLiteAsItIs(t *testing.T) {
	u, err := readURL(map[string]string{"GATEHOUSE_DATABASE_URL": "sqlite://gatehouse.db"})
	require.NoError(t, err)
	assert.Equal(t, u, u.WithStatementTimeout(time.Second))
}
