package memstore_test

import (
	"context"
	"errors"
	"fmt"
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
		return contract.Subject{Stores: s.Stores(), Transactor: s, Keys: s.Keys(), RateLimits: s.RateLimits(), Locker: s.Locker()}
	})
}

// TestKeysOutsideUnitsOfWork checks that the key store, which belongs to no
// unit of work, works inside one with the context handed to fn (where the
// outer stores refuse), and that rolling the unit of work back keeps the
// key it added.
func TestKeysOutsideUnitsOfWork(t *testing.T) {
	s := memstore.New()
	errRollBack := errors.New("roll back")
	key := domain.SigningKey{
		ID: "kid-1", Algorithm: "ES256", PublicKey: []byte{1}, EncryptedPrivateKey: []byte{2},
		CreatedAt: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC),
	}

	err := s.InTx(context.Background(), func(ctx context.Context, _ domain.Stores) error {
		if err := s.Keys().Add(ctx, key); err != nil {
			return err
		}
		keys, err := s.Keys().List(ctx)
		if err != nil {
			return err
		}
		if len(keys) != 1 {
			return errors.New("the key added inside the unit of work is not listed there")
		}
		return errRollBack
	})
	require.ErrorIs(t, err, errRollBack)

	keys, err := s.Keys().List(context.Background())
	require.NoError(t, err)
	require.Len(t, keys, 1, "the key outlived the unit of work it was added in")
	require.Equal(t, "kid-1", keys[0].ID)
}

// TestRateLimitsOutsideUnitsOfWork checks that the rate-limit store, which
// belongs to no unit of work, works inside one with the context handed to
// fn, and that rolling the unit of work back keeps the hits counted there.
func TestRateLimitsOutsideUnitsOfWork(t *testing.T) {
	s := memstore.New()
	errRollBack := errors.New("roll back")
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

	err := s.InTx(context.Background(), func(ctx context.Context, _ domain.Stores) error {
		for want := 1; want <= 2; want++ {
			count, _, err := s.RateLimits().Hit(ctx, "login:192.0.2.7", time.Minute, now)
			if err != nil {
				return err
			}
			if count != want {
				return fmt.Errorf("hit %d inside the unit of work counted %d", want, count)
			}
		}
		return errRollBack
	})
	require.ErrorIs(t, err, errRollBack)

	count, _, err := s.RateLimits().Hit(context.Background(), "login:192.0.2.7", time.Minute, now)
	require.NoError(t, err)
	require.Equal(t, 3, count, "the hits outlived the unit of work they were counted in")
}
