package contract

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// RunTokenStore runs the TokenStore suite against the stores newSubject
// makes.
func RunTokenStore(t *testing.T, newSubject NewSubject) {
	cases := map[string]func(t *testing.T, s domain.Stores){
		"ConsumeReturnsTheToken":       tokenConsumeReturnsTheToken,
		"ConsumedOnlyOnce":             tokenConsumedOnlyOnce,
		"ConsumedOnceUnderConcurrency": tokenConsumedOnceUnderConcurrency,
		"KindsDoNotMix":                tokenKindsDoNotMix,
		"FindDoesNotConsume":           tokenFindDoesNotConsume,
		"ExpiredTokenIsNotConsumed":    tokenExpiredIsNotConsumed,
		"UnknownUserRejected":          tokenUnknownUserRejected,
		"InvalidKindRejected":          tokenInvalidKindRejected,
		"DeleteByUser":                 tokenDeleteByUser,
		"DeleteExpiredInBatches":       tokenDeleteExpiredInBatches,
		"MethodsRoundTrip":             tokenMethodsRoundTrip,
		"ZeroMethodRejected":           tokenZeroMethodRejected,
		"DataRoundTrip":                tokenDataRoundTrip,
		"OfNoUser":                     tokenOfNoUser,
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, newSubject(t).Stores)
		})
	}
}

func tokenConsumeReturnsTheToken(t *testing.T, s domain.Stores) {
	u := createUser(t, s)
	created := createToken(t, s, u.ID, domain.TokenEmailVerification, hashOf("verify-me"), t0.Add(24*time.Hour))

	got, err := s.Tokens.Consume(context.Background(), domain.TokenEmailVerification, hashOf("verify-me"), t0)
	require.NoError(t, err)
	assert.Equal(t, created.ID, got.ID)
	assert.Equal(t, u.ID, got.UserID)
	assert.Equal(t, domain.TokenEmailVerification, got.Kind)
	assert.Equal(t, hashOf("verify-me"), got.Hash)
	requireSameTime(t, t0.Add(24*time.Hour), got.ExpiresAt, "ExpiresAt")
	requireSameTime(t, t0, got.CreatedAt, "CreatedAt")
}

func tokenConsumedOnlyOnce(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	createToken(t, s, u.ID, domain.TokenPasswordReset, hashOf("once"), t0.Add(time.Hour))

	_, err := s.Tokens.Consume(ctx, domain.TokenPasswordReset, hashOf("once"), t0)
	require.NoError(t, err)
	_, err = s.Tokens.Consume(ctx, domain.TokenPasswordReset, hashOf("once"), t0)
	require.ErrorIs(t, err, domain.ErrNotFound)
	_, err = s.Tokens.Consume(ctx, domain.TokenPasswordReset, hashOf("never-issued"), t0)
	require.ErrorIs(t, err, domain.ErrNotFound)
}

func tokenConsumedOnceUnderConcurrency(t *testing.T, s domain.Stores) {
	u := createUser(t, s)
	createToken(t, s, u.ID, domain.TokenPasswordReset, hashOf("contested"), t0.Add(time.Hour))

	errs := race(concurrency, func(int) error {
		_, err := s.Tokens.Consume(context.Background(), domain.TokenPasswordReset, hashOf("contested"), t0)
		return err
	})
	require.Len(t, winners(t, errs, domain.ErrNotFound), 1, "exactly one consumption wins")
}

func tokenKindsDoNotMix(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	createToken(t, s, u.ID, domain.TokenEmailVerification, hashOf("verification"), t0.Add(time.Hour))

	_, err := s.Tokens.Consume(ctx, domain.TokenPasswordReset, hashOf("verification"), t0)
	require.ErrorIs(t, err, domain.ErrNotFound, "a verification token is no reset token")
	_, err = s.Tokens.Consume(ctx, domain.TokenEmailVerification, hashOf("verification"), t0)
	require.NoError(t, err, "the failed attempt with the wrong kind consumed nothing")
}

