// Package pgtest is the Postgres container harness for Gatehouse's tests.
//
// A test binary starts one Postgres container in TestMain (through Main),
// migrates a template database once with the real migration files, and hands
// each test a fresh database cloned from that template, so tests that use
// Postgres can run in parallel without seeing each other's rows.
//
// A test that stops and starts the database under a running service takes
// a container of its own instead (NewContainer), so that the tests on the
// shared one go on undisturbed.
//
// The image comes from GATEHOUSE_TEST_POSTGRES_IMAGE (default pgimage.Default).
// Without a Docker Engine the tests that need Postgres skip with a message
// saying so; GATEHOUSE_REQUIRE_DOCKER=1 turns that skip into a failure, so CI
// can never pass by silently skipping them.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/postgres"

	"github.com/gatehouse-auth/gatehouse/adapters/entstore"
	"github.com/gatehouse-auth/gatehouse/test/pgtest/pgimage"
)

// Label marks every container the test harnesses start; its value is the
// process ID of the test binary (see Labels), so that containers left behind
// by a killed test binary can be found and removed without touching those of
// a test still running beside it (make test does).
const Label = "io.gatehouse.test"

// Labels returns the labels for a container this test binary starts.
func Labels() map[string]string {
	return map[string]string{Label: strconv.Itoa(os.Getpid())}
}

const templateDB = "gatehouse_template"

// harness is the state Main sets up for one test binary.
var harness struct {
	// unavailable says why there is no Docker Engine; tests skip with it.
	unavailable string
	// broken says why Postgres could not be started although Docker runs;
	// tests fail with it.
	broken string

	container *postgres.PostgresContainer
	admin     *sql.DB  // connected to the maintenance database "postgres"
	base      *url.URL // the container's URL without a database name

	createMu sync.Mutex // CREATE DATABASE ... TEMPLATE must not overlap
	started  bool
}

// Main starts the Postgres container, runs the tests, stops the container
// and returns the exit code. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	harness.started = true
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	err := start(ctx)
	cancel()
	if err != nil {
		harness.broken = err.Error()
	}
	defer stop()
	return m.Run()
}

// Database returns the URL of a fresh database with every migration
// applied, cloned from the template. It is dropped when t ends.
func Database(t testing.TB) string {
	t.Helper()
	return create(t, templateDB)
}

// EmptyDatabase returns the URL of a fresh database with no tables, for
// tests of the migrations themselves. It is dropped when t ends.
func EmptyDatabase(t testing.TB) string {
	t.Helper()
	return create(t, "template0")
}

// RequireDocker reports whether GATEHOUSE_REQUIRE_DOCKER asks for container
// tests to fail rather than skip when Docker is missing.
func RequireDocker() bool {
	return os.Getenv("GATEHOUSE_REQUIRE_DOCKER") == "1"
}

func create(t testing.TB, template string) string {
	t.Helper()
	if !harness.started {
		t.Fatal("pgtest: Main was not called; add func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }")
	}
	if harness.unavailable != "" {
		SkipWithoutDocker(t, harness.unavailable)
	}
	if harness.broken != "" {
		t.Fatalf("pgtest: %s", harness.broken)
	}

	name := "test_" + randomSuffix()
	ctx := context.Background()
	harness.createMu.Lock()
	_, err := harness.admin.ExecContext(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, template))
	harness.createMu.Unlock()
	if err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := harness.admin.ExecContext(context.Background(), fmt.Sprintf("DROP DATABASE %s WITH (FORCE)", name)); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	return databaseURL(name)
}

// SkipWithoutDocker skips t, or fails it under GATEHOUSE_REQUIRE_DOCKER=1,
// because no Docker Engine can be used, for reason (from DockerUnavailable).
func SkipWithoutDocker(t testing.TB, reason string) {
	t.Helper()
	if RequireDocker() {
		t.Fatalf("GATEHOUSE_REQUIRE_DOCKER=1 but %s", reason)
	}
	t.Skipf("skipping container test: %s (set GATEHOUSE_REQUIRE_DOCKER=1 to fail instead)", reason)
}

