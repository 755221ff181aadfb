package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"github.com/stretchr/testify/require"
)

func TestNextVersion(t *testing.T) {
	dir := t.TempDir()
	v, err := nextVersion(dir)
	require.NoError(t, err)
	require.Equal(t, "00001", v, "first version of an empty directory")

	for path, content := range map[string]string{
		"postgres/00001_users.sql": "", "postgres/00002_auth.sql": "", "postgres/atlas.sum": "",
		"sqlite/00001_users.sql": "", "sqlite/00002_auth.sql": "", "sqlite/00003_only_sqlite.sql": "",
	} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, path)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, path), []byte(content), 0o644))
	}
	v, err = nextVersion(dir)
	require.NoError(t, err)
	require.Equal(t, "00004", v, "one above the highest version of any dialect")
}

func TestVersionedFormatter(t *testing.T) {
	files, err := versionedFormatter{version: "00007"}.Format(&migrate.Plan{
		Name:    "add_locale",
		Changes: []*migrate.Change{{Cmd: `ALTER TABLE "users" ADD COLUMN "locale" text`, Reverse: `ALTER TABLE "users" DROP COLUMN "locale"`}},
	})
	require.NoError(t, err)
	require.Len(t, files, 1)
	require.Equal(t, "00007_add_locale.sql", files[0].Name())
	require.Equal(t, "-- +goose Up\nALTER TABLE \"users\" ADD COLUMN \"locale\" text;\n\n-- +goose Down\nALTER TABLE \"users\" DROP COLUMN \"locale\";\n",
		string(files[0].Bytes()))
}

func TestRunRejectsBadNames(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"", "Add-Locale", "1st", "a b"} {
		var out bytes.Buffer
		err := run(context.Background(), []string{"-dir", dir, "-name", name}, &out, &out)
		require.ErrorContains(t, err, "-name", "name %q", name)
	}
}