func tokenExpiredIsNotConsumed(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	expires := t0.Add(time.Hour)
	createToken(t, s, u.ID, domain.TokenPasswordReset, hashOf("at-expiry"), expires)
	createToken(t, s, u.ID, domain.TokenPasswordReset, hashOf("just-before"), expires)

	_, err := s.Tokens.Consume(ctx, domain.TokenPasswordReset, hashOf("at-expiry"), expires)
	require.ErrorIs(t, err, domain.ErrNotFound, "a token is expired at its expiry instant")
	_, err = s.Tokens.Consume(ctx, domain.TokenPasswordReset, hashOf("just-before"), expires.Add(-time.Microsecond))
	require.NoError(t, err, "a token is live until its expiry instant")
}

func tokenUnknownUserRejected(t *testing.T, s domain.Stores) {
	_, err := s.Tokens.Create(context.Background(), domain.Token{
		UserID: "0190d6a4-8e2b-7c3d-9f00-000000000000", Kind: domain.TokenPasswordReset,
		Hash: hashOf("orphan"), ExpiresAt: t0.Add(time.Hour), CreatedAt: t0,
	})
	require.ErrorIs(t, err, domain.ErrNotFound)
}

func tokenInvalidKindRejected(t *testing.T, s domain.Stores) {
	u := createUser(t, s)
	_, err := s.Tokens.Create(context.Background(), domain.Token{
		UserID: u.ID, Hash: hashOf("kindless"), ExpiresAt: t0.Add(time.Hour), CreatedAt: t0,
	})
	require.ErrorIs(t, err, domain.ErrInvalidTokenKind)
}

func tokenDeleteByUser(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	other := createUser(t, s)
	createToken(t, s, u.ID, domain.TokenPasswordReset, hashOf("reset-1"), t0.Add(time.Hour))
	createToken(t, s, u.ID, domain.TokenPasswordReset, hashOf("reset-2"), t0.Add(time.Hour))
	createToken(t, s, u.ID, domain.TokenEmailVerification, hashOf("verify"), t0.Add(time.Hour))
	createToken(t, s, other.ID, domain.TokenPasswordReset, hashOf("other-reset"), t0.Add(time.Hour))

	n, err := s.Tokens.DeleteByUser(ctx, u.ID, domain.TokenPasswordReset)
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	for _, name := range []string{"reset-1", "reset-2"} {
		_, err = s.Tokens.Consume(ctx, domain.TokenPasswordReset, hashOf(name), t0)
		require.ErrorIs(t, err, domain.ErrNotFound, name)
	}
	_, err = s.Tokens.Consume(ctx, domain.TokenEmailVerification, hashOf("verify"), t0)
	require.NoError(t, err, "tokens of another kind survive")
	_, err = s.Tokens.Consume(ctx, domain.TokenPasswordReset, hashOf("other-reset"), t0)
	require.NoError(t, err, "other users' tokens survive")
}

func tokenDeleteExpiredInBatches(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	for _, name := range []string{"old-1", "old-2", "old-3", "old-4", "old-5"} {
		createToken(t, s, u.ID, domain.TokenEmailVerification, hashOf(name), t0.Add(-time.Minute))
	}
	createToken(t, s, u.ID, domain.TokenEmailVerification, hashOf("expires-now"), t0)
	createToken(t, s, u.ID, domain.TokenEmailVerification, hashOf("live"), t0.Add(time.Minute))

	n, err := s.Tokens.DeleteExpired(ctx, t0, 0)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "a limit of zero deletes nothing")

	var counts []int
	for {
		n, err := s.Tokens.DeleteExpired(ctx, t0, 2)
		require.NoError(t, err)
		counts = append(counts, n)
		if n < 2 {
			break
		}
	}
	assert.Equal(t, []int{2, 2, 2, 0}, counts, "six expired tokens go in batches of at most two")

	got, err := s.Tokens.Consume(ctx, domain.TokenEmailVerification, hashOf("live"), t0)
	require.NoError(t, err, "a live token survives pruning")
	assert.Equal(t, hashOf("live"), got.Hash)
}

