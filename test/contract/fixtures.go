package contract

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// t0 is the suites' reference instant. Stores never read the wall clock, so
// a fixed time keeps every case deterministic.
var t0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// concurrency is how many goroutines race for one token or one rotation.
const concurrency = 20

// emailSeq makes every generated email distinct within a test binary.
var emailSeq atomic.Int64

// newEmail returns an email no other case has used.
func newEmail() string {
	return fmt.Sprintf("user%d@example.com", emailSeq.Add(1))
}

// hashOf returns a valid token hash derived from name, so cases can refer to
// hashes by a readable name.
func hashOf(name string) string {
	return domain.HashToken(name)
}

// createUser stores a verified-or-not free user with a fresh email.
func createUser(t *testing.T, s domain.Stores) domain.User {
	t.Helper()
	u, err := s.Users.Create(context.Background(), domain.User{
		Email:        newEmail(),
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		Tier:         domain.TierFree,
		CreatedAt:    t0,
		UpdatedAt:    t0,
	})
	require.NoError(t, err)
	require.NotEmpty(t, u.ID)
	return u
}

// createToken stores a token of kind for user, expiring at expires.
func createToken(t *testing.T, s domain.Stores, user domain.UserID, kind domain.TokenKind, hash string, expires time.Time) domain.Token {
	t.Helper()
	tok, err := s.Tokens.Create(context.Background(), domain.Token{
		UserID: user, Kind: kind, Hash: hash, ExpiresAt: expires, CreatedAt: t0,
	})
	require.NoError(t, err)
	require.NotEmpty(t, tok.ID)
	return tok
}

// createSession stores a session of user whose current refresh-token hash is
// hash, expiring at expires.
func createSession(t *testing.T, s domain.Stores, user domain.UserID, hash string, expires time.Time) domain.Session {
	t.Helper()
	sess, err := s.Sessions.Create(context.Background(), domain.Session{
		UserID: user, TokenHash: hash, UserAgent: "contract-test/1.0", IP: "192.0.2.7",
		CreatedAt: t0, LastUsedAt: t0, ExpiresAt: expires,
	})
	require.NoError(t, err)
	require.NotEmpty(t, sess.ID)
	return sess
}

// race runs fn from n goroutines released at once and returns the errors in
// the order the goroutines were numbered.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

// winners returns the indexes of the nil errors and requires every other
// error to be want.
func winners(t *testing.T, errs []error, want error) []int {
	t.Helper()
	var won []int
	for i, err := range errs {
		if err == nil {
			won = append(won, i)
			continue
		}
		require.ErrorIs(t, err, want, "goroutine %d", i)
	}
	return won
}

// requireSameTime fails unless want and got are the same instant.
func requireSameTime(t *testing.T, want, got time.Time, field string) {
	t.Helper()
	require.Truef(t, want.Equal(got), "%s: want %s, got %s", field, want, got)
}
