package memstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/memstore"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/contract"
)

func TestContract(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Subject {
		s := memstore.New()
		return contract.Subject{Stores: s.Stores(), Transactor: s, Standalone: s.Standalone()}
	})
}

// TestStandaloneOutlivesUnitsOfWork checks that what the standalone stores
// did before a unit of work survives its rollback: they belong to no unit
// of work, so InTx neither copies nor restores them.
func TestStandaloneOutlivesUnitsOfWork(t *testing.T) {
	s := memstore.New()
	st := s.Standalone()
	ctx := context.Background()
	errRollBack := errors.New("roll back")
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	require.NoError(t, st.Keys.Add(ctx, domain.SigningKey{
		ID: "kid-1", Algorithm: "ES256", PublicKey: []byte{1}, EncryptedPrivateKey: []byte{2}, CreatedAt: now,
	}))
	count, _, err := st.RateLimits.Hit(ctx, "login:192.0.2.7", time.Minute, now)
	require.NoError(t, err)
	require.Equal(t, 1, count)

	err = s.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		if _, err := tx.Users.Create(ctx, domain.User{Email: "ada@example.com", Tier: domain.TierFree, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		return errRollBack
	})
	require.ErrorIs(t, err, errRollBack)

	keys, err := st.Keys.List(ctx)
	require.NoError(t, err)
	require.Len(t, keys, 1, "the key added before the unit of work was rolled back with it")
	require.Equal(t, "kid-1", keys[0].ID)
	count, _, err = st.RateLimits.Hit(ctx, "login:192.0.2.7", time.Minute, now)
	require.NoError(t, err)
	require.Equal(t, 2, count, "the hit counted before the unit of work was rolled back with it")
}

// TestStandaloneRefusesOnlyItsOwnUnitsOfWork checks that the refusal names
// the store's own units of work: another Store's unit of work holds nothing
// this Store needs, so its context is no reason to refuse.
func TestStandaloneRefusesOnlyItsOwnUnitsOfWork(t *testing.T) {
	mine, other := memstore.New(), memstore.New()
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	var inMine, inOther error
	require.NoError(t, other.InTx(context.Background(), func(ctx context.Context, _ domain.Stores) error {
		_, _, inOther = mine.Standalone().RateLimits.Hit(ctx, "k", time.Minute, now)
		return nil
	}))
	require.NoError(t, mine.InTx(context.Background(), func(ctx context.Context, _ domain.Stores) error {
		_, _, inMine = mine.Standalone().RateLimits.Hit(ctx, "k", time.Minute, now)
		return nil
	}))
	require.NoError(t, inOther, "a hit inside another store's unit of work")
	require.ErrorIs(t, inMine, domain.ErrInsideUnitOfWork, "a hit inside the store's own unit of work")
	require.ErrorContains(t, inMine, "memstore: hit rate limit:", "the error names the operation")
}
