package contract

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// RunUserStore runs the UserStore suite against the stores newSubject makes.
func RunUserStore(t *testing.T, newSubject NewSubject) {
	cases := map[string]func(t *testing.T, s domain.Stores){
		"CreateThenRead":                    userCreateThenRead,
		"EmailIsNormalised":                 userEmailIsNormalised,
		"DuplicateEmailInOtherCaseRejected": userDuplicateEmailRejected,
		"AnonymousUsersHaveNoEmail":         userAnonymousUsersHaveNoEmail,
		"InvalidTierRejected":               userInvalidTierRejected,
		"NotFound":                          userNotFound,
		"Update":                            userUpdate,
		"UpdateToTakenEmailRejected":        userUpdateToTakenEmailRejected,
		"UpgradeAnonymousInPlace":           userUpgradeAnonymousInPlace,
		"DeleteCascades":                    userDeleteCascades,
		"ConcurrentCreateOneEmail":          userConcurrentCreateOneEmail,
		"ConcurrentReadsByID":               userConcurrentReadsByID,
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, newSubject(t).Stores)
		})
	}
}

func userCreateThenRead(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	in := domain.User{
		Email: "ada@example.com", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		EmailVerified: true, Tier: domain.TierMember, CreatedAt: t0, UpdatedAt: t0.Add(1),
	}
	created, err := s.Users.Create(ctx, in)
	require.NoError(t, err)
	require.NotEmpty(t, created.ID)

	for name, get := range map[string]func() (domain.User, error){
		"ByID":    func() (domain.User, error) { return s.Users.ByID(ctx, created.ID) },
		"ByEmail": func() (domain.User, error) { return s.Users.ByEmail(ctx, "ada@example.com") },
	} {
		got, err := get()
		require.NoError(t, err, name)
		assert.Equal(t, created.ID, got.ID, name)
		assert.Equal(t, in.Email, got.Email, name)
		assert.Equal(t, in.PasswordHash, got.PasswordHash, name)
		assert.True(t, got.EmailVerified, name)
		assert.Equal(t, domain.TierMember, got.Tier, name)
		requireSameTime(t, t0, got.CreatedAt, name+" CreatedAt")
		requireSameTime(t, t0, got.UpdatedAt, name+" UpdatedAt")
	}
}

func userEmailIsNormalised(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u, err := s.Users.Create(ctx, domain.User{
		Email: "  Grace.Hopper@Example.COM ", PasswordHash: "h", Tier: domain.TierFree, CreatedAt: t0, UpdatedAt: t0,
	})
	require.NoError(t, err)
	assert.Equal(t, "grace.hopper@example.com", u.Email)

	got, err := s.Users.ByEmail(ctx, "GRACE.HOPPER@example.com")
	require.NoError(t, err)
	assert.Equal(t, u.ID, got.ID)
	assert.Equal(t, "grace.hopper@example.com", got.Email)
}

func userDuplicateEmailRejected(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	first, err := s.Users.Create(ctx, domain.User{
		Email: "linus@example.com", PasswordHash: "first", Tier: domain.TierFree, CreatedAt: t0, UpdatedAt: t0,
	})
	require.NoError(t, err)

	_, err = s.Users.Create(ctx, domain.User{
		Email: "Linus@EXAMPLE.com", PasswordHash: "second", Tier: domain.TierMember, CreatedAt: t0, UpdatedAt: t0,
	})
	require.ErrorIs(t, err, domain.ErrEmailTaken)

	got, err := s.Users.ByEmail(ctx, "linus@example.com")
	require.NoError(t, err)
	assert.Equal(t, first.ID, got.ID, "the first user keeps the email")
	assert.Equal(t, "first", got.PasswordHash, "the rejected create changed nothing")
}

func userAnonymousUsersHaveNoEmail(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	var ids []domain.UserID
	for range 2 {
		u, err := s.Users.Create(ctx, domain.User{Tier: domain.TierAnonymous, CreatedAt: t0, UpdatedAt: t0})
		require.NoError(t, err, "many anonymous users may exist at once")
		ids = append(ids, u.ID)
	}
	require.NotEqual(t, ids[0], ids[1])
	got, err := s.Users.ByID(ctx, ids[1])
	require.NoError(t, err)
	assert.Empty(t, got.Email)
	assert.Empty(t, got.PasswordHash)
	assert.Equal(t, domain.TierAnonymous, got.Tier)

	_, err = s.Users.ByEmail(ctx, "")
	require.ErrorIs(t, err, domain.ErrNotFound, "an empty email finds no anonymous user")
}

