package entstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/ent"
	"github.com/gatehouse-auth/gatehouse/ent/predicate"
	"github.com/gatehouse-auth/gatehouse/ent/ratelimit"
)

// rateLimitStore implements domain.RateLimitStore on the rate_limits table.
// Rows are keyed by rateLimitKey(key), never by the caller's key itself.
type rateLimitStore struct {
	client  *ent.Client
	outside outside
}

var _ domain.RateLimitStore = (*rateLimitStore)(nil)

// hitSQL counts one hit in a single statement, which is what makes Hit
// atomic without a transaction: the first hit on a key inserts count 1 and
// a window ending at $2; every later hit meets the primary key and updates
// the row in place, starting a new window at count 1 if the stored one
// ended at or before $3 (now), and adding one otherwise. Postgres runs the
// conflicting inserts of concurrent hits one after the other on the row's
// lock, each seeing the count the previous one wrote; SQLite has one writer
// at a time. Both dialects support the upsert (SQLite since 3.24) and
// RETURNING (since 3.35), and both bind $n to the n-th argument (SQLite as
// a named parameter, which modernc.org/sqlite matches by ordinal), so one
// text serves both.
const hitSQL = `INSERT INTO rate_limits (key, count, window_ends_at) VALUES ($1, 1, $2) ` +
	`ON CONFLICT (key) DO UPDATE SET ` +
	`count = CASE WHEN rate_limits.window_ends_at <= $3 THEN 1 ELSE rate_limits.count + 1 END, ` +
	`window_ends_at = CASE WHEN rate_limits.window_ends_at <= $3 THEN excluded.window_ends_at ELSE rate_limits.window_ends_at END ` +
	`RETURNING count, window_ends_at`

// Hit counts one event for key at now in one statement (hitSQL). Times are
// bound as every store writes them (dbTime), so that on SQLite, where they
// are text, comparing them compares the instants.
func (s *rateLimitStore) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int, time.Time, error) {
	const op = "hit rate limit"
	if err := s.outside.check(ctx, op); err != nil {
		return 0, time.Time{}, err
	}
	ends := dbTime(now.Add(window))
	rows, err := s.client.QueryContext(ctx, hitSQL, rateLimitKey(key), ends, dbTime(now))
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("entstore: %s: %w", op, err)
	}
	// Closing the rows gives the connection back, which on SQLite is the
	// only one (see Open); an error from it is reported. Past QueryContext,
	// errors come from the rows, which guardedDriver does not see: a
	// connection that breaks there is marked here, so that a Hit on a
	// broken connection answers "try again" like every other call.
	defer func() { _ = rows.Close() }()
	if !rows.Next() {
		err := unavailable(rows.Err())
		if err == nil {
			err = errors.New("no row returned")
		}
		return 0, time.Time{}, fmt.Errorf("entstore: %s: %w", op, err)
	}
	var count int
	if err := rows.Scan(&count, &ends); err != nil {
		return 0, time.Time{}, fmt.Errorf("entstore: %s: %w", op, unavailable(err))
	}
	if err := rows.Close(); err != nil {
		return 0, time.Time{}, fmt.Errorf("entstore: %s: %w", op, unavailable(err))
	}
	return count, ends.UTC(), nil
}

// Reset deletes key's row, if there is one.
func (s *rateLimitStore) Reset(ctx context.Context, key string) error {
	const op = "reset rate limit"
	if err := s.outside.check(ctx, op); err != nil {
		return err
	}
	if _, err := s.client.RateLimit.Delete().Where(ratelimit.ID(rateLimitKey(key))).Exec(ctx); err != nil {
		return fmt.Errorf("entstore: %s: %w", op, err)
	}
	return nil
}

// DeleteExpired deletes up to limit keys whose window ended, those that
// ended first first, in one statement.
func (s *rateLimitStore) DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	const op = "delete expired rate limits"
	if err := s.outside.check(ctx, op); err != nil {
		return 0, err
	}
	if limit <= 0 {
		return 0, nil
	}
	now = dbTime(now)
	n, err := s.client.RateLimit.Delete().
		Where(
			ratelimit.WindowEndsAtLTE(now),
			predicate.RateLimit(firstExpired(ratelimit.Table, ratelimit.FieldID, ratelimit.FieldWindowEndsAt, now, limit)),
		).
		Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("entstore: %s: %w", op, err)
	}
	return n, nil
}

// rateLimitKey returns the row key of a caller's rate-limit key: its
// SHA-256 in hex. Callers key limits on emails and IP addresses, which the
// table thus never holds in clear, and every key, however long, fits the
// 64 characters of the column.
func rateLimitKey(key string) string {
	return domain.HashToken(key)
}
