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