func userInvalidTierRejected(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	_, err := s.Users.Create(ctx, domain.User{Email: newEmail(), PasswordHash: "h", CreatedAt: t0, UpdatedAt: t0})
	require.ErrorIs(t, err, domain.ErrInvalidTier)

	u := createUser(t, s)
	u.Tier = domain.Tier{}
	_, err = s.Users.Update(ctx, u)
	require.ErrorIs(t, err, domain.ErrInvalidTier)
	got, err := s.Users.ByID(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, domain.TierFree, got.Tier)
}

func userNotFound(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	createUser(t, s)
	for _, id := range []domain.UserID{"0190d6a4-8e2b-7c3d-9f00-000000000000", "not-an-id", ""} {
		_, err := s.Users.ByID(ctx, id)
		require.ErrorIs(t, err, domain.ErrNotFound, "ByID(%q)", id)
		_, err = s.Users.Update(ctx, domain.User{ID: id, Email: newEmail(), Tier: domain.TierFree, UpdatedAt: t0})
		require.ErrorIs(t, err, domain.ErrNotFound, "Update(%q)", id)
		require.ErrorIs(t, s.Users.Delete(ctx, id), domain.ErrNotFound, "Delete(%q)", id)
	}
	_, err := s.Users.ByEmail(ctx, "nobody@example.com")
	require.ErrorIs(t, err, domain.ErrNotFound)
}

func userUpdate(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	other := createUser(t, s)

	u.Email = " New.Address@Example.com"
	u.PasswordHash = "rehashed"
	u.EmailVerified = true
	u.Tier = domain.TierMember
	u.UpdatedAt = t0.Add(time.Hour)
	u.CreatedAt = t0.Add(48 * time.Hour) // must be ignored: creation time is fixed
	updated, err := s.Users.Update(ctx, u)
	require.NoError(t, err)
	assert.Equal(t, "new.address@example.com", updated.Email)

	got, err := s.Users.ByID(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, "new.address@example.com", got.Email)
	assert.Equal(t, "rehashed", got.PasswordHash)
	assert.True(t, got.EmailVerified)
	assert.Equal(t, domain.TierMember, got.Tier)
	requireSameTime(t, t0.Add(time.Hour), got.UpdatedAt, "UpdatedAt")
	requireSameTime(t, t0, got.CreatedAt, "CreatedAt")

	untouched, err := s.Users.ByID(ctx, other.ID)
	require.NoError(t, err)
	assert.Equal(t, other.Email, untouched.Email, "updating one user leaves others alone")
	assert.Equal(t, domain.TierFree, untouched.Tier)
}

func userUpdateToTakenEmailRejected(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	a := createUser(t, s)
	b := createUser(t, s)
	b.Email = strings.ToUpper(a.Email)
	_, err := s.Users.Update(ctx, b)
	require.ErrorIs(t, err, domain.ErrEmailTaken)
}

func userUpgradeAnonymousInPlace(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	anon, err := s.Users.Create(ctx, domain.User{Tier: domain.TierAnonymous, CreatedAt: t0, UpdatedAt: t0})
	require.NoError(t, err)

	anon.Email = "upgraded@example.com"
	anon.PasswordHash = "h"
	anon.Tier = domain.TierFree
	anon.UpdatedAt = t0.Add(time.Minute)
	_, err = s.Users.Update(ctx, anon)
	require.NoError(t, err)

	got, err := s.Users.ByEmail(ctx, "upgraded@example.com")
	require.NoError(t, err)
	assert.Equal(t, anon.ID, got.ID, "the upgrade keeps the user's id")
	assert.Equal(t, domain.TierFree, got.Tier)
}

