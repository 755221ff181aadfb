package contract

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// RunRateLimitStore runs the RateLimitStore suite against the rate-limit
// store of the subjects newSubject makes.
func RunRateLimitStore(t *testing.T, newSubject NewSubject) {
	cases := map[string]func(t *testing.T, rl domain.RateLimitStore){
		"FirstHitStartsWindow":              rateFirstHitStartsWindow,
		"HitsWithinWindowCount":             rateHitsWithinWindowCount,
		"HitAtWindowEndStartsNewWindow":     rateHitAtWindowEndStartsNewWindow,
		"KeysAreIndependent":                rateKeysAreIndependent,
		"ResetStartsOver":                   rateResetStartsOver,
		"ResetUnknownKey":                   rateResetUnknownKey,
		"ConcurrentHitsCountDistinct":       rateConcurrentHitsCountDistinct,
		"DeleteExpiredOnlyEnded":            rateDeleteExpiredOnlyEnded,
		"DeleteExpiredInBatches":            rateDeleteExpiredInBatches,
		"DeletedKeyStartsOver":              rateDeletedKeyStartsOver,
		"LongKeys":                          rateLongKeys,
		"KeysDifferingInCaseAreDistinct":    rateKeysDifferingInCaseAreDistinct,
		"WindowEndsInUTCToTheMicrosecond":   rateWindowEndsInUTCToTheMicrosecond,
		"LaterHitsKeepTheWindowTheyFoundIn": rateLaterHitsKeepTheWindow,
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, newSubject(t).Standalone.RateLimits)
		})
	}
}

// rateWindow is the window the cases count in unless they say otherwise.
const rateWindow = time.Minute

// hit counts one event for key at now in windows of window, and returns
// the count and the end of the window.
func hit(t *testing.T, rl domain.RateLimitStore, key string, window time.Duration, now time.Time) (int, time.Time) {
	t.Helper()
	count, ends, err := rl.Hit(context.Background(), key, window, now)
	require.NoError(t, err)
	return count, ends
}

// requireHit counts one event for key at now in windows of rateWindow and
// fails unless the count is want and the window ends at wantEnds.
func requireHit(t *testing.T, rl domain.RateLimitStore, key string, now time.Time, want int, wantEnds time.Time) {
	t.Helper()
	count, ends := hit(t, rl, key, rateWindow, now)
	require.Equal(t, want, count, "count of the hit at %s", now)
	requireSameTime(t, wantEnds, ends, "windowEnds of the hit at "+now.String())
}

// deleteExpiredRateLimits deletes at most limit ended windows at now.
func deleteExpiredRateLimits(t *testing.T, rl domain.RateLimitStore, now time.Time, limit int) int {
	t.Helper()
	n, err := rl.DeleteExpired(context.Background(), now, limit)
	require.NoError(t, err)
	return n
}

func rateFirstHitStartsWindow(t *testing.T, rl domain.RateLimitStore) {
	requireHit(t, rl, "login:192.0.2.7", t0, 1, t0.Add(rateWindow))
}

func rateHitsWithinWindowCount(t *testing.T, rl domain.RateLimitStore) {
	const key = "login:192.0.2.7"
	ends := t0.Add(rateWindow)
	requireHit(t, rl, key, t0, 1, ends)
	requireHit(t, rl, key, t0, 2, ends)
	requireHit(t, rl, key, t0.Add(30*time.Second), 3, ends)
	requireHit(t, rl, key, ends.Add(-time.Microsecond), 4, ends)
}

func rateHitAtWindowEndStartsNewWindow(t *testing.T, rl domain.RateLimitStore) {
	const key = "register:192.0.2.7"
	ends := t0.Add(rateWindow)
	requireHit(t, rl, key, t0, 1, ends)
	requireHit(t, rl, key, t0.Add(time.Second), 2, ends)

	// At the very end the window is over: the next one starts there.
	next := ends.Add(rateWindow)
	requireHit(t, rl, key, ends, 1, next)
	requireHit(t, rl, key, ends.Add(time.Second), 2, next)

	// Long after it, too; the new window starts at the hit.
	later := next.Add(time.Hour + time.Microsecond)
	requireHit(t, rl, key, later, 1, later.Add(rateWindow))
	requireHit(t, rl, key, later, 2, later.Add(rateWindow))
}

