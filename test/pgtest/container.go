package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/postgres"

	"github.com/gatehouse-auth/gatehouse/adapters/entstore"
)

// containerDB is the migrated database of a Container.
const containerDB = "gatehouse"

// Container is a Postgres container of one test's own, for a test that
// stops and starts the database under a running service (an outage)
// without disturbing the tests that share the container of Main. Its host
// port stays the same across Stop and Start, so its URL keeps working, as a
// real database's address does across a restart.
type Container struct {
	t    testing.TB
	ctr  *postgres.PostgresContainer
	base *url.URL
}

// NewContainer starts a container of t's own with a migrated database (see
// URL) and terminates it when t ends. It takes longer than Database, a few
// seconds, and does not need Main. Without a Docker Engine it skips t, or
// fails it under GATEHOUSE_REQUIRE_DOCKER=1, as Database does.
//
// Its host port is picked free on this machine before the container takes
// it; with a remote Docker Engine (DOCKER_HOST) that port may be taken
// there, and NewContainer tries a few.
func NewContainer(t testing.TB) *Container {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if reason := DockerUnavailable(ctx); reason != "" {
		SkipWithoutDocker(t, reason)
	}
	c := &Container{t: t}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = c.run(ctx); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if err := c.migrate(ctx); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return c
}

// run starts the container on a free host port, terminating it when c.t
// ends.
func (c *Container) run(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	ctr, base, err := run(ctx,
		testcontainers.WithConfigModifier(func(cfg *container.Config) {
			// A fast shutdown, which ends the sessions at once, rather
			// than the smart one of SIGTERM, which waits for the
			// connections of the service under test to go away.
			cfg.StopSignal = "SIGINT"
		}),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{
				network.MustParsePort("5432/tcp"): {{HostPort: strconv.Itoa(port)}},
			}
		}),
	)
	if ctr != nil {
		c.t.Cleanup(func() {
			if err := testcontainers.TerminateContainer(ctr); err != nil {
				c.t.Errorf("pgtest: terminate container: %v", err)
			}
		})
	}
	if err != nil {
		return err
	}
	c.ctr, c.base = ctr, base
	return nil
}

// migrate creates the container's database and applies every migration.
func (c *Container) migrate(ctx context.Context) error {
	admin, err := sql.Open("pgx", urlOf(c.base, "postgres"))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+containerDB); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	db, err := entstore.Open(ctx, c.URL())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// URL returns the URL of the container's database, migrated.
func (c *Container) URL() string { return urlOf(c.base, containerDB) }

// Stop stops the container: Postgres ends every session and exits, and
// connections to its port are refused until Start.
func (c *Container) Stop() {
	c.t.Helper()
	timeout := 10 * time.Second
	if err := c.ctr.Stop(context.Background(), &timeout); err != nil {
		c.t.Fatalf("pgtest: stop container: %v", err)
	}
}

// Start starts the container again, on the same port, and returns once
// Postgres accepts connections.
func (c *Container) Start() {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.ctr.Start(ctx); err != nil {
		c.t.Fatalf("pgtest: start container: %v", err)
	}
	// The wait strategies may pass on the previous run's log lines; ask
	// Postgres itself.
	db, err := sql.Open("pgx", c.URL())
	if err != nil {
		c.t.Fatalf("pgtest: connect: %v", err)
	}
	defer db.Close()
	for {
		err := db.PingContext(ctx)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			c.t.Fatalf("pgtest: Postgres did not come back: %v", errors.Join(err, ctx.Err()))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// freePort returns a TCP port that is free on this host right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