func tokenFindDoesNotConsume(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	created := createToken(t, s, u.ID, domain.TokenPasswordReset, hashOf("peek"), t0.Add(time.Hour))

	for range 2 {
		got, err := s.Tokens.Find(ctx, domain.TokenPasswordReset, hashOf("peek"), t0)
		require.NoError(t, err)
		assert.Equal(t, created.ID, got.ID)
		assert.Equal(t, u.ID, got.UserID)
	}
	_, err := s.Tokens.Find(ctx, domain.TokenEmailVerification, hashOf("peek"), t0)
	require.ErrorIs(t, err, domain.ErrNotFound, "another kind")
	_, err = s.Tokens.Find(ctx, domain.TokenPasswordReset, hashOf("peek"), t0.Add(time.Hour))
	require.ErrorIs(t, err, domain.ErrNotFound, "expired at its expiry instant")
	_, err = s.Tokens.Find(ctx, domain.TokenPasswordReset, hashOf("unknown"), t0)
	require.ErrorIs(t, err, domain.ErrNotFound, "unknown")

	_, err = s.Tokens.Consume(ctx, domain.TokenPasswordReset, hashOf("peek"), t0)
	require.NoError(t, err, "finding it left it to consume")
	_, err = s.Tokens.Find(ctx, domain.TokenPasswordReset, hashOf("peek"), t0)
	require.ErrorIs(t, err, domain.ErrNotFound, "a consumed token is gone")
}

// tokenMethodsRoundTrip stores an MFA challenge with methods and a
// recovery code with none, and reads each back every way a token is read:
// the methods come back as they were written, in their order, and none as
// nil.
func tokenMethodsRoundTrip(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	for name, tc := range map[string]struct {
		kind    domain.TokenKind
		methods []domain.AuthMethod
	}{
		"challenge": {domain.TokenMFAChallenge, []domain.AuthMethod{domain.AuthPassword, domain.AuthOTP}},
		"recovery":  {domain.TokenRecoveryCode, nil},
	} {
		written := slices.Clone(tc.methods)
		created, err := s.Tokens.Create(ctx, domain.Token{
			UserID: u.ID, Kind: tc.kind, Hash: hashOf(name), Methods: written,
			ExpiresAt: t0.Add(tc.kind.TTL()), CreatedAt: t0,
		})
		require.NoError(t, err, name)
		assert.Equal(t, tc.methods, created.Methods, "%s: Create", name)
		if len(written) > 0 {
			written[0] = domain.AuthMethod{} // the store keeps its own copy
		}

		found, err := s.Tokens.Find(ctx, tc.kind, hashOf(name), t0)
		require.NoError(t, err, name)
		assert.Equal(t, tc.methods, found.Methods, "%s: Find", name)
		if len(found.Methods) > 0 {
			found.Methods[0] = domain.AuthMethod{} // nor does it share it with readers
		}
		consumed, err := s.Tokens.Consume(ctx, tc.kind, hashOf(name), t0)
		require.NoError(t, err, name)
		assert.Equal(t, created.ID, consumed.ID, name)
		assert.Equal(t, tc.kind, consumed.Kind, name)
		assert.Equal(t, tc.methods, consumed.Methods, "%s: Consume", name)
	}
}

// tokenZeroMethodRejected checks that the zero AuthMethod, which names
// nothing, is refused rather than stored as a method no read understands.
func tokenZeroMethodRejected(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	_, err := s.Tokens.Create(ctx, domain.Token{
		UserID: u.ID, Kind: domain.TokenMFAChallenge, Hash: hashOf("zero"),
		Methods:   []domain.AuthMethod{domain.AuthPassword, {}},
		ExpiresAt: t0.Add(time.Minute), CreatedAt: t0,
	})
	require.ErrorIs(t, err, domain.ErrInvalidAuthMethod)
	_, err = s.Tokens.Find(ctx, domain.TokenMFAChallenge, hashOf("zero"), t0)
	require.ErrorIs(t, err, domain.ErrNotFound, "the refused token was not stored")
}

