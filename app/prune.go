package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"
)

// PruneLockName is the name of the lock (see domain.Locker) a prune run
// holds, so that one replica prunes at a time.
const PruneLockName = "gatehouse:prune"

// The defaults of Config.PruneBatch and Config.PruneMaxBatches: a run
// deletes at most 100,000 rows of each kind, in statements of 1,000 rows
// that each hold their locks briefly.
const (
	DefaultPruneBatch      = 1000
	DefaultPruneMaxBatches = 100
)

// PruneReport says what one prune run did.
type PruneReport struct {
	// Skipped means another replica held the prune lock, so this run
	// deleted nothing.
	Skipped bool
	// Tokens, Sessions and RateLimits count the expired single-use tokens,
	// sessions and rate-limit windows deleted.
	Tokens, Sessions, RateLimits int
	// Partial means a kind reached the bound of batches of one run, so
	// expired rows may be left for the next.
	Partial bool
}

// Prune deletes expired tokens, sessions and rate-limit windows, in batches
// of Config.PruneBatch rows, at most Config.PruneMaxBatches batches of each
// kind, so that one run is bounded however much has piled up. Only one
// replica prunes at a time: when another holds the prune lock, Prune
// deletes nothing and reports Skipped. Deleting what has expired is safe to
// repeat, so a lock lost with its connection costs at most duplicate work.
//
// Prune checks ctx between batches and, when ctx is done, stops and returns
// ctx's error with what it deleted so far. It logs one line per run.
func (s *Service) Prune(ctx context.Context) (PruneReport, error) {
	now := s.Clock.Now()
	r, err := s.prune(ctx, now)
	attrs := []any{
		"tokens", r.Tokens, "sessions", r.Sessions, "rate_limits", r.RateLimits,
		"partial", r.Partial, "duration", s.Clock.Now().Sub(now).String(),
	}
	switch {
	case r.Skipped:
		s.Logger.InfoContext(ctx, "prune skipped: another replica holds the prune lock")
	case err != nil && ctx.Err() != nil:
		s.Logger.InfoContext(ctx, "prune stopped", append(attrs, "reason", err.Error())...)
	case err != nil:
		s.Logger.ErrorContext(ctx, "prune failed", append(attrs, "error", err)...)
	default:
		s.Logger.InfoContext(ctx, "pruned expired rows", attrs...)
	}
	return r, err
}

// prune is Prune without the log line; rows that expired at or before now
// go.
func (s *Service) prune(ctx context.Context, now time.Time) (PruneReport, error) {
	var r PruneReport
	if s.Locker == nil {
		return r, errors.New("app: prune: no Locker")
	}
	release, ok, err := s.Locker.TryLock(ctx, PruneLockName)
	if err != nil {
		return r, fmt.Errorf("app: prune: take lock: %w", err)
	}
	defer release()
	if !ok {
		r.Skipped = true
		return r, nil
	}

	kinds := []struct {
		name    string
		deleted *int
		delete  func(ctx context.Context, now time.Time, limit int) (int, error)
	}{
		{"tokens", &r.Tokens, s.Stores.Tokens.DeleteExpired},
		{"sessions", &r.Sessions, s.Stores.Sessions.DeleteExpired},
		{"rate limits", &r.RateLimits, s.RateLimits.DeleteExpired},
	}
	for _, k := range kinds {
		partial, err := s.pruneKind(ctx, now, k.deleted, k.delete)
		r.Partial = r.Partial || partial
		if err != nil {
			return r, fmt.Errorf("app: prune %s: %w", k.name, err)
		}
	}
	return r, nil
}

// pruneKind calls del in batches until one comes back short or the run's
// bound is reached, adding what it deletes to *deleted as it goes, and
// reports whether it stopped at the bound.
func (s *Service) pruneKind(ctx context.Context, now time.Time, deleted *int,
	del func(ctx context.Context, now time.Time, limit int) (int, error)) (partial bool, err error) {
	batch := cmp.Or(s.cfg.PruneBatch, DefaultPruneBatch)
	for range cmp.Or(s.cfg.PruneMaxBatches, DefaultPruneMaxBatches) {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		n, err := del(ctx, now, batch)
		*deleted += n
		if err != nil {
			return false, err
		}
		if n < batch {
			return false, nil
		}
	}
	return true, nil
}
