// Command migrategen writes Gatehouse's next versioned migration, for every
// dialect the service runs on, from the difference between the checked-in
// migration files and the Ent schema.
//
// Run it from the module root after `go generate ./ent`:
//
//	go run ./ent/migrategen -name add_user_locale
//
// For each dialect it replays ent/migrate/migrations/<dialect> on an empty
// dev database (SQLite: in memory; Postgres: a throwaway container from
// GATEHOUSE_TEST_POSTGRES_IMAGE, by default the tests' pgimage.Default),
// asks Ent for the statements that take that state to ent/migrate's Tables,
// and writes them as a goose file named <version>_<name>.sql, updating the
// directory's atlas.sum. Versions are zero-padded integers, one higher than
// the highest version of either dialect, so both directories keep the same
// numbering. Nothing is written unless every dialect was diffed
// successfully, and nothing at all when the schema has no changes.
//
// On SQLite, Atlas changes most columns by rebuilding the table (create
// new_t, copy, drop t, rename); entstore.Migrate applies such files with
// foreign-key enforcement off, so rows that reference t survive.
//
// The Postgres container is started with testcontainers-go, so its
// environment applies: TESTCONTAINERS_RYUK_DISABLED defaults to true here
// (this program removes its container itself), and where testcontainers
// guesses the Docker host wrongly (inside a container),
// TESTCONTAINERS_HOST_OVERRIDE=localhost fixes it.
//
// Ent never plans DROP TABLE. Removing a table, or moving data, takes a
// hand-written goose file in each dialect's directory; afterwards
//
//	go run ./ent/migrategen -rehash
//
// recomputes the atlas.sum files, which every run checks before it diffs,
// so that an edited or misplaced file is noticed.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"syscall"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqltool"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/modules/postgres"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	entmigrate "github.com/gatehouse-auth/gatehouse/ent/migrate"
	"github.com/gatehouse-auth/gatehouse/ent/migrategen/schemadiff"
	"github.com/gatehouse-auth/gatehouse/test/pgtest/pgimage"
)

const (
	defaultDir = "ent/migrate/migrations"
	// containerLabel marks the dev database container, so one left behind
	// by a killed run can be found.
	containerLabel = "io.gatehouse.migrategen"
)

var (
	validName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	// versionPrefix is the version goose reads from a file name.
	versionPrefix = regexp.MustCompile(`^([0-9]+)_.*\.sql$`)
)

// target is one dialect's migration directory and how to get a dev database
// for it.
type target struct {
	dialect string // Ent's dialect name
	subdir  string // directory below -dir
	// open returns an empty dev database and a function that disposes of it.
	open func(ctx context.Context, stderr io.Writer) (*sql.DB, func(), error)
}

var targets = []target{
	{dialect: dialect.SQLite, subdir: "sqlite", open: openSQLite},
	{dialect: dialect.Postgres, subdir: "postgres", open: openPostgres},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "migrategen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("migrategen", flag.ContinueOnError)
	flags.SetOutput(stderr)
	name := flags.String("name", "", "name of the migration, e.g. add_user_locale (lower case, digits, underscores)")
	dir := flags.String("dir", defaultDir, "migration directory holding one sub-directory per dialect")
	rehash := flags.Bool("rehash", false, "only recompute each dialect's atlas.sum, after editing files by hand")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", flags.Args())
	}
	if fi, err := os.Stat(*dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("migration directory %s not found (run from the module root or pass -dir)", *dir)
	}
	if *rehash {
		return rehashAll(*dir, stdout)
	}
	if !validName.MatchString(*name) {
		return fmt.Errorf("-name %q: want lower-case letters, digits and underscores, starting with a letter", *name)
	}
	version, err := nextVersion(*dir)
	if err != nil {
		return err
	}

	// Plan every dialect before writing anything, so that a failure (say,
	// no Docker) never leaves one dialect a migration ahead of the other.
	planned := make(map[string]map[string][]byte) // subdir -> file -> contents
	for _, tg := range targets {
		files, err := plan(ctx, tg, filepath.Join(*dir, tg.subdir), version, *name, stderr)
		if err != nil {
			return fmt.Errorf("%s: %w", tg.dialect, err)
		}
		planned[tg.subdir] = files
	}

	wrote := false
	for _, tg := range targets {
		files := planned[tg.subdir]
		if len(files) == 0 {
			fmt.Fprintf(stdout, "%s: schema has no changes\n", tg.dialect)
			continue
		}
		out := filepath.Join(*dir, tg.subdir)
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		for _, f := range slices.Sorted(maps.Keys(files)) {
			path := filepath.Join(out, f)
			if err := os.WriteFile(path, files[f], 0o644); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: wrote %s\n", tg.dialect, path)
		}
		wrote = true
	}
	if !wrote {
		fmt.Fprintln(stdout, "no schema changes: nothing written")
	}
	return nil
}

// rehashAll rewrites the atlas.sum of every dialect's directory.
func rehashAll(dir string, stdout io.Writer) error {
	for _, tg := range targets {
		d, err := sqltool.NewGooseDir(filepath.Join(dir, tg.subdir))
		if err != nil {
			return fmt.Errorf("%s: %w", tg.dialect, err)
		}
		sum, err := d.Checksum()
		if err != nil {
			return fmt.Errorf("%s: %w", tg.dialect, err)
		}
		if err := migrate.WriteSumFile(d, sum); err != nil {
			return fmt.Errorf("%s: %w", tg.dialect, err)
		}
		fmt.Fprintf(stdout, "%s: wrote %s\n", tg.dialect, filepath.Join(d.Path(), migrate.HashFileName))
	}
	return nil
}