// tokenDataRoundTrip: a token's data reads back as written, from Find and
// from Consume, as a copy the caller may change; none reads back as nil.
func tokenDataRoundTrip(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	data := []byte(`{"challenge":"c2lnbiBtZQ"}` + "\x00\xff")
	_, err := s.Tokens.Create(ctx, domain.Token{
		UserID: u.ID, Kind: domain.TokenPasskeyRegistration, Hash: hashOf("ceremony"), Data: data,
		ExpiresAt: t0.Add(5 * time.Minute), CreatedAt: t0,
	})
	require.NoError(t, err)
	data[0] = 'X'

	found, err := s.Tokens.Find(ctx, domain.TokenPasskeyRegistration, hashOf("ceremony"), t0)
	require.NoError(t, err)
	assert.Equal(t, []byte(`{"challenge":"c2lnbiBtZQ"}`+"\x00\xff"), found.Data, "the store kept its own copy")
	found.Data[0] = 'Y'
	got, err := s.Tokens.Consume(ctx, domain.TokenPasskeyRegistration, hashOf("ceremony"), t0)
	require.NoError(t, err)
	assert.Equal(t, []byte(`{"challenge":"c2lnbiBtZQ"}`+"\x00\xff"), got.Data, "Find handed out a copy")

	plain := createToken(t, s, u.ID, domain.TokenPasswordReset, hashOf("no data"), t0.Add(time.Hour))
	assert.Nil(t, plain.Data)
	got, err = s.Tokens.Consume(ctx, domain.TokenPasswordReset, hashOf("no data"), t0)
	require.NoError(t, err)
	assert.Nil(t, got.Data, "no data reads back as nil")
}

// tokenOfNoUser: a token with no user (a passwordless ceremony) is stored,
// found and consumed once like any other; deleting a user's tokens, or a
// user, leaves it alone, and it still expires.
func tokenOfNoUser(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	created, err := s.Tokens.Create(ctx, domain.Token{
		Kind: domain.TokenPasskeySignIn, Hash: hashOf("nobody's"), Data: []byte("state"),
		ExpiresAt: t0.Add(5 * time.Minute), CreatedAt: t0,
	})
	require.NoError(t, err)
	assert.Empty(t, created.UserID)
	_, err = s.Tokens.Create(ctx, domain.Token{
		Kind: domain.TokenPasskeySignIn, Hash: hashOf("expired nobody's"),
		ExpiresAt: t0.Add(time.Minute), CreatedAt: t0,
	})
	require.NoError(t, err)

	u := createUser(t, s)
	n, err := s.Tokens.DeleteByUser(ctx, "", domain.TokenPasskeySignIn)
	require.NoError(t, err)
	assert.Zero(t, n, "the empty user ID names no user's tokens")
	require.NoError(t, s.Users.Delete(ctx, u.ID))

	found, err := s.Tokens.Find(ctx, domain.TokenPasskeySignIn, hashOf("nobody's"), t0)
	require.NoError(t, err)
	assert.Empty(t, found.UserID)
	assert.Equal(t, []byte("state"), found.Data)
	_, err = s.Tokens.Consume(ctx, domain.TokenPasskeySignIn, hashOf("nobody's"), t0)
	require.NoError(t, err)
	_, err = s.Tokens.Consume(ctx, domain.TokenPasskeySignIn, hashOf("nobody's"), t0)
	require.ErrorIs(t, err, domain.ErrNotFound, "consumed once")

	n, err = s.Tokens.DeleteExpired(ctx, t0.Add(time.Minute), 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "a token of no user expires too")
}