func rateLaterHitsKeepTheWindow(t *testing.T, rl domain.RateLimitStore) {
	const key = "verify-resend:user@example.com"
	ends := t0.Add(rateWindow)
	requireHit(t, rl, key, t0, 1, ends)

	// The window is the one the first hit started, whatever window later
	// hits ask for.
	count, got := hit(t, rl, key, time.Hour, t0.Add(time.Second))
	assert.Equal(t, 2, count)
	requireSameTime(t, ends, got, "windowEnds of a hit asking for a longer window")
	count, got = hit(t, rl, key, time.Second, t0.Add(2*time.Second))
	assert.Equal(t, 3, count)
	requireSameTime(t, ends, got, "windowEnds of a hit asking for a shorter window, which would have ended")
}

func rateKeysAreIndependent(t *testing.T, rl domain.RateLimitStore) {
	ends := t0.Add(rateWindow)
	requireHit(t, rl, "login:192.0.2.7", t0, 1, ends)
	requireHit(t, rl, "login:192.0.2.7", t0, 2, ends)
	requireHit(t, rl, "login:192.0.2.7", t0, 3, ends)

	later := t0.Add(10 * time.Second)
	requireHit(t, rl, "login:192.0.2.8", later, 1, later.Add(rateWindow))
	requireHit(t, rl, "register:192.0.2.7", later, 1, later.Add(rateWindow))
	requireHit(t, rl, "login:192.0.2.7", later, 4, ends)

	require.NoError(t, rl.Reset(context.Background(), "login:192.0.2.8"))
	requireHit(t, rl, "login:192.0.2.7", later, 5, ends)
	requireHit(t, rl, "register:192.0.2.7", later, 2, later.Add(rateWindow))
}

func rateResetStartsOver(t *testing.T, rl domain.RateLimitStore) {
	const key = "login:user@example.com"
	ends := t0.Add(rateWindow)
	requireHit(t, rl, key, t0, 1, ends)
	requireHit(t, rl, key, t0, 2, ends)
	requireHit(t, rl, key, t0, 3, ends)

	require.NoError(t, rl.Reset(context.Background(), key))
	// Within the old window, a new one starts at the hit.
	now := t0.Add(20 * time.Second)
	requireHit(t, rl, key, now, 1, now.Add(rateWindow))
	requireHit(t, rl, key, now, 2, now.Add(rateWindow))
}

func rateResetUnknownKey(t *testing.T, rl domain.RateLimitStore) {
	require.NoError(t, rl.Reset(context.Background(), "never-hit"))

	const key = "login:user@example.com"
	requireHit(t, rl, key, t0, 1, t0.Add(rateWindow))
	require.NoError(t, rl.Reset(context.Background(), key))
	require.NoError(t, rl.Reset(context.Background(), key), "resetting a key again")
	requireHit(t, rl, key, t0, 1, t0.Add(rateWindow))
}

func rateConcurrentHitsCountDistinct(t *testing.T, rl domain.RateLimitStore) {
	const key = "login:203.0.113.9"
	counts := make([]int, concurrency)
	ends := make([]time.Time, concurrency)
	errs := race(concurrency, func(i int) error {
		var err error
		counts[i], ends[i], err = rl.Hit(context.Background(), key, rateWindow, t0)
		return err
	})
	for i, err := range errs {
		require.NoError(t, err, "goroutine %d", i)
	}

	want := make([]int, concurrency)
	for i := range want {
		want[i] = i + 1
	}
	slices.Sort(counts)
	require.Equal(t, want, counts, "every hit sees a distinct count from 1 to %d", concurrency)
	for i, e := range ends {
		requireSameTime(t, t0.Add(rateWindow), e, fmt.Sprintf("windowEnds of goroutine %d", i))
	}
	requireHit(t, rl, key, t0, concurrency+1, t0.Add(rateWindow))
}

func rateDeleteExpiredOnlyEnded(t *testing.T, rl domain.RateLimitStore) {
	// Windows ending at t0+1m, t0+2m, t0+3m and t0+1h.
	for _, w := range []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute, time.Hour} {
		hit(t, rl, w.String(), w, t0)
		hit(t, rl, w.String(), w, t0)
	}

	// A window that ends at now has ended.
	require.Equal(t, 2, deleteExpiredRateLimits(t, rl, t0.Add(2*time.Minute), 10))
	require.Equal(t, 0, deleteExpiredRateLimits(t, rl, t0.Add(2*time.Minute), 10), "nothing else has ended")

	// Hit at t0 again, within every old window: the deleted keys start
	// over, the others count on.
	for w, want := range map[time.Duration]int{time.Minute: 1, 2 * time.Minute: 1, 3 * time.Minute: 3, time.Hour: 3} {
		count, ends := hit(t, rl, w.String(), w, t0)
		assert.Equal(t, want, count, "count of the key with a window of %s", w)
		requireSameTime(t, t0.Add(w), ends, "windowEnds of the key with a window of "+w.String())
	}
}

