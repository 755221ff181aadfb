package password

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// awaitWaiting waits until n callers are queued for a slot.
func awaitWaiting(t *testing.T, h *Hasher, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return h.Waiting() == n }, 10*time.Second, time.Millisecond,
		"waiting for %d queued callers", n)
}

func TestNewHasherDefaultsToGOMAXPROCS(t *testing.T) {
	assert.Equal(t, runtime.GOMAXPROCS(0), cap(NewHasher(Config{}).slots))
	assert.Equal(t, runtime.GOMAXPROCS(0), cap(NewHasher(Config{Concurrency: -1}).slots))
	assert.Equal(t, 3, cap(NewHasher(Config{Concurrency: 3}).slots))
}

func TestWaitForSlotRespectsContext(t *testing.T) {
	h := NewHasher(Config{Concurrency: 1})
	h.slots <- struct{}{} // the only slot is busy

	type result struct {
		match bool
		err   error
	}
	ctx, cancel := context.WithCancel(context.Background())
	hashed := make(chan error, 1)
	verified := make(chan result, 1)
	go func() {
		_, err := h.Hash(ctx, "correct horse battery staple")
		hashed <- err
	}()
	go func() {
		match, _, err := h.Verify(ctx, "$argon2id$v=19$m=19456,t=2,p=1$Z2F0ZWhvdXNlLXZlY3Rvcg$ffmpyDwBjll0hZuwfi5Tap3giuuqXrt9A50zAnKl07U", "correct horse battery staple")
		verified <- result{match, err}
	}()
	awaitWaiting(t, h, 2)

	cancel()
	require.ErrorIs(t, <-hashed, context.Canceled)
	r := <-verified
	require.ErrorIs(t, r.err, context.Canceled)
	assert.False(t, r.match)
	assert.Equal(t, 0, h.Waiting())
	assert.Len(t, h.slots, 1, "a cancelled wait takes no slot")

	<-h.slots // free the slot: work proceeds again
	_, err := h.Hash(context.Background(), "correct horse battery staple")
	require.NoError(t, err)
	assert.Empty(t, h.slots, "a finished hash gives its slot back")
}

// TestConcurrencyIsBounded runs work through withSlot, the one way Hash
// and Verify hash (TestHashAndVerifyWaitForASlot), and holds it there.
func TestConcurrencyIsBounded(t *testing.T) {
	const limit, callers = 2, 6
	h := NewHasher(Config{Concurrency: limit})

	var active, peak atomic.Int64
	entered := make(chan struct{}, callers)
	release := make(chan struct{})
	work := func() {
		n := active.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		entered <- struct{}{}
		<-release
		active.Add(-1)
	}

	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() { errs <- h.withSlot(context.Background(), work) })
	}
	for range limit {
		<-entered
	}
	// Every slot is held and every other caller is queued: none got past.
	awaitWaiting(t, h, callers-limit)
	assert.EqualValues(t, limit, active.Load())

	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.EqualValues(t, limit, peak.Load())
	assert.Len(t, entered, callers-limit, "every queued caller ran once a slot was free")
	assert.Equal(t, 0, h.Waiting())
	assert.Empty(t, h.slots)
}

// TestHashAndVerifyWaitForASlot: while every slot is held, no Hash or
// Verify finishes; each is queued, and each finishes once slots are free.
func TestHashAndVerifyWaitForASlot(t *testing.T) {
	const limit, callers = 2, 6
	h := NewHasher(Config{Concurrency: limit})
	encoded, err := h.Hash(context.Background(), "correct horse battery staple")
	require.NoError(t, err)
	for range limit {
		h.slots <- struct{}{} // every slot is busy
	}

	var (
		wg       sync.WaitGroup
		finished atomic.Int64
	)
	errs := make(chan error, callers)
	for i := range callers {
		wg.Go(func() {
			defer finished.Add(1)
			if i%2 == 0 {
				_, err := h.Hash(context.Background(), "correct horse battery staple")
				errs <- err
				return
			}
			match, _, err := h.Verify(context.Background(), encoded, "correct horse battery staple")
			if err == nil && !match {
				t.Error("verify did not match")
			}
			errs <- err
		})
	}
	awaitWaiting(t, h, callers)
	assert.Zero(t, finished.Load(), "no caller finished without a slot")

	for range limit {
		<-h.slots
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.EqualValues(t, callers, finished.Load())
	assert.Equal(t, 0, h.Waiting())
	assert.Empty(t, h.slots)
}
