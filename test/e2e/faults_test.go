package e2e_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/test/pgtest"
)

// faultTimeout is the request timeout of the server the fault tests
// refresh on: short, so that a stall reaches it soon. Its statements run
// under a server-side timeout of 750 ms (cmd/gatehouse statementTimeout).
const (
	faultTimeout     = time.Second
	faultStmtTimeout = 750 * time.Millisecond
)

// faults is a Postgres database served twice: signup, with the harness's
// long request timeout, registers users (a race build's password hashes
// are slow), and short, with faultTimeout, refreshes their sessions while
// db, a connection of the test's own, stalls or cuts the database. No
// retry grace: the first line of defence alone must keep sessions alive.
type faults struct {
	signup, short *client
	db            *sql.DB
}

// TestRefreshThroughDatabaseFaults: a refresh caught in a database stall
// that ends around the statement timeout or the request deadline, or whose
// connection is cut while its rotation waits, answers 200 or a 503 after
// which the client's retry with the same token succeeds; the session is
// never revoked. What a particular interleaving answers is not asserted:
// the invariant must hold for all of them.
func TestRefreshThroughDatabaseFaults(t *testing.T) {
	t.Parallel()
	gatehouseBinary(t) // fail, rather than skip, when the build failed
	url := pgtest.Database(t)
	env := map[string]string{
		"GATEHOUSE_DATABASE_URL":        url,
		"GATEHOUSE_SECRET":              testSecret,
		"GATEHOUSE_REFRESH_REUSE_GRACE": "0s",
	}
	f := &faults{
		signup: newClient(t, startServer(t, env)),
		short:  newClient(t, startServer(t, with(env, map[string]string{"GATEHOUSE_REQUEST_TIMEOUT": faultTimeout.String()}))),
	}
	var err error
	f.db, err = sql.Open("pgx", url)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, f.db.Close()) })

	t.Run("a stall ending around the deadlines", func(t *testing.T) {
		// Release the lock this long after the rotation began to wait for
		// it: within 50 ms of the server-side timeout and of the request
		// deadline.
		for _, after := range []time.Duration{
			faultStmtTimeout - 50*time.Millisecond, faultStmtTimeout, faultStmtTimeout + 50*time.Millisecond,
			faultTimeout - 50*time.Millisecond, faultTimeout, faultTimeout + 50*time.Millisecond,
		} {
			t.Run(after.String(), func(t *testing.T) {
				f.refreshThrough(t, func(release func(), _ int) {
					time.Sleep(after) // where the stall ends; no outcome depends on it
					release()
				}, nil)
			})
		}
	})
	t.Run("a connection cut while the rotation waits", func(t *testing.T) {
		t.Run("then the stall ends", func(t *testing.T) {
			f.refreshThrough(t, func(release func(), pid int) {
				f.terminate(t, pid)
				release()
			}, nil)
		})
		t.Run("the stall lasts until the answer", func(t *testing.T) {
			var release func()
			f.refreshThrough(t, func(r func(), pid int) {
				f.terminate(t, pid)
				release = r
			}, func() { release() })
		})
	})
}

// refreshThrough registers a user, stalls the sessions table, refreshes
// the user's session on the short server and, once the rotation waits for
// the table, calls during with a function that ends the stall and the
// waiting backend's process ID; it calls answered, if not nil, once the
// refresh has answered. It then checks the invariant: a 200, or a 503
// unavailable after which a retry with the same token is a 200; and the
// session refreshes again.
func (f *faults) refreshThrough(t *testing.T, during func(release func(), pid int), answered func()) {
	t.Helper()
	token := f.signup.register(t, newEmail("fault"), newPassword()).RefreshToken
	release := f.stall(t)
	req := f.short.newRequest(t, http.MethodPost, "/v1/auth/refresh", refreshBody(token))
	type answer struct {
		res response
		err error
	}
	answers := make(chan answer, 1)
	go func() {
		res, err := f.short.send(req)
		answers <- answer{res, err}
	}()
	during(release, f.awaitRotationWaiting(t))
	a := <-answers
	res := a.res
	require.NotZero(t, res.status, "an answer: %v", a.err)
	if res.status == http.StatusServiceUnavailable {
		// send calls every 5xx a failure; this one is expected.
		require.NoError(t, f.short.validate(req, res))
	} else {
		require.NoError(t, a.err)
	}
	if answered != nil {
		answered()
	}
	release() // harmless when during or answered released it

	var next string
	switch res.status {
	case http.StatusOK:
		next = res.tokens(t, http.StatusOK).RefreshToken
	case http.StatusServiceUnavailable:
		res.problem(t, http.StatusServiceUnavailable, "unavailable")
		assert.Equal(t, "1", res.header.Get("Retry-After"))
		next = f.short.refresh(t, token).tokens(t, http.StatusOK).RefreshToken // the token was not spent
	default:
		t.Fatalf("a refresh through a fault answered %d: %s", res.status, res.body)
	}
	f.short.refresh(t, next).tokens(t, http.StatusOK) // the session lives
	t.Logf("answered %d", res.status)
}

// stall takes an exclusive lock on the sessions table, as a long migration
// or a stuck transaction does, and returns the function that ends it (once;
// later calls do nothing).
func (f *faults) stall(t *testing.T) func() {
	t.Helper()
	conn, err := f.db.Conn(context.Background())
	require.NoError(t, err)
	_, err = conn.ExecContext(context.Background(), "BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)
	done := false
	release := func() {
		if done {
			return
		}
		done = true
		_, err := conn.ExecContext(context.Background(), "COMMIT")
		assert.NoError(t, err)
		assert.NoError(t, conn.Close())
	}
	t.Cleanup(release)
	return release
}

// awaitRotationWaiting waits until a rotation's statement waits for a
// lock, and returns its backend's process ID.
func (f *faults) awaitRotationWaiting(t *testing.T) int {
	t.Helper()
	var pid int
	require.Eventually(t, func() bool {
		err := f.db.QueryRowContext(context.Background(),
			`SELECT pid FROM pg_stat_activity WHERE datname = current_database()
			 AND wait_event_type = 'Lock' AND query LIKE 'WITH rotated AS%' LIMIT 1`).Scan(&pid)
		return err == nil
	}, requestTimeout, time.Millisecond, "the rotation waits for the stalled table")
	return pid
}

// terminate ends the database backend with pid, as a crash or a failover
// cuts a connection: its statement is rolled back and the server tells
// its client so, if the connection still carries that.
func (f *faults) terminate(t *testing.T, pid int) {
	t.Helper()
	var ok bool
	require.NoError(t, f.db.QueryRowContext(context.Background(), "SELECT pg_terminate_backend($1)", pid).Scan(&ok))
	require.True(t, ok, fmt.Sprintf("backend %d terminated", pid))
}
