package contract

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// RunFactorStore runs the FactorStore suite against the stores newSubject
// makes.
func RunFactorStore(t *testing.T, newSubject NewSubject) {
	cases := map[string]func(t *testing.T, s domain.Stores){
		"CreateThenRead":                 factorCreateThenRead,
		"OneOfAKindPerUser":              factorOneOfAKindPerUser,
		"UnknownUserRejected":            factorUnknownUserRejected,
		"InvalidKindRejected":            factorInvalidKindRejected,
		"ByUserOfNoFactors":              factorByUserOfNoFactors,
		"AcceptStep":                     factorAcceptStep,
		"AcceptStepNotFound":             factorAcceptStepNotFound,
		"AcceptStepOnceUnderConcurrency": factorAcceptStepOnceUnderConcurrency,
		"Delete":                         factorDelete,
		"DeleteByUser":                   factorDeleteByUser,
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, newSubject(t).Stores)
		})
	}
}

// createFactor stores an unverified TOTP factor of user with secret.
func createFactor(t *testing.T, s domain.Stores, user domain.UserID, secret string) domain.Factor {
	t.Helper()
	f, err := s.Factors.Create(context.Background(), domain.Factor{
		UserID: user, Kind: domain.FactorTOTP, Secret: []byte(secret), CreatedAt: t0,
	})
	require.NoError(t, err)
	require.NotEmpty(t, f.ID)
	return f
}

// onlyFactor returns the one factor of user, failing t unless it has
// exactly one.
func onlyFactor(t *testing.T, s domain.Stores, user domain.UserID) domain.Factor {
	t.Helper()
	factors, err := s.Factors.ByUser(context.Background(), user)
	require.NoError(t, err)
	require.Len(t, factors, 1)
	return factors[0]
}

// requireSameFactor fails unless got is want as stored: the same fields,
// times as the same instants.
func requireSameFactor(t *testing.T, want, got domain.Factor, msg string) {
	t.Helper()
	assert.Equal(t, want.ID, got.ID, msg)
	assert.Equal(t, want.UserID, got.UserID, msg)
	assert.Equal(t, want.Kind, got.Kind, msg)
	assert.Equal(t, want.Secret, got.Secret, msg)
	assert.Equal(t, want.LastStep, got.LastStep, msg)
	requireSameTime(t, want.CreatedAt, got.CreatedAt, msg+" CreatedAt")
	requireSameTime(t, want.VerifiedAt, got.VerifiedAt, msg+" VerifiedAt")
}

// factorCreateThenRead stores an enrolled factor and one stored verified
// and used, and reads each back as it was written; the store keeps its own
// copy of a secret and hands out copies.
func factorCreateThenRead(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	for name, in := range map[string]domain.Factor{
		"enrolled": {Kind: domain.FactorTOTP, Secret: []byte("sealed key"), CreatedAt: t0},
		"verified": {Kind: domain.FactorTOTP, Secret: []byte("another sealed key"), LastStep: 59_000_000,
			CreatedAt: t0, VerifiedAt: t0.Add(time.Minute)},
	} {
		u := createUser(t, s)
		in.UserID = u.ID
		written := in
		written.Secret = []byte(string(in.Secret))
		created, err := s.Factors.Create(ctx, written)
		require.NoError(t, err, name)
		require.NotEmpty(t, created.ID, name)
		in.ID = created.ID
		requireSameFactor(t, in, created, name+": Create")
		assert.Equal(t, !in.VerifiedAt.IsZero(), created.Verified(), name)
		written.Secret[0] = 'X' // the store keeps its own copy

		got := onlyFactor(t, s, u.ID)
		requireSameFactor(t, in, got, name+": ByUser")
		got.Secret[0] = 'Y' // nor does it share it with readers
		requireSameFactor(t, in, onlyFactor(t, s, u.ID), name+": ByUser again")
	}
}

// factorOneOfAKindPerUser: a user has at most one factor of a kind; the
// refused create changes nothing, and other users enrol alike.
func factorOneOfAKindPerUser(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	first := createFactor(t, s, u.ID, "first")

	_, err := s.Factors.Create(ctx, domain.Factor{
		UserID: u.ID, Kind: domain.FactorTOTP, Secret: []byte("second"), CreatedAt: t0.Add(time.Minute),
	})
	require.ErrorIs(t, err, domain.ErrFactorExists)
	requireSameFactor(t, first, onlyFactor(t, s, u.ID), "the first factor stays")

	other := createUser(t, s)
	theirs := createFactor(t, s, other.ID, "theirs")
	assert.NotEqual(t, first.ID, theirs.ID)
}

func factorUnknownUserRejected(t *testing.T, s domain.Stores) {
	for _, id := range []domain.UserID{"0190d6a4-8e2b-7c3d-9f00-000000000000", "not-an-id"} {
		_, err := s.Factors.Create(context.Background(), domain.Factor{
			UserID: id, Kind: domain.FactorTOTP, Secret: []byte("orphan"), CreatedAt: t0,
		})
		require.ErrorIs(t, err, domain.ErrNotFound, "Create for %q", id)
	}
}

func factorInvalidKindRejected(t *testing.T, s domain.Stores) {
	u := createUser(t, s)
	_, err := s.Factors.Create(context.Background(), domain.Factor{
		UserID: u.ID, Secret: []byte("kindless"), CreatedAt: t0,
	})
	require.ErrorIs(t, err, domain.ErrInvalidFactorKind)
	factors, err := s.Factors.ByUser(context.Background(), u.ID)
	require.NoError(t, err)
	assert.Empty(t, factors, "the refused factor was not stored")
}

