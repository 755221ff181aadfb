package contract

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// RunTransactor runs the Transactor suite against the stores newSubject
// makes.
func RunTransactor(t *testing.T, newSubject NewSubject) {
	cases := map[string]func(t *testing.T, sub Subject){
		"CommitKeepsEveryWrite":       txCommitKeepsEveryWrite,
		"ErrorRollsBackAcrossStores":  txErrorRollsBackAcrossStores,
		"PanicRollsBackAndPropagates": txPanicRollsBackAndPropagates,
		"RollbackRestoresDeletes":     txRollbackRestoresDeletes,
		"ReadsSeeOwnWrites":           txReadsSeeOwnWrites,
		"ConcurrentUnitsOfWork":       txConcurrentUnitsOfWork,
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, newSubject(t))
		})
	}
}

var errAbort = errors.New("contract: abort the unit of work")

// writeAcrossStores creates a user with a token and a session inside tx.
func writeAcrossStores(ctx context.Context, tx domain.Stores, email, prefix string) error {
	u, err := tx.Users.Create(ctx, domain.User{Email: email, PasswordHash: "h", Tier: domain.TierFree, CreatedAt: t0, UpdatedAt: t0})
	if err != nil {
		return err
	}
	if _, err := tx.Tokens.Create(ctx, domain.Token{
		UserID: u.ID, Kind: domain.TokenEmailVerification, Hash: hashOf(prefix + "-token"), ExpiresAt: t0.Add(time.Hour), CreatedAt: t0,
	}); err != nil {
		return err
	}
	_, err = tx.Sessions.Create(ctx, domain.Session{
		UserID: u.ID, TokenHash: hashOf(prefix + "-refresh"), CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour),
	})
	return err
}

// requireNothingFrom fails if any write of writeAcrossStores survived.
func requireNothingFrom(t *testing.T, s domain.Stores, email, prefix string) {
	t.Helper()
	ctx := context.Background()
	_, err := s.Users.ByEmail(ctx, email)
	require.ErrorIs(t, err, domain.ErrNotFound, "the user was rolled back")
	_, err = s.Tokens.Consume(ctx, domain.TokenEmailVerification, hashOf(prefix+"-token"), t0)
	require.ErrorIs(t, err, domain.ErrNotFound, "the token was rolled back")
	_, err = s.Sessions.ByTokenHash(ctx, hashOf(prefix+"-refresh"))
	require.ErrorIs(t, err, domain.ErrNotFound, "the session was rolled back")
}

func txCommitKeepsEveryWrite(t *testing.T, sub Subject) {
	ctx := context.Background()
	email := newEmail()
	require.NoError(t, sub.Transactor.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		return writeAcrossStores(ctx, tx, email, "commit")
	}))

	u, err := sub.Stores.Users.ByEmail(ctx, email)
	require.NoError(t, err)
	tok, err := sub.Stores.Tokens.Consume(ctx, domain.TokenEmailVerification, hashOf("commit-token"), t0)
	require.NoError(t, err)
	assert.Equal(t, u.ID, tok.UserID)
	sess, err := sub.Stores.Sessions.ByTokenHash(ctx, hashOf("commit-refresh"))
	require.NoError(t, err)
	assert.Equal(t, u.ID, sess.UserID)
}

func txErrorRollsBackAcrossStores(t *testing.T, sub Subject) {
	ctx := context.Background()
	email := newEmail()
	err := sub.Transactor.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		if err := writeAcrossStores(ctx, tx, email, "rollback"); err != nil {
			return err
		}
		return fmt.Errorf("later step failed: %w", errAbort)
	})
	require.ErrorIs(t, err, errAbort, "InTx passes on fn's error")
	requireNothingFrom(t, sub.Stores, email, "rollback")
}

