package contract

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// RunLocker runs the Locker suite against the locker of the subjects
// newSubject makes. Every case takes its locks through one Locker; that a
// lock also holds across processes is for each store's own tests to show,
// since only the store knows how to start a second "replica".
func RunLocker(t *testing.T, newSubject NewSubject) {
	cases := map[string]func(t *testing.T, l domain.Locker){
		"HeldNameRefusedUntilReleased": lockHeldNameRefusedUntilReleased,
		"NamesAreIndependent":          lockNamesAreIndependent,
		"ConcurrentTryLocksOneWins":    lockConcurrentTryLocksOneWins,
		"ReleaseIsIdempotent":          lockReleaseIsIdempotent,
		"RefusedReleaseDoesNothing":    lockRefusedReleaseDoesNothing,
		"ReleaseFromAnotherGoroutine":  lockReleaseFromAnotherGoroutine,
		"DoneContextTakesNothing":      lockDoneContextTakesNothing,
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, newSubject(t).Standalone.Locker)
		})
	}
}

// takeLock takes name and fails unless it got it. The lock is released
// when t ends, in case the case fails before releasing it.
func takeLock(t *testing.T, l domain.Locker, name string) func() {
	t.Helper()
	release, ok, err := l.TryLock(context.Background(), name)
	require.NoError(t, err, "TryLock %q", name)
	require.True(t, ok, "TryLock %q is refused, but no one holds it", name)
	require.NotNil(t, release)
	t.Cleanup(release)
	return release
}

// requireHeld fails unless a TryLock of name is refused, without an error.
func requireHeld(t *testing.T, l domain.Locker, name, why string) {
	t.Helper()
	release, ok, err := l.TryLock(context.Background(), name)
	require.NoError(t, err, "TryLock %q", name)
	if ok {
		release()
	}
	require.False(t, ok, "TryLock %q succeeds, but %s", name, why)
	require.NotNil(t, release, "a refused TryLock hands back a release that does nothing")
}

func lockHeldNameRefusedUntilReleased(t *testing.T, l domain.Locker) {
	const name = "gatehouse:contract-job"
	release := takeLock(t, l, name)
	requireHeld(t, l, name, "it is held")
	requireHeld(t, l, name, "it is still held")
	release()

	again := takeLock(t, l, name)
	requireHeld(t, l, name, "it was taken again")
	again()
	takeLock(t, l, name)
}

func lockNamesAreIndependent(t *testing.T, l domain.Locker) {
	long := strings.Repeat("n", 1000)
	names := []string{"job", "Job", "job ", "job:a", "job:b", long + "a", long + "b"}
	releases := make(map[string]func(), len(names))
	for _, name := range names {
		releases[name] = takeLock(t, l, name)
	}
	for _, name := range names {
		requireHeld(t, l, name, "it is held alongside the others")
	}

	// Releasing one frees that one only.
	releases["job"]()
	for _, name := range names[1:] {
		requireHeld(t, l, name, `only "job" was released`)
	}
	takeLock(t, l, "job")
}

func lockConcurrentTryLocksOneWins(t *testing.T, l domain.Locker) {
	const name = "gatehouse:contract-race"
	releases := make([]func(), concurrency)
	oks := make([]bool, concurrency)
	errs := race(concurrency, func(i int) error {
		var err error
		releases[i], oks[i], err = l.TryLock(context.Background(), name)
		return err
	})
	var won []int
	for i, err := range errs {
		require.NoError(t, err, "goroutine %d", i)
		if oks[i] {
			won = append(won, i)
			t.Cleanup(releases[i])
		}
	}
	require.Len(t, won, 1, "exactly one of %d racing TryLocks gets the lock", concurrency)

	requireHeld(t, l, name, "the winner holds it")
	releases[won[0]]()
	takeLock(t, l, name)
}

func lockReleaseIsIdempotent(t *testing.T, l domain.Locker) {
	const name = "gatehouse:contract-twice"
	first := takeLock(t, l, name)
	first()
	first() // harmless while no one holds it

	second := takeLock(t, l, name)
	first() // must not free the lock taken since
	requireHeld(t, l, name, "a stale release freed the lock of the next holder")
	second()
	second()
	takeLock(t, l, name)
}

func lockRefusedReleaseDoesNothing(t *testing.T, l domain.Locker) {
	const name = "gatehouse:contract-refused"
	takeLock(t, l, name)
	for range 3 {
		release, ok, err := l.TryLock(context.Background(), name)
		require.NoError(t, err)
		require.False(t, ok)
		release()
		release()
	}
	requireHeld(t, l, name, "a refused caller's release freed the holder's lock")
}

func lockReleaseFromAnotherGoroutine(t *testing.T, l domain.Locker) {
	const name = "gatehouse:contract-handover"
	release := takeLock(t, l, name)
	done := make(chan struct{})
	go func() {
		defer close(done)
		release()
	}()
	<-done
	takeLock(t, l, name)
}

func lockDoneContextTakesNothing(t *testing.T, l domain.Locker) {
	const name = "gatehouse:contract-cancelled"
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	release, ok, err := l.TryLock(ctx, name)
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, ok, "no lock with an error")
	require.NotNil(t, release, "a failed TryLock hands back a release that does nothing")
	release()

	takeLock(t, l, name)
}
