package entstore

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/ent"
)

// heldDriver counts the queries it runs, and holds the first one until
// release is closed.
type heldDriver struct {
	dialect.Driver
	queries atomic.Int32
	release chan struct{}
}

func (d *heldDriver) Query(ctx context.Context, query string, args, v any) error {
	if d.queries.Add(1) == 1 {
		<-d.release
	}
	return d.Driver.Query(ctx, query, args, v)
}

// newHeldBatcher returns a batcher over a migrated SQLite database whose
// first query waits for release, and a user stored in it.
func newHeldBatcher(t *testing.T) (*userBatcher, *heldDriver, domain.User) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "gatehouse.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Migrate(ctx))
	u, err := db.Stores().Users.Create(ctx, domain.User{
		Email: "ada@example.com", PasswordHash: "h", Tier: domain.TierFree,
		CreatedAt: time.Unix(0, 0), UpdatedAt: time.Unix(0, 0),
	})
	require.NoError(t, err)
	drv := &heldDriver{Driver: guardedDriver{entsql.OpenDB(db.Dialect(), db.SQL())}, release: make(chan struct{})}
	return &userBatcher{client: ent.NewClient(ent.Driver(drv))}, drv, u
}

func (b *userBatcher) pendingLookups() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}

func TestUserBatcherGathersWaitingLookups(t *testing.T) {
	b, drv, u := newHeldBatcher(t)
	id := uuid.MustParse(string(u.ID))
	missing := uuid.Must(uuid.NewV7())

	const lookups = 50
	rows := make([]*ent.User, lookups)
	errs := make([]error, lookups)
	var wg sync.WaitGroup
	wg.Go(func() { rows[0], errs[0] = b.get(t.Context(), id) })
	require.Eventually(t, func() bool { return drv.queries.Load() == 1 }, 10*time.Second, time.Millisecond,
		"the first lookup is sent at once, alone")
	for i := 1; i < lookups; i++ {
		wg.Go(func() {
			want := id
			if i%2 == 1 {
				want = missing
			}
			rows[i], errs[i] = b.get(t.Context(), want)
		})
	}
	require.Eventually(t, func() bool { return b.pendingLookups() == lookups-1 }, 10*time.Second, time.Millisecond)
	close(drv.release)
	wg.Wait()

	assert.Equal(t, int32(2), drv.queries.Load(), "the lookups that waited went in one query")
	for i := range lookups {
		require.NoError(t, errs[i])
		if i%2 == 1 {
			assert.Nil(t, rows[i], "lookup %d names no user", i)
		} else {
			require.NotNil(t, rows[i], "lookup %d", i)
			assert.Equal(t, id, rows[i].ID)
		}
	}
	assert.Zero(t, b.pendingLookups())
}

func TestUserBatcherCallersLeaveOnTheirOwn(t *testing.T) {
	b, drv, u := newHeldBatcher(t)
	id := uuid.MustParse(string(u.ID))

	first := make(chan error, 1)
	go func() {
		_, err := b.get(t.Context(), id)
		first <- err
	}()
	require.Eventually(t, func() bool { return drv.queries.Load() == 1 }, 10*time.Second, time.Millisecond)

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := b.get(cancelled, id)
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, domain.ErrUnavailable, "the caller gave up; the database did not fail")

	expired, cancel := context.WithDeadline(t.Context(), time.Now())
	defer cancel()
	_, err = b.get(expired, id)
	require.ErrorIs(t, err, domain.ErrUnavailable, "no answer before the deadline")

	close(drv.release)
	require.NoError(t, <-first, "the held batch still answers its own caller")
	row, err := b.get(t.Context(), id)
	require.NoError(t, err)
	require.NotNil(t, row)
	assert.Equal(t, int32(2), drv.queries.Load(), "the callers that left cost no query")
}

// TestUserBatcherNeverAnswersALeftCallerWithNoUser sends a batch holding
// a caller that has already left: it gets its context's error, not the
// nil row that ByID would turn into "no such user".
func TestUserBatcherNeverAnswersALeftCallerWithNoUser(t *testing.T) {
	b, drv, u := newHeldBatcher(t)
	close(drv.release)
	id := uuid.MustParse(string(u.ID))

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	left := &userLookup{ctx: cancelled, id: id, done: make(chan struct{})}
	stays := &userLookup{ctx: t.Context(), id: id, done: make(chan struct{})}
	b.send([]*userLookup{left, stays})

	<-left.done
	require.ErrorIs(t, left.err, context.Canceled)
	assert.Nil(t, left.row)
	<-stays.done
	require.NoError(t, stays.err)
	require.NotNil(t, stays.row, "the caller that stayed gets its user")
	assert.Equal(t, id, stays.row.ID)
}
