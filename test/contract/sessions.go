package contract

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// RunSessionStore runs the SessionStore suite against the stores newSubject
// makes.
func RunSessionStore(t *testing.T, newSubject NewSubject) {
	cases := map[string]func(t *testing.T, s domain.Stores){
		"CreateThenRead":                sessionCreateThenRead,
		"NotFound":                      sessionNotFound,
		"UnknownUserRejected":           sessionUnknownUserRejected,
		"RotateReplacesTheToken":        sessionRotateReplacesTheToken,
		"RotatedHashesStayKnown":        sessionRotatedHashesStayKnown,
		"RotateOnceUnderConcurrency":    sessionRotateOnceUnderConcurrency,
		"RevokedSessionDoesNotRotate":   sessionRevokedDoesNotRotate,
		"ExpiredSessionDoesNotRotate":   sessionExpiredDoesNotRotate,
		"RevokeKeepsFirstRevocation":    sessionRevokeKeepsFirstRevocation,
		"ListActive":                    sessionListActive,
		"RevokeAllForUserExceptCurrent": sessionRevokeAllForUser,
		"DeleteExpiredInBatches":        sessionDeleteExpiredInBatches,
		"MethodsRoundTrip":              sessionMethodsRoundTrip,
		"ZeroMethodRejected":            sessionZeroMethodRejected,
		"LongUserAgentClipped":          sessionLongUserAgentClipped,
		"RetryWithinTheGrace":           sessionRetryWithinTheGrace,
		"RetryEndsWithTheNextRotation":  sessionRetryEndsWithTheNextRotation,
		"RetryOfARevokedSession":        sessionRetryOfARevokedSession,
		"ForgetExpiredRetries":          sessionForgetExpiredRetries,
		"MaxAgeCutsTheExpiry":           sessionMaxAgeCutsTheExpiry,
		"AddMethod":                     sessionAddMethod,
		"AddMethodNotFound":             sessionAddMethodNotFound,
		"AddZeroMethodRejected":         sessionAddZeroMethodRejected,
		"AddMethodUnderConcurrency":     sessionAddMethodUnderConcurrency,
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, newSubject(t).Stores)
		})
	}
}

func sessionCreateThenRead(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	created := createSession(t, s, u.ID, hashOf("refresh"), t0.Add(720*time.Hour))

	for name, get := range map[string]func() (domain.Session, error){
		"ByID":        func() (domain.Session, error) { return s.Sessions.ByID(ctx, created.ID) },
		"ByTokenHash": func() (domain.Session, error) { return s.Sessions.ByTokenHash(ctx, hashOf("refresh")) },
	} {
		got, err := get()
		require.NoError(t, err, name)
		assert.Equal(t, created.ID, got.ID, name)
		assert.Equal(t, u.ID, got.UserID, name)
		assert.Equal(t, hashOf("refresh"), got.TokenHash, name)
		assert.Equal(t, "contract-test/1.0", got.UserAgent, name)
		assert.Equal(t, "192.0.2.7", got.IP, name)
		requireSameTime(t, t0, got.CreatedAt, name+" CreatedAt")
		requireSameTime(t, t0, got.LastUsedAt, name+" LastUsedAt")
		requireSameTime(t, t0.Add(720*time.Hour), got.ExpiresAt, name+" ExpiresAt")
		assert.True(t, got.RevokedAt.IsZero(), name+" is not revoked")
		assert.True(t, got.Active(t0), name+" is active")
	}
}

func sessionNotFound(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	createSession(t, s, u.ID, hashOf("exists"), t0.Add(time.Hour))

	for _, id := range []domain.SessionID{"0190d6a4-8e2b-7c3d-9f00-000000000000", "not-an-id", ""} {
		_, err := s.Sessions.ByID(ctx, id)
		require.ErrorIs(t, err, domain.ErrNotFound, "ByID(%q)", id)
		require.ErrorIs(t, s.Sessions.Revoke(ctx, id, t0), domain.ErrNotFound, "Revoke(%q)", id)
	}
	_, err := s.Sessions.ByTokenHash(ctx, hashOf("unknown"))
	require.ErrorIs(t, err, domain.ErrNotFound)
	_, err = s.Sessions.ByRotatedHash(ctx, hashOf("exists"))
	require.ErrorIs(t, err, domain.ErrNotFound, "a current hash is not a rotated one")
	_, _, err = s.Sessions.Rotate(ctx, domain.Rotation{
		PresentedHash: hashOf("unknown"), NextHash: hashOf("next"), Now: t0, ExpiresAt: t0.Add(time.Hour),
	})
	require.ErrorIs(t, err, domain.ErrNotFound)
	list, err := s.Sessions.ListActive(ctx, "0190d6a4-8e2b-7c3d-9f00-000000000000", t0)
	require.NoError(t, err)
	assert.Empty(t, list)
}