func rateDeleteExpiredInBatches(t *testing.T, rl domain.RateLimitStore) {
	for i := range 5 {
		hit(t, rl, "ended-"+strings.Repeat("x", i), rateWindow, t0.Add(time.Duration(i)*time.Second))
	}
	hit(t, rl, "running", time.Hour, t0)
	now := t0.Add(rateWindow + 10*time.Second)

	require.Equal(t, 0, deleteExpiredRateLimits(t, rl, now, 0), "limit 0 deletes nothing")
	require.Equal(t, 2, deleteExpiredRateLimits(t, rl, now, 2))
	require.Equal(t, 2, deleteExpiredRateLimits(t, rl, now, 2))
	require.Equal(t, 1, deleteExpiredRateLimits(t, rl, now, 2), "one ended window is left")
	require.Equal(t, 0, deleteExpiredRateLimits(t, rl, now, 2))

	count, ends := hit(t, rl, "running", time.Hour, now)
	assert.Equal(t, 2, count, "the running window was kept")
	requireSameTime(t, t0.Add(time.Hour), ends, "windowEnds of the running window")
}

func rateDeletedKeyStartsOver(t *testing.T, rl domain.RateLimitStore) {
	const key = "login:user@example.com"
	ends := t0.Add(rateWindow)
	requireHit(t, rl, key, t0, 1, ends)
	requireHit(t, rl, key, t0, 2, ends)
	require.Equal(t, 0, deleteExpiredRateLimits(t, rl, ends.Add(-time.Microsecond), 10), "the window has not ended")
	require.Equal(t, 1, deleteExpiredRateLimits(t, rl, ends, 10))

	// A hit dated within the deleted window proves the row is gone: had it
	// stayed, the hit would count 3.
	now := t0.Add(time.Second)
	requireHit(t, rl, key, now, 1, now.Add(rateWindow))
}

func rateLongKeys(t *testing.T, rl domain.RateLimitStore) {
	// Keys far longer than a hash, differing only at one end or the other.
	long := strings.Repeat("k", 1024)
	keys := []string{long, long[:1023] + "K", "K" + long[1:], long + "k"}
	ends := t0.Add(rateWindow)
	for _, key := range keys {
		requireHit(t, rl, key, t0, 1, ends)
	}
	for _, key := range keys {
		requireHit(t, rl, key, t0, 2, ends)
	}
	require.NoError(t, rl.Reset(context.Background(), long))
	requireHit(t, rl, long, t0, 1, ends)
	requireHit(t, rl, keys[1], t0, 3, ends)
}

func rateKeysDifferingInCaseAreDistinct(t *testing.T, rl domain.RateLimitStore) {
	ends := t0.Add(rateWindow)
	requireHit(t, rl, "login:User@Example.com", t0, 1, ends)
	requireHit(t, rl, "login:User@Example.com", t0, 2, ends)
	requireHit(t, rl, "login:user@example.com", t0, 1, ends)
	requireHit(t, rl, "LOGIN:USER@EXAMPLE.COM", t0, 1, ends)
	requireHit(t, rl, "login:User@Example.com", t0, 3, ends)
}

func rateWindowEndsInUTCToTheMicrosecond(t *testing.T, rl domain.RateLimitStore) {
	// Stored as the other stores store times: in UTC, to the microsecond.
	now := t0.Add(time.Microsecond + 500*time.Nanosecond).In(time.FixedZone("UTC+1", 3600))
	count, ends := hit(t, rl, "login:192.0.2.7", rateWindow, now)
	require.Equal(t, 1, count)
	requireSameTime(t, t0.Add(rateWindow+time.Microsecond), ends, "windowEnds")
	assert.Equal(t, time.UTC, ends.Location(), "windowEnds is in UTC")

	// The same windowEnds comes back from a later hit, which reads it.
	count, again := hit(t, rl, "login:192.0.2.7", rateWindow, now.Add(time.Second))
	require.Equal(t, 2, count)
	requireSameTime(t, ends, again, "windowEnds read back")
	assert.Equal(t, time.UTC, again.Location(), "windowEnds read back is in UTC")
}
