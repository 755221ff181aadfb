package entstore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/entstore"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/pgtest"
)

// openReplica opens the Postgres database at url as one more replica would,
// and closes it when t ends (closing twice is harmless).
func openReplica(t *testing.T, url string) *entstore.DB {
	t.Helper()
	db, err := entstore.Open(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

// tryLock takes name through l and reports whether it got it; a lock it
// gets is released when t ends.
func tryLock(t *testing.T, l domain.Locker, name string) (func(), bool) {
	t.Helper()
	release, ok, err := l.TryLock(context.Background(), name)
	require.NoError(t, err)
	t.Cleanup(release)
	return release, ok
}

// advisoryLocks returns how many advisory locks are granted in db's
// database; the container is shared with parallel tests on other databases.
func advisoryLocks(t *testing.T, db *entstore.DB) int {
	t.Helper()
	var n int
	require.NoError(t, db.SQL().QueryRowContext(context.Background(),
		`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
		 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n))
	return n
}

// TestLockerAcrossReplicasPostgres checks that a lock held through one DB is
// refused to another DB on the same database, as to another replica, and
// that releasing the lock or closing its DB frees it for the other.
func TestLockerAcrossReplicasPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	a, b := openReplica(t, url), openReplica(t, url)
	const name = "gatehouse:prune"

	releaseA, ok := tryLock(t, a.Standalone().Locker, name)
	require.True(t, ok, "replica a takes the free lock")
	_, ok = tryLock(t, b.Standalone().Locker, name)
	require.False(t, ok, "replica b is refused the lock a holds")
	releaseOther, ok := tryLock(t, b.Standalone().Locker, "gatehouse:other")
	require.True(t, ok, "another name is free for b")
	require.Equal(t, 2, advisoryLocks(t, a))
	releaseOther()

	releaseA()
	require.Equal(t, 0, advisoryLocks(t, a), "release freed the lock in Postgres, and no pooled connection kept it")
	releaseB, ok := tryLock(t, b.Standalone().Locker, name)
	require.True(t, ok, "b takes the lock a released")
	_, ok = tryLock(t, a.Standalone().Locker, name)
	require.False(t, ok, "now a is refused the lock b holds")
	releaseB()

	_, ok = tryLock(t, a.Standalone().Locker, name)
	require.True(t, ok)
	require.NoError(t, a.Close())
	_, ok = tryLock(t, b.Standalone().Locker, name)
	require.True(t, ok, "closing the holder's DB freed its lock")

	_, ok, err := a.Standalone().Locker.TryLock(context.Background(), name)
	require.Error(t, err, "a closed DB takes no lock")
	require.False(t, ok)
}

// TestLockerFreedWhenConnectionDiesPostgres checks that Postgres frees a
// lock whose holder's connection dies, as it would when the holder's
// process dies, and that the holder's release afterwards leaves its DB
// usable and its pool free of the dead connection.
func TestLockerFreedWhenConnectionDiesPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	a, b := openReplica(t, url), openReplica(t, url)
	const name = "gatehouse:prune"

	releaseA, ok := tryLock(t, a.Standalone().Locker, name)
	require.True(t, ok)
	// With a timeout, pg_terminate_backend waits until the session is
	// gone (Postgres 14 and later), and with it its locks.
	var killed []bool
	rows, err := b.SQL().QueryContext(context.Background(),
		`SELECT pg_terminate_backend(pid, 10000) FROM pg_locks WHERE locktype = 'advisory' AND granted
		 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
	require.NoError(t, err)
	for rows.Next() {
		var k bool
		require.NoError(t, rows.Scan(&k))
		killed = append(killed, k)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []bool{true}, killed, "the one session holding the lock ended")
	require.Equal(t, 0, advisoryLocks(t, b), "the lock ended with its session")
	releaseB, ok := tryLock(t, b.Standalone().Locker, name)
	require.True(t, ok, "b takes the lock of the dead session")

	releaseA() // on a dead connection: must neither hang nor panic
	_, ok = tryLock(t, a.Standalone().Locker, name)
	require.False(t, ok, "a's release freed nothing of b's")
	releaseB()
	_, ok = tryLock(t, a.Standalone().Locker, name)
	require.True(t, ok, "a, with the dead connection dropped, takes the lock again")
	_, err = a.Stores().Users.ByEmail(context.Background(), "nobody@example.com")
	require.ErrorIs(t, err, domain.ErrNotFound, "a's pool still serves queries")
}

// TestLockerRaceAcrossReplicasPostgres races TryLocks of one name from
// several DBs on one database, so that Postgres, not the process, settles
// who wins: exactly one does.
func TestLockerRaceAcrossReplicasPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	const replicas, racers = 4, 20
	lockers := make([]domain.Locker, replicas)
	for i := range lockers {
		lockers[i] = openReplica(t, url).Standalone().Locker
	}

	const name = "gatehouse:prune"
	releases := make([]func(), racers)
	oks := make([]bool, racers)
	errs := make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			releases[i], oks[i], errs[i] = lockers[i%replicas].TryLock(context.Background(), name)
		})
	}
	close(start)
	wg.Wait()

	var won []int
	for i := range racers {
		require.NoError(t, errs[i], "racer %d", i)
		if oks[i] {
			won = append(won, i)
			t.Cleanup(releases[i])
		}
	}
	require.Len(t, won, 1, "exactly one of %d racers on %d replicas gets the lock", racers, replicas)
	require.Equal(t, 1, advisoryLocks(t, openReplica(t, url)))
}