func sessionUnknownUserRejected(t *testing.T, s domain.Stores) {
	_, err := s.Sessions.Create(context.Background(), domain.Session{
		UserID: "0190d6a4-8e2b-7c3d-9f00-000000000000", TokenHash: hashOf("orphan"),
		CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour),
	})
	require.ErrorIs(t, err, domain.ErrNotFound)
}

func sessionRotateReplacesTheToken(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	sess := createSession(t, s, u.ID, hashOf("gen-1"), t0.Add(time.Hour))
	later := t0.Add(10 * time.Minute)

	rotated, owner, err := s.Sessions.Rotate(ctx, domain.Rotation{
		PresentedHash: hashOf("gen-1"), NextHash: hashOf("gen-2"), Now: later, ExpiresAt: later.Add(time.Hour),
	})
	require.NoError(t, err)
	assert.Equal(t, sess.ID, rotated.ID)
	assert.Equal(t, hashOf("gen-2"), rotated.TokenHash)
	requireSameTime(t, later, rotated.LastUsedAt, "LastUsedAt")
	requireSameTime(t, later.Add(time.Hour), rotated.ExpiresAt, "ExpiresAt")
	requireSameTime(t, t0, rotated.CreatedAt, "CreatedAt")
	assert.Equal(t, u, owner, "the session's user comes with it")

	got, err := s.Sessions.ByTokenHash(ctx, hashOf("gen-2"))
	require.NoError(t, err)
	assert.Equal(t, sess.ID, got.ID)
	requireSameTime(t, later, got.LastUsedAt, "stored LastUsedAt")
	_, err = s.Sessions.ByTokenHash(ctx, hashOf("gen-1"))
	require.ErrorIs(t, err, domain.ErrNotFound, "the old hash is no longer current")

	_, _, err = s.Sessions.Rotate(ctx, domain.Rotation{
		PresentedHash: hashOf("gen-1"), NextHash: hashOf("gen-x"), Now: later, ExpiresAt: later.Add(time.Hour),
	})
	require.ErrorIs(t, err, domain.ErrNotFound, "a rotated-away hash cannot rotate again")
}

func sessionRotatedHashesStayKnown(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	sess := createSession(t, s, u.ID, hashOf("chain-0"), t0.Add(time.Hour))
	other := createSession(t, s, u.ID, hashOf("other-0"), t0.Add(time.Hour))

	for i := range 3 {
		_, _, err := s.Sessions.Rotate(ctx, domain.Rotation{
			PresentedHash: hashOf(fmt.Sprint("chain-", i)), NextHash: hashOf(fmt.Sprint("chain-", i+1)),
			Now: t0, ExpiresAt: t0.Add(time.Hour),
		})
		require.NoError(t, err)
	}
	for i := range 3 {
		got, err := s.Sessions.ByRotatedHash(ctx, hashOf(fmt.Sprint("chain-", i)))
		require.NoError(t, err, "every ancestor hash is known, not just the last one (chain-%d)", i)
		assert.Equal(t, sess.ID, got.ID)
	}
	_, err := s.Sessions.ByRotatedHash(ctx, hashOf("chain-3"))
	require.ErrorIs(t, err, domain.ErrNotFound, "the current hash has not been rotated away")

	// Reuse detection: revoking the family through an ancestor leaves the
	// user's other sessions alone.
	family, err := s.Sessions.ByRotatedHash(ctx, hashOf("chain-0"))
	require.NoError(t, err)
	require.NoError(t, s.Sessions.Revoke(ctx, family.ID, t0))
	_, _, err = s.Sessions.Rotate(ctx, domain.Rotation{
		PresentedHash: hashOf("chain-3"), NextHash: hashOf("chain-4"), Now: t0, ExpiresAt: t0.Add(time.Hour),
	})
	require.ErrorIs(t, err, domain.ErrNotFound, "the newest descendant dies with its family")
	_, _, err = s.Sessions.Rotate(ctx, domain.Rotation{
		PresentedHash: hashOf("other-0"), NextHash: hashOf("other-1"), Now: t0, ExpiresAt: t0.Add(time.Hour),
	})
	require.NoError(t, err, "another session of the same user still rotates")
	assert.NotEqual(t, other.ID, family.ID)
}

