package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/apptest"
)

// lostAnswer is what a store returns when the request's deadline passed
// or the connection broke after a statement was sent.
var lostAnswer = fmt.Errorf("entstore: rotate session: database unavailable: %w: %w", context.DeadlineExceeded, domain.ErrOutcomeUnknown)

// refused is what a store returns when the statement had no effect: it
// never reached the database, or the database rolled it back and said so.
var refused = fmt.Errorf("entstore: rotate session: database unavailable: canceling statement due to statement timeout: %w", domain.ErrUnavailable)

// faultySessions is a session store whose next faults Rotate calls fail
// with lostAnswer, as a database does at a stall or a crash: each first
// rotates when commit is set (the answer was lost after the commit), and
// is kept in pending when it is not, for the test to run late (the
// statement was still waiting in the database). A call on a context that
// has ended fails, as it does on a real database; the first fault ends
// cancel's context, as the request's deadline passing.
type faultySessions struct {
	domain.SessionStore
	commit bool
	fault  error // what a fault returns; nil: lostAnswer
	cancel context.CancelFunc

	mu      sync.Mutex
	faults  int
	calls   int
	pending []domain.Rotation
}

func (s *faultySessions) Rotate(ctx context.Context, r domain.Rotation) (domain.Session, domain.User, error) {
	if err := ctx.Err(); err != nil {
		return domain.Session{}, domain.User{}, fmt.Errorf("rotate on an ended context: %w", err)
	}
	s.mu.Lock()
	s.calls++
	fault := s.faults > 0
	if fault {
		s.faults--
		if !s.commit {
			s.pending = append(s.pending, r)
		}
	}
	s.mu.Unlock()
	if !fault {
		return s.SessionStore.Rotate(ctx, r)
	}
	if s.commit {
		_, _, _ = s.SessionStore.Rotate(ctx, r) // whatever it did, its answer is lost
	}
	if s.cancel != nil {
		s.cancel()
	}
	if s.fault != nil {
		return domain.Session{}, domain.User{}, s.fault
	}
	return domain.Session{}, domain.User{}, lostAnswer
}

// faultyEnv builds an env, with a retry grace when grace is set, whose
// session store is sessions over memstore's.
func faultyEnv(t *testing.T, sessions *faultySessions, grace bool) *env {
	return newEnv(t,
		apptest.WithPorts(func(p *app.Ports) {
			sessions.SessionStore = p.Stores.Sessions
			p.Stores.Sessions = sessions
		}),
		apptest.WithConfig(func(c *app.Config) {
			if grace {
				c.RefreshReuseGrace = retryGrace
			}
		}))
}

func TestARotationThatCommittedBeforeItsAnswerWasLostAnswersItsTokens(t *testing.T) {
	for _, grace := range []bool{false, true} {
		t.Run(fmt.Sprintf("grace=%v", grace), func(t *testing.T) {
			sessions := &faultySessions{commit: true}
			e := faultyEnv(t, sessions, grace)
			reg := e.register(t, "committed@example.com")
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			sessions.faults, sessions.cancel = 1, cancel

			tokens, err := e.Auth.Refresh(ctx, reg.RefreshToken)

			require.NoError(t, err, "the rotation committed: its tokens are the answer, not a 503")
			require.Error(t, ctx.Err(), "and were found after the request's context ended")
			current, err := e.Store.Stores().Sessions.ByTokenHash(t.Context(), domain.HashToken(tokens.RefreshToken))
			require.NoError(t, err, "the token answered is the session's current one")
			assert.Equal(t, e.Claims(t, tokens.AccessToken).SessionID, current.ID)
			next, err := e.Auth.Refresh(t.Context(), tokens.RefreshToken)
			require.NoError(t, err, "the session lives on")
			assert.NotEmpty(t, next.RefreshToken)
		})
	}
}

func TestARotationLostBeforeItCommittedIsSettledByRunningItAgain(t *testing.T) {
	sessions := &faultySessions{}
	e := faultyEnv(t, sessions, false)
	reg := e.register(t, "pending@example.com")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sessions.faults, sessions.cancel = 1, cancel

	tokens, err := e.Auth.Refresh(ctx, reg.RefreshToken)

	require.NoError(t, err, "settling ran the rotation again, and it rotated")
	assert.Equal(t, 2, sessions.calls)
	require.Len(t, sessions.pending, 1)
	// The first statement, still waiting in the database, runs late.
	_, _, err = sessions.SessionStore.Rotate(t.Context(), sessions.pending[0])
	require.ErrorIs(t, err, domain.ErrNotFound, "a late first run finds nothing left to rotate")
	_, err = e.Auth.Refresh(t.Context(), tokens.RefreshToken)
	require.NoError(t, err, "and the token answered still refreshes")
}

func TestARefreshThatCannotBeSettledIs503AndItsRetrySucceeds(t *testing.T) {
	for _, tt := range []struct {
		name          string
		commit, grace bool
	}{
		{"not rotated", false, false},
		{"not rotated, grace", false, true},
		{"rotated, grace", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sessions := &faultySessions{commit: tt.commit}
			e := faultyEnv(t, sessions, tt.grace)
			reg := e.register(t, "unsettled@example.com")
			sessions.faults = 2 // the first run and the one that settles it

			_, err := e.Auth.Refresh(t.Context(), reg.RefreshToken)

			require.ErrorIs(t, err, domain.ErrOutcomeUnknown, "the outcome is unknown: 503")
			assert.Equal(t, 2, sessions.calls, "after trying to settle it")
			tokens, err := e.Auth.Refresh(t.Context(), reg.RefreshToken)
			require.NoError(t, err, "the client's retry with the same token succeeds")
			_, err = e.Auth.Refresh(t.Context(), tokens.RefreshToken)
			require.NoError(t, err, "and the session lives")
		})
	}
}

func TestARefreshRefusedForGoodIsNotSettled(t *testing.T) {
	sessions := &faultySessions{}
	e := faultyEnv(t, sessions, false)
	reg := e.register(t, "refused@example.com")
	_, err := e.Auth.Refresh(t.Context(), reg.RefreshToken)
	require.NoError(t, err)

	_, err = e.Auth.Refresh(t.Context(), reg.RefreshToken)

	require.ErrorIs(t, err, domain.ErrRefreshTokenReused)
	assert.Equal(t, 2, sessions.calls, "one rotation each: a refusal is an answer, with nothing to settle")
	assert.False(t, errors.Is(err, domain.ErrUnavailable))
}

func TestARotationThatHadNoEffectIs503WithoutSettling(t *testing.T) {
	sessions := &faultySessions{fault: refused}
	e := faultyEnv(t, sessions, false)
	reg := e.register(t, "rolledback@example.com")
	sessions.faults = 1

	_, err := e.Auth.Refresh(t.Context(), reg.RefreshToken)

	require.ErrorIs(t, err, domain.ErrUnavailable, "503")
	assert.False(t, errors.Is(err, domain.ErrOutcomeUnknown))
	assert.Equal(t, 1, sessions.calls, "nothing to settle: the token is not spent")
	_, err = e.Auth.Refresh(t.Context(), reg.RefreshToken)
	require.NoError(t, err, "and the client's retry succeeds without any grace")
}