// nextVersion returns the version after the highest one in any dialect's
// directory, zero-padded to five digits.
func nextVersion(dir string) (string, error) {
	var highest int64
	for _, tg := range targets {
		entries, err := os.ReadDir(filepath.Join(dir, tg.subdir))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		for _, e := range entries {
			m := versionPrefix.FindStringSubmatch(e.Name())
			if m == nil {
				continue
			}
			v, err := strconv.ParseInt(m[1], 10, 64)
			if err != nil {
				return "", fmt.Errorf("version of %s: %w", e.Name(), err)
			}
			highest = max(highest, v)
		}
	}
	return fmt.Sprintf("%05d", highest+1), nil
}

// plan replays the dialect's directory on a dev database and returns the
// files Ent would add (the new migration and the updated atlas.sum), or
// none when the schema has no changes. It works on a copy of the
// directory, so the real one is only written by the caller.
func plan(ctx context.Context, tg target, src, version, name string, stderr io.Writer) (map[string][]byte, error) {
	work, err := os.MkdirTemp("", "migrategen-"+tg.subdir+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	before, err := copyDir(src, work)
	if err != nil {
		return nil, err
	}
	dir, err := sqltool.NewGooseDir(work)
	if err != nil {
		return nil, err
	}

	db, closeDB, err := tg.open(ctx, stderr)
	if err != nil {
		return nil, fmt.Errorf("dev database: %w", err)
	}
	defer closeDB()
	m, err := schema.NewMigrate(entsql.OpenDB(tg.dialect, db),
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithFormatter(versionedFormatter{version: version}),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
		schema.WithDiffHook(schemadiff.IgnoreParenthesizedDefaults),
		schema.WithErrNoPlan(true),
	)
	if err != nil {
		return nil, err
	}
	err = m.NamedDiff(ctx, name, entmigrate.Tables...)
	if errors.Is(err, migrate.ErrNoPlan) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}

	changed := make(map[string][]byte)
	entries, err := os.ReadDir(work)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(work, e.Name()))
		if err != nil {
			return nil, err
		}
		if old, ok := before[e.Name()]; !ok || string(old) != string(b) {
			changed[e.Name()] = b
		}
	}
	return changed, nil
}

// copyDir copies the regular files of src (which may not exist yet) into
// dst and returns their contents by name.
func copyDir(src, dst string) (map[string][]byte, error) {
	files := make(map[string][]byte)
	entries, err := os.ReadDir(src)
	if errors.Is(err, os.ErrNotExist) {
		return files, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			return nil, err
		}
		files[e.Name()] = b
	}
	return files, nil
}

// versionedFormatter formats a plan exactly as goose expects (Atlas'
// GooseFormatter) but names the file <version>_<name>.sql instead of
// after the current time, so versions are small ordered integers.
type versionedFormatter struct{ version string }

// Format implements migrate.Formatter.
func (f versionedFormatter) Format(p *migrate.Plan) ([]migrate.File, error) {
	files, err := sqltool.GooseFormatter.Format(p)
	if err != nil {
		return nil, err
	}
	if len(files) != 1 {
		return nil, fmt.Errorf("goose formatter returned %d files, want 1", len(files))
	}
	return []migrate.File{migrate.NewLocalFile(f.version+"_"+p.Name+".sql", files[0].Bytes())}, nil
}

// openSQLite returns an empty in-memory SQLite database. One connection
// only: every connection to ":memory:" is a database of its own.
func openSQLite(context.Context, io.Writer) (*sql.DB, func(), error) {
	db, err := sql.Open("sqlite", "file:migrategen?mode=memory&_pragma=foreign_keys(1)")
	if err != nil {
		return nil, nil, err
	}
	db.SetMaxOpenConns(1)
	return db, func() { _ = db.Close() }, nil
}

// openPostgres starts a throwaway Postgres container and returns a
// connection to its empty database; the returned function terminates it.
func openPostgres(ctx context.Context, stderr io.Writer) (*sql.DB, func(), error) {
	// The reaper image cannot be pulled everywhere, and this program
	// terminates its container itself, even when interrupted.
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		if err := os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true"); err != nil {
			return nil, nil, err
		}
	}
	// The tests' image, so that the migrations are diffed on the Postgres
	// they are tested on.
	image := pgimage.Name()
	fmt.Fprintf(stderr, "migrategen: starting Postgres dev database from %s\n", image)
	// testcontainers logs to stderr by default; what matters is printed here.
	tclog.SetDefault(tclog.NewNoopLogger())
	ctr, err := postgres.Run(ctx, image,
		postgres.WithDatabase("gatehouse_dev"),
		postgres.WithUsername("gatehouse"),
		postgres.WithPassword("gatehouse"),
		testcontainers.WithLabels(map[string]string{containerLabel: "true"}),
		postgres.BasicWaitStrategies(),
	)
	terminate := func() {
		if err := testcontainers.TerminateContainer(ctr); err != nil {
			fmt.Fprintf(stderr, "migrategen: terminate Postgres container: %v\n", err)
		}
	}
	if err != nil {
		terminate()
		return nil, nil, fmt.Errorf("start Postgres from image %q (set %s to use another): %w", image, pgimage.EnvVar, err)
	}
	url, err := ctr.ConnectionString(ctx, "sslmode=disable")
	if err != nil {
		terminate()
		return nil, nil, err
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		terminate()
		return nil, nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		terminate()
		return nil, nil, err
	}
	return db, func() { _ = db.Close(); terminate() }, nil
}