func sessionRotateOnceUnderConcurrency(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	sess := createSession(t, s, u.ID, hashOf("contested"), t0.Add(time.Hour))

	errs := race(concurrency, func(i int) error {
		_, _, err := s.Sessions.Rotate(ctx, domain.Rotation{
			PresentedHash: hashOf("contested"), NextHash: hashOf(fmt.Sprint("successor-", i)),
			Now: t0, ExpiresAt: t0.Add(time.Hour),
		})
		return err
	})
	won := winners(t, errs, domain.ErrNotFound)
	require.Len(t, won, 1, "exactly one rotation wins")

	got, err := s.Sessions.ByID(ctx, sess.ID)
	require.NoError(t, err)
	assert.Equal(t, hashOf(fmt.Sprint("successor-", won[0])), got.TokenHash, "the winner's successor is current")
	family, err := s.Sessions.ByRotatedHash(ctx, hashOf("contested"))
	require.NoError(t, err)
	assert.Equal(t, sess.ID, family.ID)
}

func sessionRevokedDoesNotRotate(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	sess := createSession(t, s, u.ID, hashOf("revoked"), t0.Add(time.Hour))
	require.NoError(t, s.Sessions.Revoke(ctx, sess.ID, t0))

	_, _, err := s.Sessions.Rotate(ctx, domain.Rotation{
		PresentedHash: hashOf("revoked"), NextHash: hashOf("next"), Now: t0, ExpiresAt: t0.Add(time.Hour),
	})
	require.ErrorIs(t, err, domain.ErrNotFound)
	got, err := s.Sessions.ByTokenHash(ctx, hashOf("revoked"))
	require.NoError(t, err, "a revoked session is still found by its hash")
	assert.False(t, got.Active(t0))
}

func sessionExpiredDoesNotRotate(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	expires := t0.Add(time.Hour)
	createSession(t, s, u.ID, hashOf("at-expiry"), expires)
	createSession(t, s, u.ID, hashOf("just-before"), expires)

	_, _, err := s.Sessions.Rotate(ctx, domain.Rotation{
		PresentedHash: hashOf("at-expiry"), NextHash: hashOf("a2"), Now: expires, ExpiresAt: expires.Add(time.Hour),
	})
	require.ErrorIs(t, err, domain.ErrNotFound, "a session is expired at its expiry instant")
	_, _, err = s.Sessions.Rotate(ctx, domain.Rotation{
		PresentedHash: hashOf("just-before"), NextHash: hashOf("b2"), Now: expires.Add(-time.Microsecond), ExpiresAt: expires.Add(time.Hour),
	})
	require.NoError(t, err, "a session is live until its expiry instant")
}

func sessionRevokeKeepsFirstRevocation(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	sess := createSession(t, s, u.ID, hashOf("refresh"), t0.Add(time.Hour))

	require.NoError(t, s.Sessions.Revoke(ctx, sess.ID, t0.Add(time.Minute)))
	require.NoError(t, s.Sessions.Revoke(ctx, sess.ID, t0.Add(2*time.Minute)))

	got, err := s.Sessions.ByID(ctx, sess.ID)
	require.NoError(t, err)
	requireSameTime(t, t0.Add(time.Minute), got.RevokedAt, "RevokedAt")
}

