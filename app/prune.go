package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// PruneLockName is the name of the lock (see domain.Locker) a prune run
// holds, so that one replica prunes at a time.
const PruneLockName = "gatehouse:prune"

// A prune run deletes at most pruneMaxBatches batches of pruneBatch rows of
// each kind, so that each statement holds its locks briefly and one run is
// bounded however much has piled up.
const (
	pruneBatch      = 1000
	pruneMaxBatches = 100
)

// Maintenance is the jobs a replica runs on a schedule.
type Maintenance struct {
	kinds  []pruneKind
	locker domain.Locker
	clock  domain.Clock
	log    *slog.Logger
}

// pruneKind is one kind of row that expires.
type pruneKind struct {
	name          string // as in PruneReport.Deleted and the log line
	deleteExpired func(ctx context.Context, now time.Time, limit int) (int, error)
}

func newMaintenance(p Ports) *Maintenance {
	return &Maintenance{
		kinds: []pruneKind{
			{"tokens", p.Stores.Tokens.DeleteExpired},
			{"sessions", p.Stores.Sessions.DeleteExpired},
			{"retry_secrets", p.Stores.Sessions.ForgetExpiredRetries},
			{"rate_limits", p.Standalone.RateLimits.DeleteExpired},
		},
		locker: p.Standalone.Locker, clock: p.Clock, log: p.Logger,
	}
}

// PruneReport says what one prune run did.
type PruneReport struct {
	// Skipped means another replica held the prune lock, so this run
	// deleted nothing.
	Skipped bool
	// Deleted counts the expired rows deleted, by kind: "tokens" (single-use
	// tokens), "sessions", "retry_secrets" (those of refresh rotations whose
	// grace ended) and "rate_limits" (rate-limit windows). Every kind a run
	// reached has an entry.
	Deleted map[string]int
	// Partial means a kind reached the bound of batches of one run, so
	// expired rows may be left for the next.
	Partial bool
}

// Prune deletes expired tokens, sessions, retry secrets and rate-limit
// windows, in bounded batches, so that one run is bounded however much has
// piled up.
// Only one replica prunes at a time: when another holds the prune lock,
// Prune deletes nothing and reports Skipped. Deleting what has expired is
// safe to repeat, so a lock lost with its connection costs at most
// duplicate work.
//
// Prune checks ctx between batches and, when ctx is done, stops and returns
// ctx's error with what it deleted so far. It logs one line per run.
func (m *Maintenance) Prune(ctx context.Context) (PruneReport, error) {
	now := m.clock.Now()
	r, err := m.prune(ctx, now)
	attrs := []any{"partial", r.Partial, "duration", m.clock.Now().Sub(now).String()}
	for _, k := range m.kinds {
		attrs = append(attrs, k.name, r.Deleted[k.name])
	}
	switch {
	case r.Skipped:
		m.log.InfoContext(ctx, "prune skipped: another replica holds the prune lock")
	case err != nil && ctx.Err() != nil:
		m.log.InfoContext(ctx, "prune stopped", append(attrs, "reason", err.Error())...)
	case err != nil:
		m.log.ErrorContext(ctx, "prune failed", append(attrs, "error", err)...)
	default:
		m.log.InfoContext(ctx, "pruned expired rows", attrs...)
	}
	return r, err
}

// prune is Prune without the log line; rows that expired at or before now
// go.
func (m *Maintenance) prune(ctx context.Context, now time.Time) (PruneReport, error) {
	var r PruneReport
	release, ok, err := m.locker.TryLock(ctx, PruneLockName)
	if err != nil {
		return r, fmt.Errorf("app: prune: take lock: %w", err)
	}
	defer release()
	if !ok {
		r.Skipped = true
		return r, nil
	}
	r.Deleted = map[string]int{}
	for _, k := range m.kinds {
		deleted, partial, err := pruneBatches(ctx, now, k.deleteExpired, pruneBatch, pruneMaxBatches)
		r.Deleted[k.name] = deleted
		r.Partial = r.Partial || partial
		if err != nil {
			return r, fmt.Errorf("app: prune %s: %w", k.name, err)
		}
	}
	return r, nil
}

// pruneBatches calls deleteExpired for batches of batch rows until one
// comes back short or maxBatches have run, checking ctx before each, and
// reports how many rows it deleted and whether it stopped at the bound.
func pruneBatches(ctx context.Context, now time.Time, deleteExpired func(context.Context, time.Time, int) (int, error),
	batch, maxBatches int) (deleted int, partial bool, err error) {
	for range maxBatches {
		if err := ctx.Err(); err != nil {
			return deleted, false, err
		}
		n, err := deleteExpired(ctx, now, batch)
		deleted += n
		if err != nil {
			return deleted, false, err
		}
		if n < batch {
			return deleted, false, nil
		}
	}
	return deleted, true, nil
}
