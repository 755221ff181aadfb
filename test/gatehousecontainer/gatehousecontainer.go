// Package gatehousecontainer starts Gatehouse's container image next to a
// Postgres container, on a Docker network of their own, for the
// integration tests of a service that uses Gatehouse. It is
// testcontainers-go underneath: Gatehouse is ready when GET /readyz
// answers 200 (it has migrated its database and reached it), which is
// also the check to use from testcontainers in any other language.
//
//	gh := gatehousecontainer.Run(t, gatehousecontainer.WithImage("gatehouse:dev"))
//	resp, err := http.Post(gh.URL+"/v1/auth/register", "application/json", body)
//
// Run removes both containers and the network when the test ends. The
// server runs with its rate limits off (a test sends everything from one
// address), a random GATEHOUSE_SECRET and a random admin key, which
// Gatehouse.AdminKey holds; WithEnv changes any setting.
//
// For tests that need no Docker, test/gatehousetest runs Gatehouse in the
// test's own process instead.
package gatehousecontainer

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/postgres"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/gatehouse-auth/gatehouse/test/pgtest/pgimage"
)

// DefaultImage is Gatehouse's image when WithImage is not given: what
// `make image` tags.
const DefaultImage = "gatehouse:dev"

// StartTimeout bounds how long each container may take to be ready:
// Gatehouse's migrations on an empty database included.
const StartTimeout = 2 * time.Minute

// Gatehouse is a running Gatehouse container and the Postgres it serves.
type Gatehouse struct {
	// URL is where the test reaches Gatehouse's API, such as
	// http://127.0.0.1:32768, without a trailing slash.
	URL string
	// AdminKey is the server's GATEHOUSE_ADMIN_API_KEY, unless WithEnv
	// changed it.
	AdminKey  string
	Container *testcontainers.DockerContainer
	Postgres  *postgres.PostgresContainer
	Network   *testcontainers.DockerNetwork
}

// config is what the options set.
type config struct {
	image, postgresImage string
	env                  map[string]string
	labels               map[string]string
}

// Option changes how Start starts Gatehouse.
type Option func(*config)

// WithImage runs Gatehouse from ref rather than DefaultImage.
func WithImage(ref string) Option { return func(c *config) { c.image = ref } }

// WithPostgresImage runs Postgres from ref, an image that honours the
// official postgres image's contract (POSTGRES_PASSWORD and the like). The
// default is test/pgtest's: GATEHOUSE_TEST_POSTGRES_IMAGE, else
// pgimage.Default.
func WithPostgresImage(ref string) Option { return func(c *config) { c.postgresImage = ref } }

// WithEnv sets Gatehouse's environment variables (GATEHOUSE_*), over the
// ones Start sets itself.
func WithEnv(env map[string]string) Option {
	return func(c *config) { maps.Copy(c.env, env) }
}

// WithLabels puts labels on both containers and the network, so that a
// clean-up can find what a killed test left behind.
func WithLabels(labels map[string]string) Option {
	return func(c *config) { maps.Copy(c.labels, labels) }
}

// Run starts Gatehouse for t, as Start does, and removes it when t ends.
// It fails t if Gatehouse does not start.
func Run(t testing.TB, opts ...Option) *Gatehouse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*StartTimeout)
	defer cancel()
	g, err := Start(ctx, opts...)
	t.Cleanup(func() {
		if err := g.Terminate(context.Background()); err != nil {
			t.Errorf("gatehousecontainer: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("gatehousecontainer: %v", err)
	}
	return g
}

// Start starts Postgres and then Gatehouse on it, on a network of their
// own, and returns once Gatehouse's GET /readyz answers 200. On an error it
// returns what it started so far, which Terminate removes; Terminate is
// safe on a nil or partly started Gatehouse.
func Start(ctx context.Context, opts ...Option) (*Gatehouse, error) {
	c := config{image: DefaultImage, postgresImage: pgimage.Name(), env: map[string]string{}, labels: map[string]string{}}
	for _, opt := range opts {
		opt(&c)
	}
	g := &Gatehouse{AdminKey: "admin-" + rand.Text() + rand.Text()}
	var err error
	if g.Network, err = network.New(ctx, network.WithLabels(c.labels)); err != nil {
		return g, fmt.Errorf("create network: %w", err)
	}
	password := "pw-" + rand.Text()
	g.Postgres, err = postgres.Run(ctx, c.postgresImage,
		postgres.WithDatabase("gatehouse"), postgres.WithUsername("gatehouse"), postgres.WithPassword(password),
		network.WithNetwork([]string{"postgres"}, g.Network),
		testcontainers.WithLabels(c.labels),
		postgres.BasicWaitStrategies(),
	)
	if err != nil {
		return g, fmt.Errorf("start Postgres from %s: %w", c.postgresImage, err)
	}
	env := map[string]string{
		"GATEHOUSE_DATABASE_URL":   "postgres://gatehouse:" + password + "@postgres:5432/gatehouse?sslmode=disable",
		"GATEHOUSE_SECRET":         "secret-" + rand.Text() + rand.Text(),
		"GATEHOUSE_ADMIN_API_KEY":  g.AdminKey,
		"GATEHOUSE_RATE_LIMITS":    "off",
		"GATEHOUSE_SHUTDOWN_DELAY": "0s",
	}
	maps.Copy(env, c.env)
	g.AdminKey = env["GATEHOUSE_ADMIN_API_KEY"]
	g.Container, err = testcontainers.Run(ctx, c.image,
		testcontainers.WithExposedPorts("8080/tcp"),
		testcontainers.WithEnv(env),
		testcontainers.WithLabels(c.labels),
		network.WithNetwork([]string{"gatehouse"}, g.Network),
		// Ready, and its start-up logged: a test may read the log at once.
		testcontainers.WithWaitStrategy(wait.ForAll(
			wait.ForHTTP("/readyz").WithPort("8080/tcp").
				WithStatusCodeMatcher(func(status int) bool { return status == http.StatusOK }),
			wait.ForLog(`"msg":"listening"`),
		).WithStartupTimeoutDefault(StartTimeout)),
	)
	if err != nil {
		return g, fmt.Errorf("start Gatehouse from %s: %w", c.image, err)
	}
	if g.URL, err = g.Container.PortEndpoint(ctx, "8080/tcp", "http"); err != nil {
		return g, fmt.Errorf("gatehouse's port: %w", err)
	}
	return g, nil
}

// Terminate removes Gatehouse, Postgres and their network, whatever of
// them was started.
func (g *Gatehouse) Terminate(ctx context.Context) error {
	if g == nil {
		return nil
	}
	var errs []error
	if g.Container != nil {
		errs = append(errs, g.Container.Terminate(ctx))
	}
	if g.Postgres != nil {
		errs = append(errs, g.Postgres.Terminate(ctx))
	}
	if g.Network != nil {
		errs = append(errs, g.Network.Remove(ctx))
	}
	return errors.Join(errs...)
}