func sessionListActive(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	other := createUser(t, s)
	older := createSession(t, s, u.ID, hashOf("older"), t0.Add(time.Hour))
	newer := createSession(t, s, u.ID, hashOf("newer"), t0.Add(time.Hour))
	revoked := createSession(t, s, u.ID, hashOf("revoked"), t0.Add(time.Hour))
	createSession(t, s, u.ID, hashOf("expired"), t0.Add(time.Minute))
	createSession(t, s, other.ID, hashOf("someone-else"), t0.Add(time.Hour))
	require.NoError(t, s.Sessions.Revoke(ctx, revoked.ID, t0))
	// Using "newer" most recently puts it first.
	_, _, err := s.Sessions.Rotate(ctx, domain.Rotation{
		PresentedHash: hashOf("newer"), NextHash: hashOf("newer-2"), Now: t0.Add(5 * time.Minute), ExpiresAt: t0.Add(time.Hour),
	})
	require.NoError(t, err)

	list, err := s.Sessions.ListActive(ctx, u.ID, t0.Add(30*time.Minute))
	require.NoError(t, err)
	var ids []domain.SessionID
	for _, sess := range list {
		ids = append(ids, sess.ID)
		assert.Equal(t, u.ID, sess.UserID)
	}
	assert.Equal(t, []domain.SessionID{newer.ID, older.ID}, ids)
}

func sessionRevokeAllForUser(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	other := createUser(t, s)
	current := createSession(t, s, u.ID, hashOf("current"), t0.Add(time.Hour))
	createSession(t, s, u.ID, hashOf("laptop"), t0.Add(time.Hour))
	createSession(t, s, u.ID, hashOf("phone"), t0.Add(time.Hour))
	already := createSession(t, s, u.ID, hashOf("already"), t0.Add(time.Hour))
	require.NoError(t, s.Sessions.Revoke(ctx, already.ID, t0))
	theirs := createSession(t, s, other.ID, hashOf("theirs"), t0.Add(time.Hour))

	n, err := s.Sessions.RevokeAllForUser(ctx, u.ID, current.ID, t0.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 2, n, "only unrevoked sessions other than the current one count")

	list, err := s.Sessions.ListActive(ctx, u.ID, t0.Add(2*time.Minute))
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, current.ID, list[0].ID)
	got, err := s.Sessions.ByID(ctx, theirs.ID)
	require.NoError(t, err)
	assert.True(t, got.Active(t0.Add(2*time.Minute)), "other users' sessions survive")
	got, err = s.Sessions.ByID(ctx, already.ID)
	require.NoError(t, err)
	requireSameTime(t, t0, got.RevokedAt, "an earlier revocation keeps its time")

	n, err = s.Sessions.RevokeAllForUser(ctx, u.ID, "", t0.Add(3*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "with no exception every session goes")
	list, err = s.Sessions.ListActive(ctx, u.ID, t0.Add(4*time.Minute))
	require.NoError(t, err)
	assert.Empty(t, list)
}

func sessionDeleteExpiredInBatches(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	for _, name := range []string{"old-1", "old-2", "old-3"} {
		createSession(t, s, u.ID, hashOf(name), t0.Add(-time.Hour))
	}
	rotatedAway := createSession(t, s, u.ID, hashOf("old-rotated-1"), t0.Add(-2*time.Hour))
	_, _, err := s.Sessions.Rotate(ctx, domain.Rotation{
		PresentedHash: hashOf("old-rotated-1"), NextHash: hashOf("old-rotated-2"),
		Now: t0.Add(-3 * time.Hour), ExpiresAt: t0,
	})
	require.NoError(t, err)
	live := createSession(t, s, u.ID, hashOf("live"), t0.Add(time.Minute))

	n, err := s.Sessions.DeleteExpired(ctx, t0, 0)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "a limit of zero deletes nothing")

	var counts []int
	for {
		n, err := s.Sessions.DeleteExpired(ctx, t0, 3)
		require.NoError(t, err)
		counts = append(counts, n)
		if n < 3 {
			break
		}
	}
	assert.Equal(t, []int{3, 1}, counts, "four expired sessions go in batches of at most three")

	_, err = s.Sessions.ByID(ctx, rotatedAway.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)
	_, err = s.Sessions.ByRotatedHash(ctx, hashOf("old-rotated-1"))
	require.ErrorIs(t, err, domain.ErrNotFound, "rotated hashes go with their session")
	_, err = s.Sessions.ByID(ctx, live.ID)
	require.NoError(t, err, "a live session survives pruning")
}

