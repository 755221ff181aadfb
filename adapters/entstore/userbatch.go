package entstore

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/ent"
	"github.com/gatehouse-auth/gatehouse/ent/user"
)

// Limits of userBatcher. A batch takes at most maxUserBatch IDs, one
// statement's worth. One batch is in flight at a time: the lookups that
// arrive meanwhile form the next. A query's time hardly grows with its
// IDs (an index probe each), so one in flight already serves
// maxUserBatch IDs per round trip, far more than the HTTP layer can ask
// for, and more in flight only made the batches smaller and the
// statements more (docs/BENCHMARKS.md, GET /v1/me). A batch whose callers
// set no deadline gets userBatchTimeout.
const (
	maxUserBatch     = 128
	userBatchTimeout = 30 * time.Second
)

// userBatcher reads users by ID outside any unit of work, and gathers
// lookups that wait at the same time into one query: under load, GET
// /v1/me costs the database one statement per batch instead of one per
// request. It adds no delay when idle: a lookup that finds no batch in
// flight is sent at once, alone; lookups that arrive while one is in
// flight wait for it to end, and then go together.
//
// Each batch's query starts after every lookup in it was asked for, so a
// lookup sees every write that finished before it was made, as a query of
// its own would.
type userBatcher struct {
	client *ent.Client

	mu      sync.Mutex
	pending []*userLookup
	running bool // a batch is in flight
}

// userLookup is one caller waiting in a userBatcher.
type userLookup struct {
	ctx  context.Context
	id   uuid.UUID
	done chan struct{} // closed once row and err are set
	row  *ent.User     // nil: no user has the ID
	err  error
}

// get returns the users row with id, nil when there is none. When ctx
// ends first, get returns ctx's error; the batch goes on for the others.
func (b *userBatcher) get(ctx context.Context, id uuid.UUID) (*ent.User, error) {
	l := &userLookup{ctx: ctx, id: id, done: make(chan struct{})}
	b.mu.Lock()
	b.pending = append(b.pending, l)
	start := !b.running
	b.running = true
	b.mu.Unlock()
	if start {
		go b.run()
	}
	select {
	case <-l.done:
		return l.row, l.err
	case <-ctx.Done():
		return nil, unavailable(ctx.Err())
	}
}

// run sends batches, one at a time, until no lookup is pending.
func (b *userBatcher) run() {
	for {
		b.mu.Lock()
		n := min(len(b.pending), maxUserBatch)
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		batch := b.pending[:n:n]
		b.pending = b.pending[n:]
		if len(b.pending) == 0 {
			b.pending = nil // let the backing array go
		}
		b.mu.Unlock()
		b.send(batch)
	}
}

// send runs one query for batch and hands every lookup its answer.
func (b *userBatcher) send(batch []*userLookup) {
	ctx, cancel := batchContext(batch)
	defer cancel()
	ids := make([]uuid.UUID, 0, len(batch))
	asked := make([]bool, len(batch)) // a caller that left needs no row
	for i, l := range batch {
		if l.ctx.Err() == nil {
			asked[i] = true
			ids = append(ids, l.id)
		}
	}
	var (
		rows []*ent.User
		err  error
	)
	if len(ids) > 0 {
		// Repeating the last ID up to a power of two leaves eight
		// statement texts (1 to 128 IDs) instead of 128: pgx keeps every
		// text it has prepared in memory, on every connection of the pool.
		for n := len(ids); n&(n-1) != 0; n++ {
			ids = append(ids, ids[len(ids)-1])
		}
		rows, err = b.client.User.Query().Where(user.IDIn(ids...)).All(ctx)
	}
	byID := make(map[uuid.UUID]*ent.User, len(rows))
	for _, row := range rows {
		byID[row.ID] = row
	}
	for i, l := range batch {
		if asked[i] {
			l.row, l.err = byID[l.id], err
		} else {
			// Its context's error, never a nil row: get may take done over
			// ctx.Done, and a nil row would read as "no such user".
			l.err = unavailable(l.ctx.Err())
		}
		close(l.done)
	}
}

// batchContext returns the context of one batch's query: its callers'
// values are not needed, and no caller's cancellation may fail the
// others, so it ends at the latest of their deadlines, or after
// userBatchTimeout when one of them set none.
func batchContext(batch []*userLookup) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, l := range batch {
		d, ok := l.ctx.Deadline()
		if !ok {
			return context.WithTimeout(context.Background(), userBatchTimeout)
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(context.Background(), latest)
}