func userDeleteCascades(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	keep := createUser(t, s)
	createToken(t, s, u.ID, domain.TokenPasswordReset, hashOf("gone-token"), t0.Add(time.Hour))
	sess := createSession(t, s, u.ID, hashOf("gone-refresh-1"), t0.Add(time.Hour))
	_, _, err := s.Sessions.Rotate(ctx, domain.Rotation{
		PresentedHash: hashOf("gone-refresh-1"), NextHash: hashOf("gone-refresh-2"), Now: t0, ExpiresAt: t0.Add(time.Hour),
	})
	require.NoError(t, err)
	factor := createFactor(t, s, u.ID, "gone-factor")
	createToken(t, s, keep.ID, domain.TokenPasswordReset, hashOf("kept-token"), t0.Add(time.Hour))
	kept := createSession(t, s, keep.ID, hashOf("kept-refresh"), t0.Add(time.Hour))
	keptFactor := createFactor(t, s, keep.ID, "kept-factor")

	require.NoError(t, s.Users.Delete(ctx, u.ID))

	_, err = s.Users.ByID(ctx, u.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)
	_, err = s.Tokens.Consume(ctx, domain.TokenPasswordReset, hashOf("gone-token"), t0)
	require.ErrorIs(t, err, domain.ErrNotFound, "the user's tokens are gone")
	_, err = s.Sessions.ByID(ctx, sess.ID)
	require.ErrorIs(t, err, domain.ErrNotFound, "the user's sessions are gone")
	_, err = s.Sessions.ByRotatedHash(ctx, hashOf("gone-refresh-1"))
	require.ErrorIs(t, err, domain.ErrNotFound, "the sessions' rotated hashes are gone")
	factors, err := s.Factors.ByUser(ctx, u.ID)
	require.NoError(t, err)
	assert.Empty(t, factors, "the user's factors are gone")
	require.ErrorIs(t, s.Factors.AcceptStep(ctx, factor.ID, 1, t0), domain.ErrNotFound, "the user's factor is gone by its ID too")
	require.ErrorIs(t, s.Users.Delete(ctx, u.ID), domain.ErrNotFound, "a second delete finds nothing")

	_, err = s.Users.Create(ctx, domain.User{Email: u.Email, PasswordHash: "h", Tier: domain.TierFree, CreatedAt: t0, UpdatedAt: t0})
	require.NoError(t, err, "the email can register again")

	_, err = s.Tokens.Consume(ctx, domain.TokenPasswordReset, hashOf("kept-token"), t0)
	require.NoError(t, err, "other users' tokens survive")
	_, err = s.Sessions.ByID(ctx, kept.ID)
	require.NoError(t, err, "other users' sessions survive")
	requireSameFactor(t, keptFactor, onlyFactor(t, s, keep.ID), "other users' factors survive")
}

func userConcurrentCreateOneEmail(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	errs := race(concurrency, func(i int) error {
		email := "race@example.com"
		if i%2 == 1 {
			email = "RACE@example.com"
		}
		_, err := s.Users.Create(ctx, domain.User{Email: email, PasswordHash: "h", Tier: domain.TierFree, CreatedAt: t0, UpdatedAt: t0})
		return err
	})
	require.Len(t, winners(t, errs, domain.ErrEmailTaken), 1, "exactly one create wins")
}

// userConcurrentReadsByID reads many users at once, some of them missing
// and one deleted just before, as concurrent requests do: each read gets
// its own user, or ErrNotFound.
func userConcurrentReadsByID(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	const users = 10
	created := make([]domain.User, users)
	for i := range created {
		created[i] = createUser(t, s)
	}
	gone := createUser(t, s)
	require.NoError(t, s.Users.Delete(ctx, gone.ID))

	missing := []domain.UserID{gone.ID, "0190d6a4-8e2b-7c3d-9f00-000000000000"}
	got := make([]domain.User, concurrency)
	errs := race(concurrency, func(i int) error {
		id := created[i%users].ID
		if i%7 == 6 {
			id = missing[i%2]
		}
		var err error
		got[i], err = s.Users.ByID(ctx, id)
		return err
	})
	for i, err := range errs {
		if i%7 == 6 {
			require.ErrorIs(t, err, domain.ErrNotFound, "read %d names no user", i)
			continue
		}
		require.NoError(t, err, "read %d", i)
		assert.Equal(t, created[i%users], got[i], "read %d", i)
	}
}