// sessionMethodsRoundTrip stores a password session and an anonymous one
// (no methods) and reads each back every way a session is read: every read
// returns the methods as they were written, none as nil.
func sessionMethodsRoundTrip(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	for name, methods := range map[string][]domain.AuthMethod{
		"pwd":  {domain.AuthPassword},
		"none": nil,
	} {
		written := slices.Clone(methods)
		created, err := s.Sessions.Create(ctx, domain.Session{
			UserID: u.ID, TokenHash: hashOf(name + "-1"), Methods: written,
			CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour),
		})
		require.NoError(t, err, name)
		assert.Equal(t, methods, created.Methods, "%s: Create", name)
		if len(written) > 0 {
			written[0] = domain.AuthMethod{} // the store keeps its own copy
		}

		got, err := s.Sessions.ByID(ctx, created.ID)
		require.NoError(t, err, name)
		assert.Equal(t, methods, got.Methods, "%s: ByID", name)
		if len(got.Methods) > 0 {
			got.Methods[0] = domain.AuthMethod{} // nor does it share it with readers
		}
		got, err = s.Sessions.ByTokenHash(ctx, hashOf(name+"-1"))
		require.NoError(t, err, name)
		assert.Equal(t, methods, got.Methods, "%s: ByTokenHash", name)

		rotated, _, err := s.Sessions.Rotate(ctx, domain.Rotation{
			PresentedHash: hashOf(name + "-1"), NextHash: hashOf(name + "-2"), Now: t0, ExpiresAt: t0.Add(2 * time.Hour),
		})
		require.NoError(t, err, name)
		assert.Equal(t, created.ID, rotated.ID, name)
		assert.Equal(t, methods, rotated.Methods, "%s: Rotate", name)
		got, err = s.Sessions.ByRotatedHash(ctx, hashOf(name+"-1"))
		require.NoError(t, err, name)
		assert.Equal(t, methods, got.Methods, "%s: ByRotatedHash", name)
	}

	active, err := s.Sessions.ListActive(ctx, u.ID, t0)
	require.NoError(t, err)
	byHash := map[string][]domain.AuthMethod{}
	for _, sess := range active {
		byHash[sess.TokenHash] = sess.Methods
	}
	assert.Equal(t, map[string][]domain.AuthMethod{
		hashOf("pwd-2"):  {domain.AuthPassword},
		hashOf("none-2"): nil,
	}, byHash, "ListActive")
}

// sessionZeroMethodRejected checks that the zero AuthMethod, which names
// nothing, is refused rather than stored as a method no read understands.
func sessionZeroMethodRejected(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	_, err := s.Sessions.Create(ctx, domain.Session{
		UserID: u.ID, TokenHash: hashOf("zero"), Methods: []domain.AuthMethod{domain.AuthPassword, {}},
		CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour),
	})
	require.ErrorIs(t, err, domain.ErrInvalidAuthMethod)
	_, err = s.Sessions.ByTokenHash(ctx, hashOf("zero"))
	require.ErrorIs(t, err, domain.ErrNotFound, "the refused session was not stored")
}

// sessionLongUserAgentClipped: a user agent past domain.MaxUserAgent runes
// is kept cut to that many, on a rune boundary, by every store.
func sessionLongUserAgentClipped(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	long := strings.Repeat("é", domain.MaxUserAgent) + "-and-more"
	created, err := s.Sessions.Create(ctx, domain.Session{
		UserID: u.ID, TokenHash: hashOf("long-agent"), UserAgent: long,
		CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour),
	})
	require.NoError(t, err)
	want := strings.Repeat("é", domain.MaxUserAgent)
	assert.Equal(t, want, created.UserAgent)
	got, err := s.Sessions.ByID(ctx, created.ID)
	require.NoError(t, err)
	assert.Equal(t, want, got.UserAgent)
}

// rotateWithRetry rotates the session whose current hash is hashOf(from) to
// hashOf(to) at now, keeping secret as its retry secret for grace.
func rotateWithRetry(t *testing.T, s domain.Stores, from, to string, secret []byte, now time.Time, grace time.Duration) domain.Session {
	t.Helper()
	rotated, _, err := s.Sessions.Rotate(context.Background(), domain.Rotation{
		PresentedHash: hashOf(from), NextHash: hashOf(to), Now: now, ExpiresAt: now.Add(time.Hour),
		Retry: secret, RetryUntil: now.Add(grace),
	})
	require.NoError(t, err)
	return rotated
}

