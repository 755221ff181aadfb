package entstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/test/pgtest"
)

// TestPingSurvivesKilledBackendsPostgres: readiness asks over a
// connection of its own; when the backends under a replica were killed
// (an operator's pg_terminate_backend, a crashed backend the server
// survived), the next Ping still answers, on a fresh connection, instead
// of failing once and taking the replica out of its load balancer for
// nothing.
func TestPingSurvivesKilledBackendsPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	db, killer := openReplica(t, url), openReplica(t, url)
	ctx := context.Background()
	for round := range 3 {
		require.NoError(t, db.Ping(ctx))

		var killed int
		// With a timeout, pg_terminate_backend waits until each backend
		// is gone (Postgres 14 and later). The killer's own query runs
		// on the one connection it is not killing.
		require.NoError(t, killer.SQL().QueryRowContext(ctx,
			`SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000)) FROM pg_stat_activity
			 WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&killed))
		require.Positive(t, killed, "round %d: the replica's backends were killed", round)

		require.NoError(t, db.Ping(ctx), "round %d: readiness holds, on a fresh connection", round)
	}
}

// poolSize is entstore's Postgres pool size (pgMaxOpenConns), which
// TestPingAnswersWhileThePoolWaitsPostgres fills with waiting queries.
const poolSize = 25

// TestPingAnswersWhileThePoolWaitsPostgres: a table lock that holds up
// every connection of the stores' pool does not make readiness fail with
// them: Ping has a connection of its own.
func TestPingAnswersWhileThePoolWaitsPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	db, locker := openReplica(t, url), openReplica(t, url)
	ctx := context.Background()

	tx, err := locker.SQL().BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, `LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)
	var waiting sync.WaitGroup
	for range poolSize {
		waiting.Go(func() {
			// Any user id that parses: the query must reach the table.
			_, _ = db.Stores().Sessions.ListActive(ctx, "01900000-0000-7000-8000-000000000000", time.Now())
		})
	}
	require.Eventually(t, func() bool {
		var n int
		err := locker.SQL().QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
		return err == nil && n == poolSize
	}, time.Minute, 20*time.Millisecond, "every connection of the pool waits for the lock")

	// A deadline only so that a Ping stuck behind the pool fails the test
	// rather than hangs it; a healthy one answers at once.
	pingCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, db.Ping(pingCtx), "readiness answers while the pool waits")
	require.NoError(t, tx.Rollback())
	waiting.Wait()
}