// factorByUserOfNoFactors: a user without factors, or no user at all, has
// none, which is no error; other users' factors are not theirs.
func factorByUserOfNoFactors(t *testing.T, s domain.Stores) {
	u := createUser(t, s)
	createFactor(t, s, createUser(t, s).ID, "someone else's")
	for _, id := range []domain.UserID{u.ID, "0190d6a4-8e2b-7c3d-9f00-000000000000", "not-an-id", ""} {
		factors, err := s.Factors.ByUser(context.Background(), id)
		require.NoError(t, err, "ByUser(%q)", id)
		assert.Empty(t, factors, "ByUser(%q)", id)
	}
}

// factorAcceptStep: a step later than the last accepted one is accepted,
// and the first marks the factor verified; that step again, or an earlier
// one, is a replay that changes nothing; a later step is accepted and keeps
// the first verification time.
func factorAcceptStep(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	f := createFactor(t, s, u.ID, "key")
	require.False(t, f.Verified())

	require.NoError(t, s.Factors.AcceptStep(ctx, f.ID, 100, t0.Add(time.Minute)))
	got := onlyFactor(t, s, u.ID)
	assert.Equal(t, int64(100), got.LastStep)
	assert.True(t, got.Verified())
	requireSameTime(t, t0.Add(time.Minute), got.VerifiedAt, "VerifiedAt")

	for _, step := range []int64{100, 99, 0} {
		err := s.Factors.AcceptStep(ctx, f.ID, step, t0.Add(2*time.Minute))
		require.ErrorIs(t, err, domain.ErrCodeReplayed, "step %d after 100", step)
	}
	got = onlyFactor(t, s, u.ID)
	assert.Equal(t, int64(100), got.LastStep, "a replay changes nothing")
	requireSameTime(t, t0.Add(time.Minute), got.VerifiedAt, "VerifiedAt after a replay")

	require.NoError(t, s.Factors.AcceptStep(ctx, f.ID, 102, t0.Add(3*time.Minute)))
	got = onlyFactor(t, s, u.ID)
	assert.Equal(t, int64(102), got.LastStep)
	requireSameTime(t, t0.Add(time.Minute), got.VerifiedAt, "a factor stays verified since its first code")
	assert.Equal(t, []byte("key"), got.Secret, "accepting a step leaves the secret alone")
}

func factorAcceptStepNotFound(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	gone := createFactor(t, s, u.ID, "gone")
	require.NoError(t, s.Factors.Delete(ctx, gone.ID))
	for _, id := range []domain.FactorID{gone.ID, "0190d6a4-8e2b-7c3d-9f00-000000000000", "not-an-id", ""} {
		err := s.Factors.AcceptStep(ctx, id, 1, t0)
		require.ErrorIs(t, err, domain.ErrNotFound, "AcceptStep(%q)", id)
	}
}

// factorAcceptStepOnceUnderConcurrency presents one code (one step) from
// many goroutines at once: exactly one is accepted, the others are
// replays.
func factorAcceptStepOnceUnderConcurrency(t *testing.T, s domain.Stores) {
	u := createUser(t, s)
	f := createFactor(t, s, u.ID, "contested")

	errs := race(concurrency, func(i int) error {
		return s.Factors.AcceptStep(context.Background(), f.ID, 7, t0.Add(time.Duration(i)*time.Second))
	})
	won := winners(t, errs, domain.ErrCodeReplayed)
	require.Len(t, won, 1, "exactly one acceptance wins")
	got := onlyFactor(t, s, u.ID)
	assert.Equal(t, int64(7), got.LastStep)
	requireSameTime(t, t0.Add(time.Duration(won[0])*time.Second), got.VerifiedAt, "the winner verified the factor")
}

// factorDelete: a deleted factor is gone, a second delete finds nothing,
// and the user may enrol that kind again.
func factorDelete(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	f := createFactor(t, s, u.ID, "old key")
	kept := createFactor(t, s, createUser(t, s).ID, "kept")

	require.NoError(t, s.Factors.Delete(ctx, f.ID))
	factors, err := s.Factors.ByUser(ctx, u.ID)
	require.NoError(t, err)
	assert.Empty(t, factors)
	require.ErrorIs(t, s.Factors.Delete(ctx, f.ID), domain.ErrNotFound, "a second delete finds nothing")
	for _, id := range []domain.FactorID{"0190d6a4-8e2b-7c3d-9f00-000000000000", "not-an-id", ""} {
		require.ErrorIs(t, s.Factors.Delete(ctx, id), domain.ErrNotFound, "Delete(%q)", id)
	}

	again := createFactor(t, s, u.ID, "new key")
	assert.NotEqual(t, f.ID, again.ID)
	requireSameFactor(t, kept, onlyFactor(t, s, kept.UserID), "other users' factors survive")
}

func factorDeleteByUser(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	createFactor(t, s, u.ID, "mine")
	kept := createFactor(t, s, createUser(t, s).ID, "theirs")

	n, err := s.Factors.DeleteByUser(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	factors, err := s.Factors.ByUser(ctx, u.ID)
	require.NoError(t, err)
	assert.Empty(t, factors)

	n, err = s.Factors.DeleteByUser(ctx, u.ID)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing is left to delete")
	for _, id := range []domain.UserID{"0190d6a4-8e2b-7c3d-9f00-000000000000", "not-an-id"} {
		n, err = s.Factors.DeleteByUser(ctx, id)
		require.NoError(t, err, "DeleteByUser(%q)", id)
		assert.Zero(t, n, "DeleteByUser(%q)", id)
	}
	requireSameFactor(t, kept, onlyFactor(t, s, kept.UserID), "other users' factors survive")
}