// sessionRetryWithinTheGrace: a rotation's retry secret is handed back for
// the hash it spent, with its session and user, until the grace ends, as
// often as it is asked for, and not for any other hash.
func sessionRetryWithinTheGrace(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	createSession(t, s, u.ID, hashOf("retry-0"), t0.Add(time.Hour))
	rotated := rotateWithRetry(t, s, "retry-0", "retry-1", []byte("sealed child"), t0, 10*time.Second)

	for range 2 {
		sess, owner, secret, err := s.Sessions.Retry(ctx, hashOf("retry-0"), t0.Add(5*time.Second))
		require.NoError(t, err)
		assert.Equal(t, rotated.ID, sess.ID)
		assert.Equal(t, hashOf("retry-1"), sess.TokenHash, "the session as the rotation left it")
		assert.Equal(t, u, owner)
		assert.Equal(t, []byte("sealed child"), secret)
	}
	_, _, _, err := s.Sessions.Retry(ctx, hashOf("retry-0"), t0.Add(10*time.Second))
	require.ErrorIs(t, err, domain.ErrNotFound, "the grace ends at RetryUntil")
	_, _, _, err = s.Sessions.Retry(ctx, hashOf("retry-1"), t0.Add(time.Second))
	require.ErrorIs(t, err, domain.ErrNotFound, "the current hash has spent nothing")
	_, _, _, err = s.Sessions.Retry(ctx, hashOf("unknown"), t0.Add(time.Second))
	require.ErrorIs(t, err, domain.ErrNotFound)
}

// sessionRetryEndsWithTheNextRotation: once the token a rotation issued is
// rotated in turn, the earlier retry secret is gone, whether or not the
// new rotation keeps one of its own.
func sessionRetryEndsWithTheNextRotation(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	createSession(t, s, u.ID, hashOf("next-0"), t0.Add(time.Hour))
	rotateWithRetry(t, s, "next-0", "next-1", []byte("first"), t0, time.Minute)
	rotateWithRetry(t, s, "next-1", "next-2", []byte("second"), t0.Add(time.Second), time.Minute)

	_, _, _, err := s.Sessions.Retry(ctx, hashOf("next-0"), t0.Add(2*time.Second))
	require.ErrorIs(t, err, domain.ErrNotFound, "an ancestor two rotations back has no retry")
	_, _, secret, err := s.Sessions.Retry(ctx, hashOf("next-1"), t0.Add(2*time.Second))
	require.NoError(t, err)
	assert.Equal(t, []byte("second"), secret)

	_, _, err = s.Sessions.Rotate(ctx, domain.Rotation{
		PresentedHash: hashOf("next-2"), NextHash: hashOf("next-3"), Now: t0.Add(3 * time.Second), ExpiresAt: t0.Add(time.Hour),
	})
	require.NoError(t, err)
	_, _, _, err = s.Sessions.Retry(ctx, hashOf("next-1"), t0.Add(4*time.Second))
	require.ErrorIs(t, err, domain.ErrNotFound, "a rotation without a retry secret removes the last one")
	_, _, _, err = s.Sessions.Retry(ctx, hashOf("next-2"), t0.Add(4*time.Second))
	require.ErrorIs(t, err, domain.ErrNotFound)
}

// sessionRetryOfARevokedSession: a revoked session answers no retry.
func sessionRetryOfARevokedSession(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	sess := createSession(t, s, u.ID, hashOf("revoked-0"), t0.Add(time.Hour))
	rotateWithRetry(t, s, "revoked-0", "revoked-1", []byte("sealed"), t0, time.Minute)
	require.NoError(t, s.Sessions.Revoke(ctx, sess.ID, t0.Add(time.Second)))
	_, _, _, err := s.Sessions.Retry(ctx, hashOf("revoked-0"), t0.Add(2*time.Second))
	require.ErrorIs(t, err, domain.ErrNotFound)
}