func start(ctx context.Context) error {
	if reason := DockerUnavailable(ctx); reason != "" {
		harness.unavailable = reason
		return nil
	}
	ctr, base, err := run(ctx)
	if ctr != nil {
		harness.container = ctr
	}
	if err != nil {
		return err
	}
	harness.base = base
	if harness.admin, err = sql.Open("pgx", databaseURL("postgres")); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if _, err := harness.admin.ExecContext(ctx, "CREATE DATABASE "+templateDB); err != nil {
		return fmt.Errorf("create template database: %w", err)
	}
	return migrateTemplate(ctx)
}

// run starts a Postgres container from the configured image with opts
// added, waits until it accepts connections, and returns it with its URL
// (without a database name). It returns the container, if one was made,
// even with an error, so that the caller terminates it.
func run(ctx context.Context, opts ...testcontainers.ContainerCustomizer) (*postgres.PostgresContainer, *url.URL, error) {
	image := pgimage.Name()
	ctr, err := postgres.Run(ctx, image, append([]testcontainers.ContainerCustomizer{
		postgres.WithDatabase("postgres"),
		postgres.WithUsername("gatehouse"),
		postgres.WithPassword("gatehouse"),
		// Durability is worthless for throwaway test data; parallel tests
		// each hold a pool of connections.
		testcontainers.WithCmd("postgres", "-c", "fsync=off", "-c", "synchronous_commit=off",
			"-c", "full_page_writes=off", "-c", "max_connections=500"),
		testcontainers.WithLabels(Labels()),
		postgres.BasicWaitStrategies(),
	}, opts...)...)
	if err != nil {
		return ctr, nil, fmt.Errorf("start Postgres from image %q: %w%s", image, err, RyukHint())
	}
	// A connection's start-up (a backend, SCRAM on both ends) needs CPU,
	// and tests that hash passwords in parallel leave a 2-core machine
	// none to spare: the production default of 5 s to connect is missed
	// there while nothing is wrong. Tests wait as long as their requests.
	raw, err := ctr.ConnectionString(ctx, "sslmode=disable", "connect_timeout=30")
	if err != nil {
		return ctr, nil, fmt.Errorf("connection string: %w", err)
	}
	base, err := url.Parse(raw)
	if err != nil {
		return ctr, nil, fmt.Errorf("parse connection string: %w", err)
	}
	base.Path = ""
	return ctr, base, nil
}

// migrateTemplate applies the real migration files to the template and then
// closes every connection to it, since Postgres refuses to clone a database
// that has connections.
func migrateTemplate(ctx context.Context) error {
	db, err := entstore.Open(ctx, databaseURL(templateDB))
	if err != nil {
		return fmt.Errorf("connect to template: %w", err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	return db.Close()
}

func stop() {
	if harness.admin != nil {
		_ = harness.admin.Close()
	}
	if harness.container != nil {
		if err := testcontainers.TerminateContainer(harness.container); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: terminate container: %v\n", err)
		}
	}
}

// DockerUnavailable returns why no Docker Engine can be used, or "". Every
// container test asks it, so that all agree on when to skip.
func DockerUnavailable(ctx context.Context) (reason string) {
	defer func() {
		// testcontainers panics in some set-ups without Docker.
		if r := recover(); r != nil {
			reason = fmt.Sprintf("no Docker Engine: %v", r)
		}
	}()
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return fmt.Sprintf("no Docker Engine: %v", err)
	}
	defer provider.Close()
	if err := provider.Health(ctx); err != nil {
		return fmt.Sprintf("no Docker Engine answers: %v", err)
	}
	return ""
}

// RyukHint explains the usual cause of a start failure on a machine that
// reaches no container registry.
func RyukHint() string {
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "true" {
		return ""
	}
	return " (if the reaper image cannot be pulled here, set TESTCONTAINERS_RYUK_DISABLED=true, as make test does)"
}

func databaseURL(name string) string {
	return urlOf(harness.base, name)
}

// urlOf returns the URL of the database name on the server at base.
func urlOf(base *url.URL, name string) string {
	u := *base
	u.Path = "/" + name
	return u.String()
}

func randomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