func txPanicRollsBackAndPropagates(t *testing.T, sub Subject) {
	ctx := context.Background()
	email := newEmail()
	require.PanicsWithValue(t, "boom", func() {
		_ = sub.Transactor.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
			if err := writeAcrossStores(ctx, tx, email, "panic"); err != nil {
				return err
			}
			panic("boom")
		})
	})
	requireNothingFrom(t, sub.Stores, email, "panic")

	// The store still works after a panicking unit of work.
	createUser(t, sub.Stores)
}

func txRollbackRestoresDeletes(t *testing.T, sub Subject) {
	ctx := context.Background()
	u := createUser(t, sub.Stores)
	sess := createSession(t, sub.Stores, u.ID, hashOf("survivor"), t0.Add(time.Hour))
	createToken(t, sub.Stores, u.ID, domain.TokenPasswordReset, hashOf("survivor-token"), t0.Add(time.Hour))
	factor := createFactor(t, sub.Stores, u.ID, "survivor-factor")

	err := sub.Transactor.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		if err := tx.Factors.AcceptStep(ctx, factor.ID, 1, t0); err != nil {
			return err
		}
		if _, err := tx.Tokens.Consume(ctx, domain.TokenPasswordReset, hashOf("survivor-token"), t0); err != nil {
			return err
		}
		if _, _, err := tx.Sessions.Rotate(ctx, domain.Rotation{
			PresentedHash: hashOf("survivor"), NextHash: hashOf("survivor-2"), Now: t0, ExpiresAt: t0.Add(time.Hour),
		}); err != nil {
			return err
		}
		if err := tx.Users.Delete(ctx, u.ID); err != nil {
			return err
		}
		return errAbort
	})
	require.ErrorIs(t, err, errAbort)

	_, err = sub.Stores.Users.ByID(ctx, u.ID)
	require.NoError(t, err, "the deleted user is back")
	got, err := sub.Stores.Sessions.ByID(ctx, sess.ID)
	require.NoError(t, err, "its session is back")
	assert.Equal(t, hashOf("survivor"), got.TokenHash, "the rotation was rolled back")
	_, err = sub.Stores.Sessions.ByRotatedHash(ctx, hashOf("survivor"))
	require.ErrorIs(t, err, domain.ErrNotFound, "no rotated hash was recorded")
	_, err = sub.Stores.Tokens.Consume(ctx, domain.TokenPasswordReset, hashOf("survivor-token"), t0)
	require.NoError(t, err, "the consumed token is back")
	requireSameFactor(t, factor, onlyFactor(t, sub.Stores, u.ID), "the factor is back, its step unaccepted")
}

func txReadsSeeOwnWrites(t *testing.T, sub Subject) {
	ctx := context.Background()
	email := newEmail()
	require.NoError(t, sub.Transactor.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		created, err := tx.Users.Create(ctx, domain.User{Email: email, Tier: domain.TierFree, CreatedAt: t0, UpdatedAt: t0})
		if err != nil {
			return err
		}
		got, err := tx.Users.ByEmail(ctx, email)
		if err != nil {
			return err
		}
		if got.ID != created.ID {
			return fmt.Errorf("read %s inside the unit of work, want %s", got.ID, created.ID)
		}
		return nil
	}))
}

func txConcurrentUnitsOfWork(t *testing.T, sub Subject) {
	ctx := context.Background()
	shared := newEmail()
	errs := race(concurrency, func(i int) error {
		return sub.Transactor.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
			return writeAcrossStores(ctx, tx, shared, fmt.Sprint("concurrent-", i))
		})
	})
	won := winners(t, errs, domain.ErrEmailTaken)
	require.Len(t, won, 1, "exactly one unit of work claims the email")

	for i := range concurrency {
		prefix := fmt.Sprint("concurrent-", i)
		if i == won[0] {
			_, err := sub.Stores.Sessions.ByTokenHash(ctx, hashOf(prefix+"-refresh"))
			require.NoError(t, err, "the winner's writes are all kept")
			continue
		}
		_, err := sub.Stores.Sessions.ByTokenHash(ctx, hashOf(prefix+"-refresh"))
		require.ErrorIs(t, err, domain.ErrNotFound, "a loser left nothing behind")
	}
}
