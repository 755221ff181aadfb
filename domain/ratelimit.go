package domain

import (
	"context"
	"fmt"
	"time"
)

// RateLimitedError means a limit was reached; the caller may try again
// after RetryAfter.
type RateLimitedError struct {
	RetryAfter time.Duration
}

// Error says how long to wait.
func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("rate limited: retry after %s", e.RetryAfter)
}

// RateLimitStore counts events per key in fixed windows. Its state lives in
// the database, so a limit holds across every replica.
// It is a standalone store: every method called inside a unit of work
// returns an error wrapping ErrInsideUnitOfWork (see Standalone).
type RateLimitStore interface {
	// Hit counts one event for key at now and returns the count within the
	// current window, and when that window ends. A window starts with the
	// first event after the previous one ended and lasts window. The count
	// is incremented atomically: of n concurrent hits on a fresh key, each
	// sees a distinct count from 1 to n.
	Hit(ctx context.Context, key string, window time.Duration, now time.Time) (count int, windowEnds time.Time, err error)
	// Reset forgets key's count. Resetting an unknown key is not an error.
	Reset(ctx context.Context, key string) error
	// DeleteExpired deletes at most limit keys whose window ended at or
	// before now and returns how many it deleted.
	DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error)
}
