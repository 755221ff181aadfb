package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/apptest"
)

// deleted is PruneReport.Deleted of a run that reached every kind.
func deleted(tokens, sessions, rateLimits int) map[string]int {
	return map[string]int{"tokens": tokens, "sessions": sessions, "retry_secrets": 0, "rate_limits": rateLimits}
}

// deleteSpy stands between Prune and a store's DeleteExpired: it records
// the limit of every call and runs the hooks the test sets.
type deleteSpy struct {
	mu     sync.Mutex
	limits []int
	before func(call int) error // fails the call when it returns an error
	after  func(call int)       // runs after a call the store answered
}

func (s *deleteSpy) call(ctx context.Context, now time.Time, limit int,
	del func(context.Context, time.Time, int) (int, error)) (int, error) {
	s.mu.Lock()
	s.limits = append(s.limits, limit)
	call := len(s.limits)
	s.mu.Unlock()
	if s.before != nil {
		if err := s.before(call); err != nil {
			return 0, err
		}
	}
	n, err := del(ctx, now, limit)
	if err == nil && s.after != nil {
		s.after(call)
	}
	return n, err
}

// calls returns the limits DeleteExpired was called with, in order.
func (s *deleteSpy) calls() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.limits...)
}

type spiedTokens struct {
	domain.TokenStore
	spy *deleteSpy
}

func (s spiedTokens) DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	return s.spy.call(ctx, now, limit, s.TokenStore.DeleteExpired)
}

type spiedSessions struct {
	domain.SessionStore
	spy *deleteSpy
}

func (s spiedSessions) DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	return s.spy.call(ctx, now, limit, s.SessionStore.DeleteExpired)
}

// spiedEnv is an env whose service prunes through spies on the token and
// session stores, and logs to log.
type spiedEnv struct {
	*env
	tokenSpy, sessionSpy *deleteSpy
	log                  *bytes.Buffer
}

// newSpiedEnv builds a spiedEnv.
func newSpiedEnv(t *testing.T) *spiedEnv {
	t.Helper()
	e := &spiedEnv{tokenSpy: &deleteSpy{}, sessionSpy: &deleteSpy{}, log: &bytes.Buffer{}}
	e.env = newEnv(t, apptest.WithPorts(func(p *app.Ports) {
		p.Stores.Tokens = spiedTokens{p.Stores.Tokens, e.tokenSpy}
		p.Stores.Sessions = spiedSessions{p.Stores.Sessions, e.sessionSpy}
		p.Logger = slog.New(slog.NewJSONHandler(e.log, nil))
	}))
	return e
}

// seededUsers numbers the users seedUser stores.
var seededUsers atomic.Int64

// seedUser stores a user for tokens and sessions to belong to.
func seedUser(t *testing.T, e *env) domain.UserID {
	t.Helper()
	now := e.Clock.Now()
	u, err := e.Store.Stores().Users.Create(context.Background(), domain.User{
		Email: fmt.Sprintf("prune-%d@example.com", seededUsers.Add(1)), PasswordHash: "fake$pw",
		Tier: domain.TierFree, CreatedAt: now, UpdatedAt: now,
	})
	require.NoError(t, err)
	return u.ID
}

// seedToken stores a password-reset token called name (its hash is name's)
// that expires at expires.
func seedToken(t *testing.T, e *env, user domain.UserID, name string, expires time.Time) {
	t.Helper()
	_, err := e.Store.Stores().Tokens.Create(context.Background(), domain.Token{
		UserID: user, Kind: domain.TokenPasswordReset, Hash: domain.HashToken(name),
		ExpiresAt: expires, CreatedAt: e.Clock.Now().Add(-48 * time.Hour),
	})
	require.NoError(t, err)
}

// seedSession stores a session that expires at expires.
func seedSession(t *testing.T, e *env, user domain.UserID, name string, expires time.Time) domain.SessionID {
	t.Helper()
	created := e.Clock.Now().Add(-48 * time.Hour)
	s, err := e.Store.Stores().Sessions.Create(context.Background(), domain.Session{
		UserID: user, TokenHash: domain.HashToken(name), CreatedAt: created, LastUsedAt: created, ExpiresAt: expires,
	})
	require.NoError(t, err)
	return s.ID
}

