package memstore

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// rateLimitStore is the domain.RateLimitStore. Like keys, rate limits belong
// to no unit of work, so they live apart from data under a lock of their
// own: InTx neither copies nor holds them, and a call never waits for a
// unit of work, nor one for it; a call from inside a unit of work is
// refused (see outside). Counters are kept by the SHA-256 of the caller's
// key, as the Postgres store keeps them.
type rateLimitStore struct {
	outside outside
	mu      sync.Mutex
	windows map[string]rateWindow // by domain.HashToken(key)
}

// rateWindow is one key's count within its current window.
type rateWindow struct {
	count int
	ends  time.Time
}

func newRateLimitStore(o outside) *rateLimitStore {
	return &rateLimitStore{outside: o, windows: map[string]rateWindow{}}
}

// Hit counts one event for key at now; see domain.RateLimitStore. Holding
// the lock for the read and the write is what gives concurrent hits
// distinct counts.
func (s *rateLimitStore) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int, time.Time, error) {
	if err := s.outside.check(ctx, "hit rate limit"); err != nil {
		return 0, time.Time{}, err
	}
	h := domain.HashToken(key)
	ends := dbTime(now.Add(window))
	now = dbTime(now)
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.windows[h]
	if !ok || !now.Before(w.ends) {
		w = rateWindow{count: 0, ends: ends}
	}
	w.count++
	s.windows[h] = w
	return w.count, w.ends, nil
}

// Reset forgets key's count; see domain.RateLimitStore.
func (s *rateLimitStore) Reset(ctx context.Context, key string) error {
	if err := s.outside.check(ctx, "reset rate limit"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.windows, domain.HashToken(key))
	return nil
}

// DeleteExpired deletes at most limit keys whose window ended at or before
// now, those that ended first first; see domain.RateLimitStore.
func (s *rateLimitStore) DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	if err := s.outside.check(ctx, "delete expired rate limits"); err != nil {
		return 0, err
	}
	type ended struct {
		hash string
		ends time.Time
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var expired []ended
	for h, w := range s.windows {
		if !now.Before(w.ends) {
			expired = append(expired, ended{h, w.ends})
		}
	}
	slices.SortFunc(expired, func(a, b ended) int {
		return cmp.Or(a.ends.Compare(b.ends), cmp.Compare(a.hash, b.hash))
	})
	expired = expired[:min(max(limit, 0), len(expired))]
	for _, e := range expired {
		delete(s.windows, e.hash)
	}
	return len(expired), nil
}
