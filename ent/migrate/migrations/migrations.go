// Package migrations embeds Gatehouse's versioned schema migrations: goose
// SQL files, one directory per dialect (postgres/, sqlite/), generated from
// ent/schema by ent/migrategen and checked by Atlas' atlas.sum in each
// directory. Files are never edited once released; a schema change adds a
// new file.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// FS returns the migration files for an Ent dialect name ("postgres" or
// "sqlite3"), rooted at that dialect's directory, as goose reads them.
func FS(dialect string) (fs.FS, error) {
	var dir string
	switch dialect {
	case "postgres":
		dir = "postgres"
	case "sqlite3":
		dir = "sqlite"
	default:
		return nil, fmt.Errorf("migrations: no migrations for dialect %q", dialect)
	}
	return fs.Sub(files, dir)
}