// tokenStored reports whether the token called name is still stored,
// expired or not: it looks it up at an instant before any seeded expiry.
func tokenStored(t *testing.T, e *env, name string) bool {
	t.Helper()
	_, err := e.Store.Stores().Tokens.Find(context.Background(), domain.TokenPasswordReset,
		domain.HashToken(name), e.Clock.Now().Add(-24*time.Hour))
	if errors.Is(err, domain.ErrNotFound) {
		return false
	}
	require.NoError(t, err)
	return true
}

// sessionStored reports whether the session is still stored.
func sessionStored(t *testing.T, e *env, id domain.SessionID) bool {
	t.Helper()
	_, err := e.Store.Stores().Sessions.ByID(context.Background(), id)
	if errors.Is(err, domain.ErrNotFound) {
		return false
	}
	require.NoError(t, err)
	return true
}

// hitAt counts one event for key at now in windows of window.
func hitAt(t *testing.T, e *env, key string, window time.Duration, now time.Time) int {
	t.Helper()
	count, _, err := e.Store.Standalone().RateLimits.Hit(context.Background(), key, window, now)
	require.NoError(t, err)
	return count
}

func TestPruneDeletesExpiredRowsAndKeepsLiveOnes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := e.Clock.Now()
	user := seedUser(t, e)

	seedToken(t, e, user, "expired-long-ago", now.Add(-time.Hour))
	seedToken(t, e, user, "expired", now.Add(-time.Minute))
	seedToken(t, e, user, "expires-now", now)
	seedToken(t, e, user, "live", now.Add(time.Microsecond))
	expiredSessions := []domain.SessionID{
		seedSession(t, e, user, "session-expired", now.Add(-time.Hour)),
		seedSession(t, e, user, "session-expires-now", now),
	}
	liveSession := seedSession(t, e, user, "session-live", now.Add(time.Hour))
	hitAt(t, e, "ended", time.Minute, now.Add(-2*time.Minute))  // ended a minute ago
	hitAt(t, e, "ends-now", time.Minute, now.Add(-time.Minute)) // ends at now
	hitAt(t, e, "running", time.Hour, now.Add(-time.Minute))

	r, err := e.Maintenance.Prune(ctx)
	require.NoError(t, err)
	assert.Equal(t, app.PruneReport{Deleted: deleted(3, 2, 2)}, r)

	for _, name := range []string{"expired-long-ago", "expired", "expires-now"} {
		assert.False(t, tokenStored(t, e, name), "expired token %s was deleted", name)
	}
	assert.True(t, tokenStored(t, e, "live"), "the live token was kept")
	for _, id := range expiredSessions {
		assert.False(t, sessionStored(t, e, id), "expired session %s was deleted", id)
	}
	assert.True(t, sessionStored(t, e, liveSession), "the live session was kept")

	r, err = e.Maintenance.Prune(ctx)
	require.NoError(t, err)
	assert.Equal(t, app.PruneReport{Deleted: deleted(0, 0, 0)}, r, "nothing expired is left")

	// A hit within a deleted window starts over at 1; one within a kept
	// window counts on.
	assert.Equal(t, 1, hitAt(t, e, "ended", time.Minute, now.Add(-90*time.Second)), "the ended window was deleted")
	assert.Equal(t, 1, hitAt(t, e, "ends-now", time.Minute, now.Add(-time.Second)), "the window ending at now was deleted")
	assert.Equal(t, 2, hitAt(t, e, "running", time.Hour, now), "the running window was kept")
}

func TestPruneDefaultsToBatchesOfAThousand(t *testing.T) {
	e := newSpiedEnv(t)
	r, err := e.Maintenance.Prune(context.Background())
	require.NoError(t, err)
	assert.Equal(t, app.PruneReport{Deleted: deleted(0, 0, 0)}, r)
	assert.Equal(t, []int{app.PruneBatch}, e.tokenSpy.calls())
	assert.Equal(t, []int{app.PruneBatch}, e.sessionSpy.calls())
	assert.Equal(t, 1000, app.PruneBatch, "README.md promises statements of 1,000 rows")
}