// sessionForgetExpiredRetries: the secrets whose grace ended go, at most
// limit at a time; live ones stay.
func sessionForgetExpiredRetries(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	for _, name := range []string{"a", "b", "live"} {
		createSession(t, s, u.ID, hashOf("forget-"+name), t0.Add(time.Hour))
	}
	rotateWithRetry(t, s, "forget-a", "forget-a1", []byte("a"), t0, time.Second)
	rotateWithRetry(t, s, "forget-b", "forget-b1", []byte("b"), t0, 2*time.Second)
	rotateWithRetry(t, s, "forget-live", "forget-live1", []byte("live"), t0, time.Minute)

	n, err := s.Sessions.ForgetExpiredRetries(ctx, t0.Add(2*time.Second), 1)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "at most limit")
	n, err = s.Sessions.ForgetExpiredRetries(ctx, t0.Add(2*time.Second), 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the other ended one")
	n, err = s.Sessions.ForgetExpiredRetries(ctx, t0.Add(2*time.Second), 10)
	require.NoError(t, err)
	assert.Zero(t, n)

	_, _, secret, err := s.Sessions.Retry(ctx, hashOf("forget-live"), t0.Add(30*time.Second))
	require.NoError(t, err, "a live secret stays")
	assert.Equal(t, []byte("live"), secret)
}

// sessionMaxAgeCutsTheExpiry: a rotation never extends a session past its
// CreatedAt plus the rotation's MaxAge; within it, the expiry it asks for
// stands.
func sessionMaxAgeCutsTheExpiry(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	createSession(t, s, u.ID, hashOf("aged-0"), t0.Add(time.Hour))
	later := t0.Add(30 * time.Minute)

	rotated, _, err := s.Sessions.Rotate(ctx, domain.Rotation{
		PresentedHash: hashOf("aged-0"), NextHash: hashOf("aged-1"), Now: later,
		ExpiresAt: later.Add(time.Hour), MaxAge: 2 * time.Hour,
	})
	require.NoError(t, err)
	requireSameTime(t, later.Add(time.Hour), rotated.ExpiresAt, "within the max age the asked expiry stands")

	rotated, _, err = s.Sessions.Rotate(ctx, domain.Rotation{
		PresentedHash: hashOf("aged-1"), NextHash: hashOf("aged-2"), Now: later,
		ExpiresAt: later.Add(24 * time.Hour), MaxAge: 2 * time.Hour,
	})
	require.NoError(t, err)
	requireSameTime(t, t0.Add(2*time.Hour), rotated.ExpiresAt, "cut to CreatedAt + MaxAge")
	got, err := s.Sessions.ByID(ctx, rotated.ID)
	require.NoError(t, err)
	requireSameTime(t, t0.Add(2*time.Hour), got.ExpiresAt, "as stored")

	// A session whose expiry was set before the max age was (a deployment
	// that sets it later) does not rotate once past it.
	createSession(t, s, u.ID, hashOf("old-0"), t0.Add(720*time.Hour))
	_, _, err = s.Sessions.Rotate(ctx, domain.Rotation{
		PresentedHash: hashOf("old-0"), NextHash: hashOf("old-1"), Now: t0.Add(3 * time.Hour),
		ExpiresAt: t0.Add(723 * time.Hour), MaxAge: 2 * time.Hour,
	})
	require.ErrorIs(t, err, domain.ErrNotFound, "past its absolute lifetime a session is done")
}

// createSessionWith stores a session of user with methods whose current
// refresh-token hash is hashOf(name).
func createSessionWith(t *testing.T, s domain.Stores, user domain.UserID, name string, methods ...domain.AuthMethod) domain.Session {
	t.Helper()
	sess, err := s.Sessions.Create(context.Background(), domain.Session{
		UserID: user, TokenHash: hashOf(name), Methods: methods,
		CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour),
	})
	require.NoError(t, err)
	return sess
}

// requireMethods fails unless the session with id has methods.
func requireMethods(t *testing.T, s domain.Stores, id domain.SessionID, want []domain.AuthMethod, msg string) {
	t.Helper()
	got, err := s.Sessions.ByID(context.Background(), id)
	require.NoError(t, err, msg)
	require.Equal(t, want, got.Methods, msg)
}

