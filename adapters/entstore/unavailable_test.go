package entstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/pgtest"
)

// A deadline that passes while a store waits for the database is the
// database not answering in time; a cancelled context is the caller giving
// up, which the database is not to blame for.
func TestDeadlinesAreUnavailableAndCancellationsAreNot(t *testing.T) {
	for name, url := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "gatehouse.db") },
		"postgres": func(t *testing.T) string { return pgtest.Database(t) },
	} {
		t.Run(name, func(t *testing.T) {
			db := openMigrated(t, url(t))
			expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			defer cancel()
			cancelled, cancel := context.WithCancel(context.Background())
			cancel()

			_, err := db.Stores().Users.ByEmail(expired, "ada@example.com")
			assert.ErrorIs(t, err, domain.ErrUnavailable, "a lookup")
			assert.ErrorIs(t, err, context.DeadlineExceeded, "the cause is kept")
			err = db.InTx(expired, func(context.Context, domain.Stores) error { return nil })
			assert.ErrorIs(t, err, domain.ErrUnavailable, "a unit of work")
			_, _, err = db.Standalone().RateLimits.Hit(expired, "k", time.Minute, time.Now())
			assert.ErrorIs(t, err, domain.ErrUnavailable, "a rate-limit hit (raw SQL)")
			assert.ErrorIs(t, db.Ping(expired), domain.ErrUnavailable, "a ping")

			_, err = db.Stores().Users.ByEmail(cancelled, "ada@example.com")
			require.Error(t, err)
			assert.False(t, errors.Is(err, domain.ErrUnavailable), "a cancelled lookup: %v", err)

			require.NoError(t, db.Ping(context.Background()))
			_, err = db.Stores().Users.ByEmail(context.Background(), "ada@example.com")
			assert.ErrorIs(t, err, domain.ErrNotFound, "the stores' own mapping is untouched")
			assert.False(t, errors.Is(err, domain.ErrUnavailable))
		})
	}
}

// TestAStoppedPostgresIsUnavailable stops the database under the stores:
// every kind of call fails with domain.ErrUnavailable, and works again once
// the database is back, on the same DB.
func TestAStoppedPostgresIsUnavailable(t *testing.T) {
	c := pgtest.NewContainer(t)
	db := openMigrated(t, c.URL())
	ctx := context.Background()
	user, err := db.Stores().Users.Create(ctx, domain.User{Email: "ada@example.com", PasswordHash: "h", Tier: domain.TierFree,
		CreatedAt: time.Now(), UpdatedAt: time.Now()})
	require.NoError(t, err)

	c.Stop()
	_, err = db.Stores().Users.ByID(ctx, user.ID)
	assert.ErrorIs(t, err, domain.ErrUnavailable, "a lookup")
	err = db.InTx(ctx, func(ctx context.Context, s domain.Stores) error {
		_, err := s.Users.ByID(ctx, user.ID)
		return err
	})
	assert.ErrorIs(t, err, domain.ErrUnavailable, "a unit of work")
	_, _, err = db.Standalone().RateLimits.Hit(ctx, "k", time.Minute, time.Now())
	assert.ErrorIs(t, err, domain.ErrUnavailable, "a rate-limit hit")
	_, err = db.Standalone().Keys.List(ctx)
	assert.ErrorIs(t, err, domain.ErrUnavailable, "the signing keys")
	assert.ErrorIs(t, db.Ping(ctx), domain.ErrUnavailable, "a ping")

	c.Start()
	require.Eventually(t, func() bool { return db.Ping(ctx) == nil }, time.Minute, 50*time.Millisecond)
	got, err := db.Stores().Users.ByID(ctx, user.ID)
	require.NoError(t, err)
	assert.Equal(t, user.ID, got.ID)
}

// TestABrokenConnectionDuringARateLimitHitIsUnavailable breaks the
// connection of a Hit while Postgres runs it: the Hit waits for a table
// lock held elsewhere, and its session is terminated meanwhile. The Hit
// fails with domain.ErrUnavailable, which answers 503, and the next Hit
// works on a fresh connection.
func TestABrokenConnectionDuringARateLimitHitIsUnavailable(t *testing.T) {
	t.Parallel()
	db := openMigrated(t, pgtest.Database(t))
	ctx := context.Background()
	limits := db.Standalone().RateLimits
	now := time.Now()
	count, _, err := limits.Hit(ctx, "login:192.0.2.7", time.Minute, now)
	require.NoError(t, err)
	require.Equal(t, 1, count)

	holder, err := db.SQL().BeginTx(ctx, nil)
	require.NoError(t, err)
	defer func() { _ = holder.Rollback() }()
	_, err = holder.ExecContext(ctx, "LOCK TABLE rate_limits IN EXCLUSIVE MODE")
	require.NoError(t, err)

	hit := make(chan error, 1)
	go func() {
		_, _, err := limits.Hit(ctx, "login:192.0.2.7", time.Minute, now)
		hit <- err
	}()
	var pid int
	require.Eventually(t, func() bool {
		err := db.SQL().QueryRowContext(ctx, `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO rate_limits%'`).Scan(&pid)
		return err == nil
	}, time.Minute, 10*time.Millisecond, "the Hit waits for the table lock")
	var killed bool
	require.NoError(t, db.SQL().QueryRowContext(ctx, "SELECT pg_terminate_backend($1, 10000)", pid).Scan(&killed))
	require.True(t, killed)

	err = <-hit
	require.ErrorIs(t, err, domain.ErrUnavailable, "a Hit whose connection broke")
	require.ErrorContains(t, err, "entstore: hit rate limit:")
	require.NoError(t, holder.Rollback())
	count, _, err = limits.Hit(ctx, "login:192.0.2.7", time.Minute, now)
	require.NoError(t, err, "the pool replaced the broken connection")
	require.Equal(t, 2, count, "the broken Hit counted nothing")
}