func TestPruneSkipsWhileAnotherReplicaHoldsTheLock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	user := seedUser(t, e)
	seedToken(t, e, user, "expired", e.Clock.Now().Add(-time.Minute))

	release, ok, err := e.Store.Standalone().Locker.TryLock(ctx, app.PruneLockName)
	require.NoError(t, err)
	require.True(t, ok)
	r, err := e.Maintenance.Prune(ctx)
	require.NoError(t, err)
	assert.Equal(t, app.PruneReport{Skipped: true}, r)
	assert.True(t, tokenStored(t, e, "expired"), "a skipped run deletes nothing")
	_, ok, err = e.Store.Standalone().Locker.TryLock(ctx, app.PruneLockName)
	require.NoError(t, err)
	assert.False(t, ok, "the skipped run left the other holder's lock alone")

	release()
	r, err = e.Maintenance.Prune(ctx)
	require.NoError(t, err)
	assert.Equal(t, app.PruneReport{Deleted: deleted(1, 0, 0)}, r, "with the lock free, the run prunes")
	assert.False(t, tokenStored(t, e, "expired"))

	release, ok, err = e.Store.Standalone().Locker.TryLock(ctx, app.PruneLockName)
	require.NoError(t, err)
	assert.True(t, ok, "the run released its lock")
	release()
}

func TestPruneStopsWhenContextEnds(t *testing.T) {
	e := newSpiedEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := e.Clock.Now()
	user := seedUser(t, e.env)
	for _, name := range []string{"t1", "t2", "t3"} {
		seedToken(t, e.env, user, name, now.Add(-time.Minute))
	}
	seedSession(t, e.env, user, "s1", now.Add(-time.Minute))
	e.tokenSpy.after = func(int) { cancel() } // the tokens are done; the shutdown comes in now

	r, err := e.Maintenance.Prune(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, app.PruneReport{Deleted: map[string]int{"tokens": 3, "sessions": 0}}, r, "the run reports what it finished")
	assert.Empty(t, e.sessionSpy.calls(), "no other kind after the context ended")

	e.tokenSpy.after = nil
	r, err = e.Maintenance.Prune(context.Background())
	require.NoError(t, err)
	assert.Equal(t, app.PruneReport{Deleted: deleted(0, 1, 0)}, r, "the lock was released and the next run takes the rest")
}

func TestPruneFailureReleasesTheLockAndReportsProgress(t *testing.T) {
	e := newSpiedEnv(t)
	now := e.Clock.Now()
	user := seedUser(t, e.env)
	seedToken(t, e.env, user, "t1", now.Add(-time.Minute))
	seedSession(t, e.env, user, "s1", now.Add(-time.Minute))
	errDown := errors.New("database is down")
	e.sessionSpy.before = func(int) error { return errDown }

	r, err := e.Maintenance.Prune(context.Background())
	require.ErrorIs(t, err, errDown)
	assert.Equal(t, app.PruneReport{Deleted: map[string]int{"tokens": 1, "sessions": 0}}, r)

	e.sessionSpy.before = nil
	r, err = e.Maintenance.Prune(context.Background())
	require.NoError(t, err)
	assert.Equal(t, app.PruneReport{Deleted: deleted(0, 1, 0)}, r, "the lock was released")
}

func TestPruneLogsOneLinePerRun(t *testing.T) {
	e := newSpiedEnv(t)
	user := seedUser(t, e.env)
	seedToken(t, e.env, user, "t1", e.Clock.Now().Add(-time.Minute))

	_, err := e.Maintenance.Prune(context.Background())
	require.NoError(t, err)
	release, ok, err := e.Store.Standalone().Locker.TryLock(context.Background(), app.PruneLockName)
	require.NoError(t, err)
	require.True(t, ok)
	_, err = e.Maintenance.Prune(context.Background())
	require.NoError(t, err)
	release()

	lines := strings.Split(strings.TrimSpace(e.log.String()), "\n")
	require.Len(t, lines, 2, "one line per run: %s", e.log)
	var pruned, skipped map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &pruned))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &skipped))
	assert.Equal(t, "INFO", pruned["level"])
	assert.Equal(t, "pruned expired rows", pruned["msg"])
	assert.EqualValues(t, 1, pruned["tokens"])
	assert.EqualValues(t, 0, pruned["sessions"])
	assert.EqualValues(t, 0, pruned["rate_limits"])
	assert.Equal(t, "INFO", skipped["level"])
	assert.Contains(t, skipped["msg"], "skipped")
}