// sessionAddMethod: a method is added at the end, once; adding one the
// session holds changes nothing; other sessions are left alone.
func sessionAddMethod(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	sess := createSessionWith(t, s, u.ID, "step-up", domain.AuthPassword)
	other := createSessionWith(t, s, u.ID, "bystander", domain.AuthPassword)
	anon := createSessionWith(t, s, u.ID, "anonymous")

	require.NoError(t, s.Sessions.AddMethod(ctx, sess.ID, domain.AuthOTP))
	requireMethods(t, s, sess.ID, []domain.AuthMethod{domain.AuthPassword, domain.AuthOTP}, "added at the end")
	require.NoError(t, s.Sessions.AddMethod(ctx, sess.ID, domain.AuthOTP))
	require.NoError(t, s.Sessions.AddMethod(ctx, sess.ID, domain.AuthPassword))
	requireMethods(t, s, sess.ID, []domain.AuthMethod{domain.AuthPassword, domain.AuthOTP}, "a method held already is not added again")
	require.NoError(t, s.Sessions.AddMethod(ctx, sess.ID, domain.AuthRecoveryCode))
	requireMethods(t, s, sess.ID, []domain.AuthMethod{domain.AuthPassword, domain.AuthOTP, domain.AuthRecoveryCode}, "a third method")

	require.NoError(t, s.Sessions.AddMethod(ctx, anon.ID, domain.AuthOTP))
	requireMethods(t, s, anon.ID, []domain.AuthMethod{domain.AuthOTP}, "a session with no methods gets the one")
	requireMethods(t, s, other.ID, []domain.AuthMethod{domain.AuthPassword}, "other sessions are left alone")

	got, err := s.Sessions.ByTokenHash(ctx, hashOf("step-up"))
	require.NoError(t, err)
	assert.Equal(t, []domain.AuthMethod{domain.AuthPassword, domain.AuthOTP, domain.AuthRecoveryCode}, got.Methods, "ByTokenHash")
	requireSameTime(t, t0, got.LastUsedAt, "adding a method is no use of the session")
}

// sessionAddMethodNotFound: a missing or revoked session gets no method.
func sessionAddMethodNotFound(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	revoked := createSessionWith(t, s, u.ID, "revoked", domain.AuthPassword)
	require.NoError(t, s.Sessions.Revoke(ctx, revoked.ID, t0))

	err := s.Sessions.AddMethod(ctx, revoked.ID, domain.AuthOTP)
	require.ErrorIs(t, err, domain.ErrNotFound, "a revoked session")
	requireMethods(t, s, revoked.ID, []domain.AuthMethod{domain.AuthPassword}, "the revoked session is unchanged")
	for _, id := range []domain.SessionID{"0190d6a4-8e2b-7c3d-9f00-000000000000", "not-an-id", ""} {
		require.ErrorIs(t, s.Sessions.AddMethod(ctx, id, domain.AuthOTP), domain.ErrNotFound, "AddMethod(%q)", id)
	}
}

// sessionAddZeroMethodRejected: the zero AuthMethod names nothing and is
// refused.
func sessionAddZeroMethodRejected(t *testing.T, s domain.Stores) {
	u := createUser(t, s)
	sess := createSessionWith(t, s, u.ID, "zero-added", domain.AuthPassword)
	err := s.Sessions.AddMethod(context.Background(), sess.ID, domain.AuthMethod{})
	require.ErrorIs(t, err, domain.ErrInvalidAuthMethod)
	requireMethods(t, s, sess.ID, []domain.AuthMethod{domain.AuthPassword}, "nothing was added")
}

// sessionAddMethodUnderConcurrency adds two methods to one session from
// many goroutines at once: every call succeeds, and both methods land,
// once each, after the one the session started with.
func sessionAddMethodUnderConcurrency(t *testing.T, s domain.Stores) {
	u := createUser(t, s)
	sess := createSessionWith(t, s, u.ID, "contested-methods", domain.AuthPassword)
	added := []domain.AuthMethod{domain.AuthOTP, domain.AuthRecoveryCode}

	errs := race(concurrency, func(i int) error {
		return s.Sessions.AddMethod(context.Background(), sess.ID, added[i%2])
	})
	for i, err := range errs {
		require.NoError(t, err, "goroutine %d", i)
	}
	got, err := s.Sessions.ByID(context.Background(), sess.ID)
	require.NoError(t, err)
	require.Len(t, got.Methods, 3, "each method once, none lost: %v", got.Methods)
	assert.Equal(t, domain.AuthPassword, got.Methods[0], "the first method stays first")
	assert.ElementsMatch(t, added, got.Methods[1:])
}
