package entstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/entstore"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/pgtest"
)

// openTimed opens the Postgres database at url, migrating it, with
// server-side timeouts of d, and closes it when t ends.
func openTimed(t *testing.T, url string, d time.Duration) *entstore.DB {
	t.Helper()
	u, err := readURL(map[string]string{"GATEHOUSE_DATABASE_URL": url})
	require.NoError(t, err)
	db, err := entstore.OpenURL(t.Context(), u.WithStatementTimeout(d))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(t.Context()), "migrations run without the timeouts")
	return db
}

// pgSetting returns the value of a Postgres setting on a connection of db.
func pgSetting(t *testing.T, db *entstore.DB, name string) string {
	t.Helper()
	var v string
	require.NoError(t, db.SQL().QueryRowContext(t.Context(), "SELECT current_setting($1)", name).Scan(&v))
	return v
}

func TestWithStatementTimeoutSetsTheServerSideTimeoutsPostgres(t *testing.T) {
	t.Parallel()
	db := openTimed(t, pgtest.EmptyDatabase(t), 750*time.Millisecond)
	assert.Equal(t, "750ms", pgSetting(t, db, "statement_timeout"))
	assert.Equal(t, "750ms", pgSetting(t, db, "lock_timeout"))

	own := openTimed(t, pgtest.Database(t)+"&statement_timeout=5000", time.Second)
	assert.Equal(t, "5s", pgSetting(t, own, "statement_timeout"), "a URL's own setting wins")
	assert.Equal(t, "1s", pgSetting(t, own, "lock_timeout"))

	plain := openReplica(t, pgtest.Database(t))
	assert.Equal(t, "0", pgSetting(t, plain, "statement_timeout"), "none without WithStatementTimeout")
}

func TestAStalledRotationIsRolledBackAndReportedPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	db := openTimed(t, url, 200*time.Millisecond)
	ctx := t.Context()
	s := db.Stores()
	now := time.Now()
	user, err := s.Users.Create(ctx, domain.User{Email: "stall@example.com", PasswordHash: "h", Tier: domain.TierFree, CreatedAt: now, UpdatedAt: now})
	require.NoError(t, err)
	_, presented := domain.NewOpaqueToken()
	_, err = s.Sessions.Create(ctx, domain.Session{UserID: user.ID, TokenHash: presented, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour)})
	require.NoError(t, err)

	// Another client stalls the sessions table until the rotation is done.
	conn, err := openReplica(t, url).SQL().Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)
	_, next := domain.NewOpaqueToken()
	_, _, err = s.Sessions.Rotate(context.Background(), domain.Rotation{ // no deadline of its own: only the server's
		PresentedHash: presented, NextHash: next, Now: now, ExpiresAt: now.Add(time.Hour),
	})
	_, cerr := conn.ExecContext(ctx, "COMMIT")
	require.NoError(t, cerr)

	require.ErrorIs(t, err, domain.ErrUnavailable, "the server gave up on the stalled statement: 503")
	assert.False(t, errors.Is(err, domain.ErrOutcomeUnknown), "and said it rolled back: %v", err)
	current, err := s.Sessions.ByTokenHash(ctx, presented)
	require.NoError(t, err, "the presented token is not spent")
	assert.Equal(t, presented, current.TokenHash)
}
